// The UI's door to the Tauri commands. `api` is the generated module ./generated/commands: one
// typed function per command, written from the Rust signatures (src-tauri/src/ipc.rs), so a
// renamed command, argument or return type breaks this build. Nothing here names a command by
// string; every type comes from ./generated (Rust → ts-rs).
import type { AuditFilter } from "./generated/AuditFilter";
import type { IncidentFilter } from "./generated/IncidentFilter";
import type { KeyFilter } from "./generated/KeyFilter";
import type { Role } from "./generated/Role";

export * as api from "./generated/commands";
export { asCommandError } from "./generated/commands";

export type { AppInfo } from "./generated/AppInfo";
export type { AuditEvent } from "./generated/AuditEvent";
export type { AuditFilter } from "./generated/AuditFilter";
export type { ChainReport } from "./generated/ChainReport";
export type { Client } from "./generated/Client";
export type { ClientFilter } from "./generated/ClientFilter";
export type { CommandError } from "./generated/CommandError";
export type { CreatedKeyView } from "./generated/CreatedKeyView";
export type { ClockState } from "./generated/ClockState";
export type { ClockStatus } from "./generated/ClockStatus";
export type { DayActivity } from "./generated/DayActivity";
export type { EscalationCondition } from "./generated/EscalationCondition";
export type { EscalationPolicy } from "./generated/EscalationPolicy";
export type { EscalationStep } from "./generated/EscalationStep";
export type { EscalationTarget } from "./generated/EscalationTarget";
export type { ErrorCode } from "./generated/ErrorCode";
export type { FederationKey } from "./generated/FederationKey";
export type { Incident } from "./generated/Incident";
export type { OutboxEntry } from "./generated/OutboxEntry";
export type { SyncStatus } from "./generated/SyncStatus";
export type { IncidentChange } from "./generated/IncidentChange";
export type { IncidentCounts } from "./generated/IncidentCounts";
export type { IncidentDetail } from "./generated/IncidentDetail";
export type { IncidentEvent } from "./generated/IncidentEvent";
export type { IncidentFilter } from "./generated/IncidentFilter";
export type { IncidentMetrics } from "./generated/IncidentMetrics";
export type { IncidentStatus } from "./generated/IncidentStatus";
export type { IncidentSummary } from "./generated/IncidentSummary";
export type { Integration } from "./generated/Integration";
export type { IntegrationForm } from "./generated/IntegrationForm";
export type { KeyFilter } from "./generated/KeyFilter";
export type { OidcConfig } from "./generated/OidcConfig";
export type { OidcForm } from "./generated/OidcForm";
export type { OidcProbeReport } from "./generated/OidcProbeReport";
export type { OpenIncident } from "./generated/OpenIncident";
export type { Overview } from "./generated/Overview";
export type { Page } from "./generated/Page";
export type { Permission } from "./generated/Permission";
export type { PolicyInput } from "./generated/PolicyInput";
export type { PortalDiscovery } from "./generated/PortalDiscovery";
export type { PortalForm } from "./generated/PortalForm";
export type { PostgresForm } from "./generated/PostgresForm";
export type { ProfileBook } from "./generated/ProfileBook";
export type { Role } from "./generated/Role";
export type { RotationView } from "./generated/RotationView";
export type { SessionInfo } from "./generated/SessionInfo";
export type { Severity } from "./generated/Severity";
export type { SlaFilter } from "./generated/SlaFilter";
export type { SlaTarget } from "./generated/SlaTarget";
export type { StatusFilter } from "./generated/StatusFilter";
export type { TlsMode } from "./generated/TlsMode";

/** A role's name (`provider`, `developer`, …), as the session reports it. */
export type RoleName = Role["role"];

export const emptyKeyFilter: KeyFilter = { status: null, expiring_within_days: null, unused_for_days: null, search: null, limit: 50, cursor: null };
export const emptyIncidentFilter: IncidentFilter = { status: "active", severity: null, org_id: null, assignee: null, sla: null, search: null, limit: 50, cursor: null };
export const emptyAuditFilter: AuditFilter = { entity_type: null, entity_id: null, actor: null, action: null, from: null, to: null, limit: 200, cursor: null };

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
