//! `padmin login` and `logout` (the signed-in user of a portal, `--portal`), and `whoami`
//! (who you act as, on any profile).

use super::common::{done, render};
use crate::session::{local_login, portal_sessions, sign_in_config, Session, UA};
use clap::Subcommand;
use client::signin::SessionStore;
use domain::error::Error;
use domain::Actor;
use portal::prelude::*;
use std::sync::Arc;

/// How long `login` waits for the browser to come back.
const SIGN_IN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Sign in to the portal given by --portal (OIDC in your browser; tokens go to the OS keychain).
    Login {
        /// Print the sign-in URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
    },
    /// Sign out of the portal: revoke the session at the identity provider and forget it.
    Logout,
    /// Who you act as (signed in at --portal, or the local admin on a database), and what your role allows.
    Whoami,
}

/// Signing in and out needs the portal's address; `whoami` opens a session like any command.
pub async fn run(
    db: Option<String>,
    portal: Option<&str>,
    json: bool,
    c: Cmd,
) -> Result<u8, Error> {
    if let Cmd::Whoami = c {
        return whoami(&Session::open(db, portal, json).await?).await;
    }
    let Some(url) = portal else {
        return Err(Error::invalid(
            "portal",
            "login and logout need the portal: --portal https://… (or PADMIN_PORTAL)",
        ));
    };
    match c {
        Cmd::Login { no_browser } => login(url, no_browser, json).await,
        Cmd::Logout => logout(url, json).await,
        Cmd::Whoami => unreachable!("handled above"),
    }
}

async fn login(url: &str, no_browser: bool, json: bool) -> Result<u8, Error> {
    let store = portal_sessions(url)?;
    let config = sign_in_config(url).await?;
    let pending = client::signin::begin(&config).await?;
    let link = pending.authorize_url.to_string();
    if no_browser || !client::os::open_in_browser(&link) {
        eprintln!("Open this address in your browser to sign in:\n\n  {link}\n");
    } else {
        eprintln!(
            "Signing in with {} in your browser…\n(if nothing opened: {link})",
            config.issuer
        );
    }
    let session = pending.finish(SIGN_IN_TIMEOUT).await?;
    store.save(&session)?;
    let tokens = Arc::new(client::signin::SignedIn::load(config, Arc::new(store))?);
    let me = client::RemotePortal::new(url, tokens)?
        .whoami(&Actor::local_admin(&local_login(), UA))
        .await?;
    render(json, &me, |me| {
        println!("Signed in to {url} as {} ({}).", me.name, me.role)
    })
}

async fn logout(url: &str, json: bool) -> Result<u8, Error> {
    let store = portal_sessions(url)?;
    // When the portal cannot be reached, the session is still forgotten here (not revoked).
    let config = sign_in_config(url).await.ok();
    let report = client::signin::sign_out(config.as_ref(), &store).await?;
    render(json, &report, |r| {
        if !r.deleted {
            println!("You were not signed in to {url}.");
        } else if r.revoked {
            println!("Signed out of {url}; the session was revoked at the identity provider.");
        } else {
            println!("Signed out of {url}; the identity provider could not revoke the session (it expires on its own).");
        }
    })
}

/// Who the session acts as: the signed-in user at a portal, or the local admin on a database.
async fn whoami(s: &Session) -> Result<u8, Error> {
    let me = s.portal.whoami(&s.actor).await?;
    done(s, &me, |m| {
        println!("{} ({}) — role {}", m.name, m.id, m.role);
        if let Some(org) = m.org_id {
            println!("organisation {org}");
        }
        println!("may: {}", m.permissions.join(", "));
    })
}
