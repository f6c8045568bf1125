//! `padmin incidents`: incidents, their SLA clocks and timelines, and their metrics. Every
//! change (acknowledge, assign, resolve, …) is one `change_incident` call; whether it is allowed
//! now is the Portal's to say (a conflict, exit 5, names the incident's status).

use super::common::done;
use crate::output;
use crate::output_incidents as show;
use crate::session::Session;
use clap::{Args, Subcommand};
use domain::error::Error;
use domain::model::OutboxState;
use domain::model::{
    IncidentChange, IncidentCommand, IncidentDetail, IncidentFilter, MetricsQuery, OpenIncident,
    Severity, SlaFilter, StatusFilter,
};
use domain::validate::parse_uuid;
use domain::Timestamp;
use portal::Replica;
use uuid::Uuid;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List incidents, newest first, with their SLA clocks now.
    List {
        /// open, acknowledged, waiting, resolved, closed, active (the first three) or done
        #[arg(long)]
        status: Option<StatusFilter>,
        /// sev1 (most severe), sev2, sev3 or sev4
        #[arg(long, value_parser = Severity::parse)]
        severity: Option<Severity>,
        /// The affected client organisation's id.
        #[arg(long, value_parser = parse_uuid)]
        org: Option<Uuid>,
        /// The assignee's actor id.
        #[arg(long)]
        assignee: Option<String>,
        /// at_risk, breached or attention (either)
        #[arg(long)]
        sla: Option<SlaFilter>,
        /// Words in the title.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One incident: its fields, SLA clocks, resolve cycles and timeline.
    Show { id: String },
    /// Open an incident.
    Open {
        #[arg(long)]
        title: String,
        /// sev1 (most severe), sev2, sev3 or sev4
        #[arg(long, value_parser = Severity::parse)]
        severity: Severity,
        /// The affected client organisation's id.
        #[arg(long, value_parser = parse_uuid)]
        org: Option<Uuid>,
        /// When the impact began, if before now (RFC 3339): the SLA clocks start there.
        #[arg(long, value_parser = parse_time)]
        impact_started: Option<Timestamp>,
        /// The incident's id (a UUID): opening again with the same id and fields is a safe retry.
        #[arg(long, value_parser = parse_uuid)]
        id: Option<Uuid>,
    },
    /// Add a comment to the timeline.
    Comment { id: String, text: String },
    /// Change the title.
    Rename {
        id: String,
        title: String,
        #[command(flatten)]
        base: Base,
    },
    /// Acknowledge an open incident: someone is on it (stops the response clock).
    Ack {
        id: String,
        #[command(flatten)]
        base: Base,
    },
    /// Assign the incident to a person (an actor id), or unassign it with --none.
    Assign {
        id: String,
        /// The assignee's actor id (e.g. local:ana).
        #[arg(required_unless_present = "none")]
        user: Option<String>,
        /// Unassign it.
        #[arg(long, conflicts_with = "user")]
        none: bool,
        #[command(flatten)]
        base: Base,
    },
    /// Change the severity (its SLA targets change with it).
    Severity {
        id: String,
        /// sev1 (most severe), sev2, sev3 or sev4
        #[arg(value_parser = Severity::parse)]
        severity: Severity,
        #[command(flatten)]
        base: Base,
    },
    /// Wait on the customer: pauses the resolve clock.
    Wait {
        id: String,
        #[command(flatten)]
        base: Base,
    },
    /// Back from waiting on the customer.
    Resume {
        id: String,
        #[command(flatten)]
        base: Base,
    },
    /// Resolve the incident: stops the resolve clock.
    Resolve {
        id: String,
        #[command(flatten)]
        base: Base,
    },
    /// Close a resolved incident.
    Close {
        id: String,
        #[command(flatten)]
        base: Base,
    },
    /// Reopen a resolved or closed incident: a new resolve cycle starts.
    Reopen {
        id: String,
        #[command(flatten)]
        base: Base,
    },
    /// MTTA, MTTR and SLA compliance of the incidents opened in a period (default: 7 days).
    Metrics {
        /// From this time (RFC 3339 or YYYY-MM-DD), inclusive.
        #[arg(long, value_parser = parse_time)]
        from: Option<Timestamp>,
        /// Until this time, exclusive.
        #[arg(long, value_parser = parse_time)]
        to: Option<Timestamp>,
        /// Only this client organisation's incidents.
        #[arg(long, value_parser = parse_uuid)]
        org: Option<Uuid>,
    },
    /// Active incidents per severity, at risk and breached.
    Counts,
    /// Whom an incident can be assigned to: the people who worked on incidents (offline too,
    /// from this machine's copy, with --portal).
    People,
}

