//! `padmin escalation`: escalation policies — who is notified, and when, while an incident goes
//! unanswered. A policy's name and organisation are flags; its steps are a JSON file (an array of
//! steps), read and checked for shape here, validated by the Portal.

use super::common::{done, read_stdin};
use crate::output_incidents as show;
use crate::session::Session;
use clap::Subcommand;
use domain::error::{Error, FieldError};
use domain::model::{EscalationPolicy, EscalationStep, PolicyInput};
use domain::validate::parse_uuid;
use std::path::{Path, PathBuf};
use uuid::Uuid;

const STEPS_HELP: &str = "\
The steps file is a JSON array of steps, for example:
  [{\"after_mins\": 15, \"condition\": \"unacknowledged\", \"min_severity\": \"sev2\",
    \"targets\": [{\"type\": \"role\", \"role\": \"support\"}],
    \"repeat\": 2, \"repeat_every_mins\": 10}]
condition: unacknowledged or unresolved; targets: {\"type\": \"user\", \"id\": …},
{\"type\": \"role\", \"role\": provider|developer|support} or {\"type\": \"webhook\", \"url\": \"https://…\"}.";

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// The default policy first, then the organisations' own.
    List,
    /// One policy and its steps.
    Show {
        id: String,
    },
    /// Create a policy: the default one (no --org) or an organisation's.
    #[command(after_help = STEPS_HELP)]
    Create {
        #[arg(long)]
        name: String,
        /// The client organisation it covers; absent: the default policy.
        #[arg(long, value_parser = parse_uuid)]
        org: Option<Uuid>,
        /// The steps: a JSON file holding an array of steps (`-`: standard input).
        #[arg(long, value_name = "RULES.json")]
        file: PathBuf,
    },
    /// Change a policy: what is not given stays as it is.
    #[command(after_help = STEPS_HELP)]
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        /// Make it this client organisation's policy.
        #[arg(long, value_parser = parse_uuid)]
        org: Option<Uuid>,
        /// Make it the default policy (of no organisation).
        #[arg(long, conflicts_with = "org")]
        default: bool,
        /// Replace its steps with those of this JSON file (`-`: standard input).
        #[arg(long, value_name = "RULES.json")]
        file: Option<PathBuf>,
    },
    Delete {
        id: String,
    },
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::List => done(s, &p.list_escalation_policies(a).await?, |v| {
            show::policies(v)
        }),
        Cmd::Show { id } => done(s, &find(&p.list_escalation_policies(a).await?, &id)?, |v| {
            show::policy(v)
        }),
        Cmd::Create { name, org, file } => {
            let input = PolicyInput {
                name,
                rules: read_steps(&file)?,
                org_id: org,
            };
            done(s, &p.create_escalation_policy(a, input).await?, |v| {
                println!("created escalation policy {}", v.id);
                show::policy(v);
            })
        }
        Cmd::Update {
            id,
            name,
            org,
            default,
            file,
        } => {
            // Read the file before anything else: a bad one changes nothing.
            let rules = file.as_deref().map(read_steps).transpose()?;
            let current = find(&p.list_escalation_policies(a).await?, &id)?;
            let input = PolicyInput {
                name: name.unwrap_or(current.name),
                rules: rules.unwrap_or(current.rules),
                org_id: if default {
                    None
                } else {
                    org.or(current.org_id)
                },
            };
            done(s, &p.update_escalation_policy(a, &id, input).await?, |v| {
                println!("updated escalation policy {}", v.id);
                show::policy(v);
            })
        }
        Cmd::Delete { id } => {
            p.delete_escalation_policy(a, &id).await?;
            done(s, &serde_json::json!({ "deleted": id }), |_| {
                println!("deleted escalation policy {id}")
            })
        }
    }
}

/// The policy `id` among those listed (the Portal has no single-policy read).
fn find(policies: &[EscalationPolicy], id: &str) -> Result<EscalationPolicy, Error> {
    let wanted = parse_uuid(id).map_err(|m| Error::invalid("id", m))?;
    policies
        .iter()
        .find(|p| p.id == wanted)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("no escalation policy {wanted} exists")))
}

/// The steps in `path` (or standard input for `-`): every step that is not a step is reported
/// at once, named `rules[i]` like the Portal names them, with the file and serde's words.
fn read_steps(path: &Path) -> Result<Vec<EscalationStep>, Error> {
    let name = path.display();
    let text = if path.as_os_str() == "-" {
        read_stdin("file")?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Error::invalid("file", format!("cannot read {name}: {e}")))?
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::invalid("file", format!("{name} is not valid JSON: {e}")))?;
    let serde_json::Value::Array(items) = value else {
        return Err(Error::invalid(
            "file",
            format!(
                "{name} must hold a JSON array of escalation steps ([{{\"after_mins\": 15, …}}])"
            ),
        ));
    };
    let mut steps = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<EscalationStep>(item) {
            Ok(step) => steps.push(step),
            Err(e) => problems.push(FieldError::new(
                format!("rules[{i}]"),
                format!("in {name}: {e}"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(steps)
    } else {
        Err(Error::Invalid(problems))
    }
}
