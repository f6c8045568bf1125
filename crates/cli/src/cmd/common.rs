//! Small helpers the capability modules share: reading input, the progress bar, rendering.

use crate::output;
use crate::session::Session;
use clap::Args;
use domain::error::Error;
use domain::Sensitive;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Read;
use std::path::Path;

// `--idempotency-key`, on every command that creates something. (A `///` comment here would
// become the help text of commands without their own, such as `clients create`.)
#[derive(Args, Debug)]
pub struct Idem {
    /// Makes a retry safe: the same key and input returns the first result (kept 24 h).
    #[arg(long)]
    pub idempotency_key: Option<String>,
}

/// Standard input without its trailing newline; `what` names the field in the error.
pub fn read_stdin(what: &str) -> Result<String, Error> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| Error::invalid(what, format!("cannot read standard input: {e}")))?;
    Ok(s.trim_end_matches(['\n', '\r']).to_string())
}

/// A JSON document from the file `path`, or from standard input when it is `-`.
pub fn read_json(field: &str, path: &Path) -> Result<Sensitive<serde_json::Value>, Error> {
    let text = if path.as_os_str() == "-" {
        read_stdin(field)?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Error::invalid(field, format!("cannot read {}: {e}", path.display())))?
    };
    serde_json::from_str(&text)
        .map(Sensitive::new)
        .map_err(|e| Error::invalid(field, format!("is not valid JSON: {e}")))
}

/// A progress bar on standard error, or a hidden one (for `--json` and dry runs).
pub fn progress_bar(hidden: bool, what: &'static str) -> ProgressBar {
    let pb = if hidden {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what);
    pb
}

/// Renders a result, as JSON with `--json` or else with `human`, and exits 0.
pub fn done<T: serde::Serialize>(s: &Session, v: &T, human: impl FnOnce(&T)) -> Result<u8, Error> {
    render(s.json, v, human)
}

/// [`done`] without a session (signing in and out).
pub fn render<T: serde::Serialize>(json: bool, v: &T, human: impl FnOnce(&T)) -> Result<u8, Error> {
    if json {
        output::json(v);
    } else {
        human(v);
    }
    Ok(0)
}