// `--base-version`, on every change (a `//` comment: clap would show a doc comment).
#[derive(Args, Debug)]
pub struct Base {
    /// The incident's version the change is based on (see `show`); the Portal records it.
    #[arg(long, value_name = "N")]
    base_version: Option<i64>,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    s.parse()
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a, replica) = s.incidents().await?;
    let (p, a, replica) = (&*p, &a, replica.as_deref());
    if !c.is_edit() {
        fresh(replica).await;
    }
    let (id, command, base) = match c {
        Cmd::List {
            status,
            severity,
            org,
            assignee,
            sla,
            search,
            limit,
            cursor,
        } => {
            let filter = IncidentFilter {
                status,
                severity,
                org_id: org,
                assignee,
                sla,
                search,
                limit,
                cursor,
            };
            return done(s, &p.list_incidents(a, filter).await?, |page| {
                show::incidents(page.items.iter().map(|i| (&i.incident, &i.sla)));
                output::next_page(&page.next_cursor);
            });
        }
        Cmd::Show { id } => return done(s, &p.get_incident(a, &id).await?, show::incident),
        Cmd::Open {
            title,
            severity,
            org,
            impact_started,
            id,
        } => {
            let new = OpenIncident {
                id,
                title,
                severity,
                org_id: org,
                impact_started_at: impact_started,
                occurred_at: None,
            };
            let d = queued(replica, p, a, p.open_incident(a, new).await?).await?;
            return done(s, &d, |d| {
                println!("opened incident {}\n", d.incident.id);
                show::incident(d);
            });
        }
        Cmd::Comment { id, text } => {
            let comment = portal::incidents::NewComment {
                text,
                event_id: None,
                occurred_at: None,
            };
            let d = queued(replica, p, a, p.comment_incident(a, &id, comment).await?).await?;
            return done(s, &d, |d| changed("commented on", d));
        }
        Cmd::Metrics { from, to, org } => {
            let q = MetricsQuery {
                from,
                to,
                org_id: org,
            };
            return done(s, &p.incident_metrics(a, q).await?, show::metrics);
        }
        Cmd::Counts => return done(s, &p.incident_counts(a).await?, show::counts),
        Cmd::People => return done(s, &p.incident_people(a).await?, |v| show::people(v)),
        Cmd::Ack { id, base } => (id, IncidentCommand::Acknowledge, base),
        Cmd::Rename { id, title, base } => (id, IncidentCommand::Rename { title }, base),
        Cmd::Assign {
            id,
            user,
            none,
            base,
        } => {
            let assignee = if none { None } else { user };
            (id, IncidentCommand::Assign { assignee }, base)
        }
        Cmd::Severity { id, severity, base } => {
            (id, IncidentCommand::ChangeSeverity { severity }, base)
        }
        Cmd::Wait { id, base } => (id, IncidentCommand::Wait, base),
        Cmd::Resume { id, base } => (id, IncidentCommand::Resume, base),
        Cmd::Resolve { id, base } => (id, IncidentCommand::Resolve, base),
        Cmd::Close { id, base } => (id, IncidentCommand::Close, base),
        Cmd::Reopen { id, base } => (id, IncidentCommand::Reopen, base),
    };
    let verb = past_tense(&command);
    let mut change = IncidentChange::now(command);
    change.base_version = base.base_version;
    let d = queued(replica, p, a, p.change_incident(a, &id, change).await?).await?;
    done(s, &d, |d| changed(verb, d))
}

impl Cmd {
    fn is_edit(&self) -> bool {
        !matches!(
            self,
            Cmd::List { .. } | Cmd::Show { .. } | Cmd::Metrics { .. } | Cmd::Counts
        )
    }
}

/// Through the portal API, reads come from this machine's replica: synced first when the
/// portal answers; offline, said so.
async fn fresh(replica: Option<&Replica>) {
    let Some(r) = replica else { return };
    if let Err(e) = r.sync_now().await {
        let when = r
            .status()
            .await
            .ok()
            .and_then(|st| st.last_synced_at)
            .map_or("never synced".to_string(), |t| format!("last synced {t}"));
        eprintln!("offline ({e}): showing this machine's copy ({when})");
    }
}

/// An edit made on the replica is saved on this machine first, then sent at once when the
/// portal answers; offline it stays queued, and a refusal is said (exit 5).
async fn queued(
    replica: Option<&Replica>,
    p: &dyn portal::Incidents,
    a: &domain::Actor,
    d: IncidentDetail,
) -> Result<IncidentDetail, Error> {
    let Some(r) = replica else { return Ok(d) };
    let id = d.incident.id;
    if let Err(e) = r.sync_now().await {
        let waiting = r.status().await.map(|st| st.pending).unwrap_or(0);
        eprintln!(
            "queued: saved on this machine, not yet on the portal ({e}); {waiting} edit(s) wait for `padmin sync now`"
        );
        return Ok(d);
    }
    let status = r.status().await?;
    if let Some(refused) = status.entries.iter().rev().find(|e| {
        e.mutation.incident_id == id
            && matches!(e.state, OutboxState::Rejected | OutboxState::Conflict)
    }) {
        let why = refused.reason.clone().unwrap_or_else(|| {
            refused
                .conflicts
                .iter()
                .map(|c| {
                    format!(
                        "{} is now {} upstream (yours: {})",
                        c.field,
                        c.theirs.as_deref().unwrap_or("none"),
                        c.mine.as_deref().unwrap_or("none")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        });
        return Err(Error::conflict(format!(
            "the portal did not apply “{}” (sync entry {}): {why}. See `padmin sync status`",
            refused.summary, refused.mutation.mutation_id
        )));
    }
    p.get_incident(a, &id.to_string()).await
}

/// What a change did, for the line printed above the incident.
fn past_tense(c: &IncidentCommand) -> &'static str {
    match c {
        IncidentCommand::Acknowledge => "acknowledged",
        IncidentCommand::Assign { assignee: Some(_) } => "assigned",
        IncidentCommand::Assign { assignee: None } => "unassigned",
        IncidentCommand::ChangeSeverity { .. } => "changed the severity of",
        IncidentCommand::Rename { .. } => "renamed",
        IncidentCommand::Wait => "waiting on the customer for",
        IncidentCommand::Resume => "resumed",
        IncidentCommand::Resolve => "resolved",
        IncidentCommand::Close => "closed",
        IncidentCommand::Reopen => "reopened",
        _ => "changed",
    }
}

fn changed(verb: &str, d: &IncidentDetail) {
    println!(
        "{verb} incident {} (now {}, version {})",
        d.incident.id, d.incident.status, d.incident.version
    );
    show::incidents([(&d.incident, &d.sla)]);
}
