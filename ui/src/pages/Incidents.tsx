// Incidents: the list (or one incident), and the settings behind them — SLA targets and
// escalation policies. The screens themselves are in ./incidents/.
import { useCallback, useState } from "react";
import { emptyIncidentFilter, type IncidentFilter, type Severity, type SlaFilter, type StatusFilter } from "../api";
import { Guarded, useCan } from "../access";
import { useNav } from "../App";
import { PageHeader } from "../ui";
import { OrgProvider } from "./incidents/common";
import { IncidentDetailView } from "./incidents/Detail";
import { IncidentList } from "./incidents/List";
import { OpenIncidentDialog } from "./incidents/OpenDialog";
import { PolicySettings } from "./incidents/Policies";
import { SlaSettings } from "./incidents/SlaSettings";

/**
 * Takes `open` (an incident id), `action=open` (the Open incident dialog), `tab=settings`, and
 * the list's filters `status` (`any` for none), `severity`, `sla`, `org`.
 */
export function IncidentsPage() {
  const { params } = useNav();
  const can = useCan();
  const [tab, setTab] = useState<"list" | "settings">(params.tab === "settings" ? "settings" : "list");
  const [filter, setFilter] = useState<IncidentFilter>(() => ({
    ...emptyIncidentFilter,
    status: params.status === "any" ? null : ((params.status as StatusFilter) ?? emptyIncidentFilter.status),
    severity: (params.severity as Severity) ?? null,
    sla: (params.sla as SlaFilter) ?? null,
    org_id: params.org ?? null,
  }));
  const [open, setOpen] = useState<string | null>(params.open ?? null);
  const [lastOpen, setLastOpen] = useState<string>();
  const [opening, setOpening] = useState(params.action === "open");
  const back = useCallback(() => {
    if (open) setLastOpen(open);
    setOpen(null);
  }, [open]);

  let body;
  if (tab === "settings") {
    body = <div className="settings-stack"><SlaSettings />{can("read_escalation") && <PolicySettings />}</div>;
  } else if (open) {
    body = <IncidentDetailView key={open} id={open} onBack={back} />;
  } else {
    body = <IncidentList filter={filter} setFilter={setFilter} onOpen={setOpen} onNew={() => setOpening(true)} focusId={lastOpen} />;
  }
  return (
    <OrgProvider>
      <div className="page incidents-page">
        {!(tab === "list" && open) && (
          <PageHeader title="Incidents" subtitle={tab === "list" ? "What is broken for whom, and how its SLA clocks stand." : "SLA targets and escalation policies."} actions={<>
            <div className="segmented" role="tablist" aria-label="Incidents sections">
              <button role="tab" aria-selected={tab === "list"} className={tab === "list" ? "active" : ""} onClick={() => setTab("list")}>Incidents</button>
              <button role="tab" aria-selected={tab === "settings"} className={tab === "settings" ? "active" : ""} onClick={() => setTab("settings")} aria-label="Incidents settings">Settings</button>
            </div>
            {tab === "list" && <Guarded permission="open_incidents" className="primary" onClick={() => setOpening(true)}>Open incident</Guarded>}
          </>} />
        )}
        {body}
        {opening && <OpenIncidentDialog onClose={() => setOpening(false)} onOpened={(d) => { setOpening(false); setTab("list"); setOpen(d.incident.id); }} />}
      </div>
    </OrgProvider>
  );
}
