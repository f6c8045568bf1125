// An incident's timeline, oldest first: one line per event with its icon, who and when.
import type { EscalationTarget, IncidentEvent } from "../../api";
import { Icon } from "../../icons";
import { fmtTime, relTime } from "../../ui";
import { STATUS_LABEL, fmtWhen, useOrgs } from "./common";
import { useSync } from "../../sync";

const clockName = (c: "response" | "resolve") => (c === "response" ? "Response" : "Resolve");

function target(t: EscalationTarget): string {
  switch (t.type) {
    case "user": return t.id;
    case "role": return `everyone with the ${t.role} role`;
    case "webhook": return `webhook ${t.url}`;
  }
}

/** What happened, as a sentence after the actor's name. */
function describe(e: IncidentEvent, orgName: (id: string | null) => string): { text: string; tone?: "good" | "warn" | "bad" } {
  switch (e.type) {
    case "opened": return { text: `opened it as ${e.severity.toUpperCase()}${e.org_id ? ` for ${orgName(e.org_id)}` : ""}${e.impact_started_at ? ` (impact since ${fmtTime(e.impact_started_at)})` : ""}` };
    case "comment": return { text: "commented" };
    case "acknowledged": return { text: "acknowledged it" };
    case "assigned": return { text: e.assignee ? `assigned it to ${e.assignee}` : "unassigned it" };
    case "severity_changed": return { text: `changed the severity from ${e.from.toUpperCase()} to ${e.to.toUpperCase()}` };
    case "renamed": return { text: `renamed it from “${e.from}” to “${e.to}”` };
    case "status_changed":
      if (e.to === "waiting") return { text: "is waiting on the customer (the resolve clock is paused)" };
      if (e.from === "waiting") return { text: "resumed work (the resolve clock runs again)" };
      return { text: `changed the status from ${STATUS_LABEL[e.from]} to ${STATUS_LABEL[e.to]}` };
    case "resolved": return { text: "resolved it", tone: "good" };
    case "closed": return { text: "closed it" };
    case "reopened": return { text: "reopened it (a new resolve cycle starts)", tone: "warn" };
    case "escalated": return { text: `escalated (step ${e.step + 1}${e.repeat ? `, repeat ${e.repeat}` : ""}) to ${e.targets.map(target).join(", ")}`, tone: "warn" };
    case "sla_at_risk": return { text: `noticed the ${clockName(e.clock).toLowerCase()} SLA at risk`, tone: "warn" };
    case "sla_breached": return { text: `noticed the ${clockName(e.clock).toLowerCase()} SLA breached`, tone: "bad" };
  }
}

export function Timeline({ events }: { events: IncidentEvent[] }) {
  const orgs = useOrgs();
  // This device's edits the portal has not confirmed yet.
  const { status } = useSync();
  const pending = new Set((status?.entries ?? []).filter((x) => x.state === "pending").map((x) => x.mutation.event_id));
  return (
    <ol className="timeline" aria-label="Timeline">
      {events.map((e) => {
        const d = describe(e, orgs.name);
        return (
          <li key={e.id} className={`ev ${e.type} ${d.tone ?? ""}`} aria-label={`${e.actor_name} ${d.text}`}>
            <span className="ev-icon" aria-hidden><Icon name={e.type} size={15} /></span>
            <div className="ev-body">
              <div className="ev-line">
                <strong title={e.actor_id}>{e.actor_name}</strong> <span>{d.text}</span>
                {pending.has(e.id) && <span className="badge info" title="Saved on this device; not yet on the portal">pending</span>}
                <time dateTime={e.occurred_at} title={`${fmtTime(e.occurred_at)}${e.recorded_at !== e.occurred_at ? ` · recorded ${fmtTime(e.recorded_at)}` : ""}`}>{fmtWhen(e.occurred_at)} <span className="muted">· {relTime(e.occurred_at)}</span></time>
              </div>
              {e.type === "comment" && <div className="ev-comment">{e.text}</div>}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
