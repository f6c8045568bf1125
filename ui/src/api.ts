// Typed calls to the Tauri commands. Every type comes from ./generated (Rust → ts-rs).
import { invoke } from "@tauri-apps/api/core";
import type { AppInfo } from "./generated/AppInfo";
import type { AuditEvent } from "./generated/AuditEvent";
import type { AuditFilter } from "./generated/AuditFilter";
import type { ChainReport } from "./generated/ChainReport";
import type { Client } from "./generated/Client";
import type { ClientFilter } from "./generated/ClientFilter";
import type { CommandError } from "./generated/CommandError";
import type { CreatedKeyView } from "./generated/CreatedKeyView";
import type { FederationKey } from "./generated/FederationKey";
import type { Integration } from "./generated/Integration";
import type { IntegrationForm } from "./generated/IntegrationForm";
import type { KeyFilter } from "./generated/KeyFilter";
import type { OidcConfig } from "./generated/OidcConfig";
import type { OidcForm } from "./generated/OidcForm";
import type { OidcProbeReport } from "./generated/OidcProbeReport";
import type { Overview } from "./generated/Overview";
import type { Page } from "./generated/Page";
import type { PostgresForm } from "./generated/PostgresForm";
import type { PortalDiscovery } from "./generated/PortalDiscovery";
import type { PortalForm } from "./generated/PortalForm";
import type { ProfileBook } from "./generated/ProfileBook";
import type { RotationView } from "./generated/RotationView";
import type { SessionInfo } from "./generated/SessionInfo";

export type {
  AppInfo, AuditEvent, AuditFilter, ChainReport, Client, ClientFilter, CommandError, CreatedKeyView, FederationKey,
  Integration, IntegrationForm, KeyFilter, OidcConfig, OidcForm, OidcProbeReport, Overview, Page, PostgresForm,
  PortalDiscovery, PortalForm, ProfileBook, RotationView, SessionInfo,
};

/** A command's error: always `{code, message, fields}`. */
export function asCommandError(e: unknown): CommandError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as CommandError;
  return { code: "internal", message: String(e), fields: [] };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asCommandError(e);
  }
}

export const emptyKeyFilter: KeyFilter = { status: null, expiring_within_days: null, unused_for_days: null, search: null, limit: 50, cursor: null };
export const emptyAuditFilter: AuditFilter = { entity_type: null, entity_id: null, actor: null, action: null, from: null, to: null, limit: 200, cursor: null };

export const api = {
  appInfo: () => call<AppInfo>("app_info"),
  session: () => call<SessionInfo>("session_info"),
  profiles: () => call<ProfileBook>("profiles_get"),
  profileTest: (form: PostgresForm) => call<string>("profile_test_postgres", { form }),
  profileSave: (form: PostgresForm) => call<ProfileBook>("profile_save_postgres", { form }),
  profileActivate: (id: string) => call<SessionInfo>("profile_activate", { id }),
  profileDelete: (id: string) => call<ProfileBook>("profile_delete", { id }),
  portalDiscover: (url: string) => call<PortalDiscovery>("profile_discover_portal", { url }),
  portalProfileSave: (form: PortalForm) => call<ProfileBook>("profile_save_portal", { form }),
  signIn: () => call<SessionInfo>("portal_sign_in"),
  signInCancel: () => call<void>("portal_sign_in_cancel"),
  signOut: () => call<SessionInfo>("portal_sign_out"),
  seedDemo: () => call<unknown>("onboarding_seed_demo"),
  startEmpty: () => call<void>("onboarding_start_empty"),

  overview: () => call<Overview>("overview_get"),
  overviewChart: (dark: boolean, width: number, height: number) => call<string>("overview_chart", { dark, width, height }),

  keys: (filter: KeyFilter) => call<Page<FederationKey>>("keys_list", { filter }),
  key: (id: string) => call<FederationKey>("key_get", { id }),
  keyCreate: (name: string, expiresIn: string | null, idempotencyKey: string) =>
    call<CreatedKeyView>("key_create", { name, expiresIn, idempotencyKey }),
  keysRevoke: (ids: string[], idempotencyKey: string) => call<FederationKey[]>("keys_revoke", { ids, idempotencyKey }),
  keyRotate: (id: string, overlap: string, idempotencyKey: string) => call<RotationView>("key_rotate", { id, overlap, idempotencyKey }),
  keyEndOverlap: (id: string) => call<FederationKey>("key_end_overlap", { id }),

  oidcList: () => call<OidcConfig[]>("oidc_list"),
  oidcCreate: (form: OidcForm) => call<OidcConfig>("oidc_create", { form }),
  oidcUpdate: (id: string, form: OidcForm) => call<OidcConfig>("oidc_update", { id, form }),
  oidcSetEnabled: (id: string, enabled: boolean) => call<OidcConfig>("oidc_set_enabled", { id, enabled }),
  oidcDelete: (id: string) => call<void>("oidc_delete", { id }),
  oidcTest: (id: string) => call<OidcProbeReport>("oidc_test", { id }),

  integrations: () => call<Integration[]>("integrations_list"),
  integrationCreate: (form: IntegrationForm) => call<Integration>("integration_create", { form }),
  integrationUpdate: (id: string, form: IntegrationForm) => call<Integration>("integration_update", { id, form }),
  integrationSetPaused: (id: string, paused: boolean) => call<Integration>("integration_set_paused", { id, paused }),
  integrationDelete: (id: string) => call<void>("integration_delete", { id }),

  clients: (filter: ClientFilter) => call<Page<Client>>("clients_list", { filter }),
  client: (id: string) => call<Client>("client_get", { id }),
  clientRename: (id: string, name: string) => call<Client>("client_rename", { id, name }),

  audit: (filter: AuditFilter) => call<Page<AuditEvent>>("audit_list", { filter }),
  auditVerify: () => call<ChainReport>("audit_verify"),
  auditExport: (filter: AuditFilter, path: string) => call<number>("audit_export_csv", { filter, path }),
};

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
