//! The HTTP routes: each handler parses, calls one Portal method and renders the result.
//! Each route's guard is declared in its OpenAPI `security` (the permission it needs, as the
//! bearer scope); the auth-matrix test reads those declarations from the router's own document.

use crate::extract::{Body, IdempotencyKey, Path, Query};
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use domain::audit::AuditEvent;
use domain::model::{
    AuditFilter, ChainReport, Client, ClientFilter, FederationKey, Integration, KeyFilter,
    MasterKeyStatus, OidcConfig, Overview, Page, Verified,
};
use domain::Actor;
use portal::wire::*;
use portal::{MasterKeyReport, NewClient, NewKey, Portal};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes for signed-in admins and users (OIDC bearer tokens).
pub fn user_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(get_key))
        .routes(routes!(revoke_key))
        .routes(routes!(revoke_keys))
        .routes(routes!(rotate_key))
        .routes(routes!(end_overlap))
        .routes(routes!(list_oidc, create_oidc))
        .routes(routes!(get_oidc, update_oidc, delete_oidc))
        .routes(routes!(set_oidc_enabled))
        .routes(routes!(list_integrations, create_integration))
        .routes(routes!(
            get_integration,
            update_integration,
            delete_integration
        ))
        .routes(routes!(set_integration_paused))
        .routes(routes!(record_integration_sync))
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, rename_client))
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
        .routes(routes!(export_audit))
        .routes(routes!(overview))
        .routes(routes!(master_key_status))
        .routes(routes!(rotate_master_key))
}

/// Routes for partner systems (federation keys).
pub fn partner_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify_federation_key))
}

/// Routes without a principal: liveness, readiness and this document.
pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in_info))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi_json))
}

type Actor_ = Extension<Actor>;

// ---------------------------------------------------------------------------------------------
// Session

/// Who the bearer of this token is, and what their role allows.
#[utoipa::path(get, path = "/v1/me", tag = "session",
    responses((status = 200, body = Me), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = [])))]
async fn me(Extension(actor): Actor_) -> Json<Me> {
    Json(Me {
        id: actor.id.clone(),
        name: actor.name.clone(),
        role: actor.role.name().to_string(),
        org_id: match actor.role {
            domain::Role::Client(org) => Some(org),
            _ => None,
        },
        permissions: actor
            .role
            .permissions()
            .into_iter()
            .map(|p| p.as_str().to_string())
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Federation keys

/// Lists federation keys, newest first, a page at a time (pass `next_cursor` back as `cursor`).
#[utoipa::path(get, path = "/v1/keys", tag = "keys", params(KeyFilter),
    responses((status = 200, body = Page<FederationKey>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_keys"])))]
async fn list_keys(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Query(filter): Query<KeyFilter>,
) -> ApiResult<Json<Page<FederationKey>>> {
    Ok(Json(s.portal.list_keys(&actor, filter).await?))
}

/// Creates a federation key. The full key is in this response only: it is stored as a hash.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = NewKey,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key get the first response (24 h); the same key with another body is a 409")),
    responses((status = 201, body = CreatedKeyBody), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn create_key(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    idem: IdempotencyKey,
    Body(new): Body<NewKey>,
) -> ApiResult<(StatusCode, Json<CreatedKeyBody>)> {
    let created = s.portal.create_key(&actor, new, idem.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One federation key.
#[utoipa::path(get, path = "/v1/keys/{id}", tag = "keys", params(("id" = domain::key::KeyId, Path, description = "The key id (16 characters)")),
    responses((status = 200, body = FederationKey), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_keys"])))]
async fn get_key(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
) -> ApiResult<Json<FederationKey>> {
    Ok(Json(s.portal.get_key(&actor, &id).await?))
}

/// Revokes a key at once (every server instance stops accepting it within a second).
/// Revoking a revoked key returns it unchanged.
#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys",
    params(("id" = domain::key::KeyId, Path, description = "The key id (16 characters)"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = FederationKey), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn revoke_key(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
    idem: IdempotencyKey,
) -> ApiResult<Json<FederationKey>> {
    Ok(Json(
        s.portal.revoke_key(&actor, &id, idem.as_deref()).await?,
    ))
}

/// Revokes several keys in one transaction: all or none.
#[utoipa::path(post, path = "/v1/keys/revoke", tag = "keys", request_body = RevokeKeysBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Vec<FederationKey>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn revoke_keys(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    idem: IdempotencyKey,
    Body(body): Body<RevokeKeysBody>,
) -> ApiResult<Json<Vec<FederationKey>>> {
    Ok(Json(
        s.portal
            .revoke_keys(&actor, &body.ids, idem.as_deref())
            .await?,
    ))
}

/// Mints a successor; the old key keeps working for the overlap. The successor's full key is
/// in this response only.
#[utoipa::path(post, path = "/v1/keys/{id}/rotate", tag = "keys", request_body = RotateBody,
    params(("id" = domain::key::KeyId, Path, description = "The key id (16 characters)"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = RotationBody), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn rotate_key(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    Body(body): Body<RotateBody>,
) -> ApiResult<Json<RotationBody>> {
    let rotation = s
        .portal
        .rotate_key(&actor, &id, &body.overlap, idem.as_deref())
        .await?;
    Ok(Json(rotation.into()))
}

/// Ends a rotated key's overlap now (idempotent: ending an ended overlap changes nothing).
#[utoipa::path(post, path = "/v1/keys/{id}/end-overlap", tag = "keys",
    params(("id" = domain::key::KeyId, Path, description = "The key id (16 characters)"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = FederationKey), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn end_overlap(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
) -> ApiResult<Json<FederationKey>> {
    Ok(Json(s.portal.end_overlap(&actor, &id).await?))
}

/// Verifies the federation key presented as `Authorization: Bearer pak_…` (partners).
/// 200 with the key's id and name when it is valid; 401 when it is not, is revoked or expired.
#[utoipa::path(post, path = "/v1/federation/verify", tag = "partners",
    responses((status = 200, body = Verified), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("federation_key" = [])))]
async fn verify_federation_key(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Extension(key): Extension<crate::context::PresentedKey>,
) -> ApiResult<Json<Verified>> {
    Ok(Json(s.portal.verify_key(&actor, key.0.expose()).await?))
}

// ---------------------------------------------------------------------------------------------
// OIDC configurations

/// Lists OIDC configurations. Secrets are never returned, only whether one is set.
#[utoipa::path(get, path = "/v1/oidc", tag = "oidc",
    responses((status = 200, body = Vec<OidcConfig>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_oidc"])))]
async fn list_oidc(
    State(s): State<AppState>,
    Extension(actor): Actor_,
) -> ApiResult<Json<Vec<OidcConfig>>> {
    Ok(Json(s.portal.list_oidc(&actor).await?))
}

/// Creates an OIDC configuration; the client secret is stored encrypted and never returned.
#[utoipa::path(post, path = "/v1/oidc", tag = "oidc", request_body = NewOidcBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = OidcConfig), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_oidc"])))]
async fn create_oidc(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    idem: IdempotencyKey,
    Body(body): Body<NewOidcBody>,
) -> ApiResult<(StatusCode, Json<OidcConfig>)> {
    let created = s
        .portal
        .create_oidc(&actor, body.into(), idem.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One OIDC configuration.
#[utoipa::path(get, path = "/v1/oidc/{id}", tag = "oidc", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 200, body = OidcConfig), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_oidc"])))]
async fn get_oidc(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
) -> ApiResult<Json<OidcConfig>> {
    Ok(Json(s.portal.get_oidc(&actor, &id).await?))
}

/// Changes the fields given.
#[utoipa::path(patch, path = "/v1/oidc/{id}", tag = "oidc", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = OidcChangesBody,
    responses((status = 200, body = OidcConfig), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_oidc"])))]
async fn update_oidc(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
    Body(body): Body<OidcChangesBody>,
) -> ApiResult<Json<OidcConfig>> {
    Ok(Json(s.portal.update_oidc(&actor, &id, body.into()).await?))
}

/// Enables or disables a configuration.
#[utoipa::path(put, path = "/v1/oidc/{id}/enabled", tag = "oidc", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = EnabledBody,
    responses((status = 200, body = OidcConfig), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_oidc"])))]
async fn set_oidc_enabled(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
    Body(body): Body<EnabledBody>,
) -> ApiResult<Json<OidcConfig>> {
    Ok(Json(
        s.portal.set_oidc_enabled(&actor, &id, body.enabled).await?,
    ))
}

/// Deletes a configuration.
#[utoipa::path(delete, path = "/v1/oidc/{id}", tag = "oidc", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 204), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_oidc"])))]
async fn delete_oidc(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.portal.delete_oidc(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Provider integrations

/// Lists integrations: configuration field names only, never values.
#[utoipa::path(get, path = "/v1/integrations", tag = "integrations",
    responses((status = 200, body = Vec<Integration>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_integrations"])))]
async fn list_integrations(
    State(s): State<AppState>,
    Extension(actor): Actor_,
) -> ApiResult<Json<Vec<Integration>>> {
    Ok(Json(s.portal.list_integrations(&actor).await?))
}

/// Creates an integration; its configuration (a JSON object) is stored encrypted.
#[utoipa::path(post, path = "/v1/integrations", tag = "integrations", request_body = NewIntegrationBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn create_integration(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    idem: IdempotencyKey,
    Body(body): Body<NewIntegrationBody>,
) -> ApiResult<(StatusCode, Json<Integration>)> {
    let created = s
        .portal
        .create_integration(&actor, body.into(), idem.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One integration.
#[utoipa::path(get, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 200, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_integrations"])))]
async fn get_integration(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
) -> ApiResult<Json<Integration>> {
    Ok(Json(s.portal.get_integration(&actor, &id).await?))
}

/// Renames an integration or replaces its configuration.
#[utoipa::path(patch, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = IntegrationChangesBody,
    responses((status = 200, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn update_integration(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
    Body(body): Body<IntegrationChangesBody>,
) -> ApiResult<Json<Integration>> {
    Ok(Json(
        s.portal
            .update_integration(&actor, &id, body.into())
            .await?,
    ))
}

/// Pauses or resumes an integration.
#[utoipa::path(put, path = "/v1/integrations/{id}/paused", tag = "integrations", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = PausedBody,
    responses((status = 200, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn set_integration_paused(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
    Body(body): Body<PausedBody>,
) -> ApiResult<Json<Integration>> {
    Ok(Json(
        s.portal
            .set_integration_paused(&actor, &id, body.paused)
            .await?,
    ))
}

/// Records the outcome of a synchronisation run.
#[utoipa::path(post, path = "/v1/integrations/{id}/syncs", tag = "integrations",
    params(("id" = uuid::Uuid, Path, description = "The id (a UUID)"), ("Idempotency-Key" = Option<String>, Header)),
    request_body = SyncBody,
    responses((status = 200, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn record_integration_sync(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    Body(body): Body<SyncBody>,
) -> ApiResult<Json<Integration>> {
    Ok(Json(
        s.portal
            .record_integration_sync(&actor, &id, body.error, idem.as_deref())
            .await?,
    ))
}

/// Deletes an integration.
#[utoipa::path(delete, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 204), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn delete_integration(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.portal.delete_integration(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Clients

/// Lists tenant organisations. A client-role principal sees only its own.
#[utoipa::path(get, path = "/v1/clients", tag = "clients", params(ClientFilter),
    responses((status = 200, body = Page<Client>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_clients"])))]
async fn list_clients(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Query(filter): Query<ClientFilter>,
) -> ApiResult<Json<Page<Client>>> {
    Ok(Json(s.portal.list_clients(&actor, filter).await?))
}

/// Creates a tenant organisation.
#[utoipa::path(post, path = "/v1/clients", tag = "clients", request_body = NewClient,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Client), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_clients"])))]
async fn create_client(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    idem: IdempotencyKey,
    Body(new): Body<NewClient>,
) -> ApiResult<(StatusCode, Json<Client>)> {
    let created = s.portal.create_client(&actor, new, idem.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One organisation. Another tenant's organisation is a 404, as if it did not exist.
#[utoipa::path(get, path = "/v1/clients/{id}", tag = "clients", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 200, body = Client), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_clients"])))]
async fn get_client(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
) -> ApiResult<Json<Client>> {
    Ok(Json(s.portal.get_client(&actor, &id).await?))
}

/// Renames an organisation.
#[utoipa::path(patch, path = "/v1/clients/{id}", tag = "clients", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = RenameBody,
    responses((status = 200, body = Client), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_clients"])))]
async fn rename_client(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Path(id): Path<String>,
    Body(body): Body<RenameBody>,
) -> ApiResult<Json<Client>> {
    Ok(Json(s.portal.rename_client(&actor, &id, &body.name).await?))
}

// ---------------------------------------------------------------------------------------------
// Audit

/// Audit events, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, body = Page<AuditEvent>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_audit"])))]
async fn list_audit(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    Ok(Json(s.portal.list_audit(&actor, filter).await?))
}

/// Verifies the whole hash chain and reports the first broken link, if any.
#[utoipa::path(get, path = "/v1/audit/verification", tag = "audit",
    responses((status = 200, body = ChainReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_audit"])))]
async fn verify_audit(
    State(s): State<AppState>,
    Extension(actor): Actor_,
) -> ApiResult<Json<ChainReport>> {
    Ok(Json(s.portal.verify_audit(&actor).await?))
}

/// The matching events as CSV, newest first.
#[utoipa::path(get, path = "/v1/audit/export", tag = "audit", params(AuditFilter),
    responses((status = 200, body = String, content_type = "text/csv"), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_audit"])))]
async fn export_audit(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<impl IntoResponse> {
    let mut csv = Vec::new();
    s.portal.export_audit_csv(&actor, filter, &mut csv).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        csv,
    ))
}

// ---------------------------------------------------------------------------------------------
// Overview and secrets

/// Counts that need attention, and 30 days of key activity.
#[utoipa::path(get, path = "/v1/overview", tag = "overview",
    responses((status = 200, body = Overview), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_keys"])))]
async fn overview(
    State(s): State<AppState>,
    Extension(actor): Actor_,
) -> ApiResult<Json<Overview>> {
    Ok(Json(s.portal.overview(&actor).await?))
}

/// Where the sealed secrets stand against the current master key.
#[utoipa::path(get, path = "/v1/secrets/master-key", tag = "secrets",
    responses((status = 200, body = MasterKeyStatus), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_secrets"])))]
async fn master_key_status(
    State(s): State<AppState>,
    Extension(actor): Actor_,
) -> ApiResult<Json<MasterKeyStatus>> {
    Ok(Json(s.portal.master_key_status(&actor).await?))
}

/// Re-encrypts secrets under the newest master key, in resumable batches. The new key version
/// must already be in the server's key source.
#[utoipa::path(post, path = "/v1/secrets/rotations", tag = "secrets", request_body = MasterKeyRotationBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = MasterKeyReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_secrets"])))]
async fn rotate_master_key(
    State(s): State<AppState>,
    Extension(actor): Actor_,
    idem: IdempotencyKey,
    Body(body): Body<MasterKeyRotationBody>,
) -> ApiResult<Json<MasterKeyReport>> {
    // A rotation spans many transactions, so its answer is kept here rather than by the Portal:
    // a retry after it finished gets the same report instead of adding another key version.
    let request = serde_json::to_string(&body).unwrap_or_default();
    let slot = idem
        .as_deref()
        .map(|k| format!("{}:rotations:{k}", actor.id));
    if let Some(slot) = &slot {
        if let Some(kept) = s.inflight.recall(slot).await {
            return match serde_json::from_str::<(String, MasterKeyReport)>(&kept) {
                Ok((same, report)) if same == request => Ok(Json(report)),
                _ => Err(domain::Error::Conflict(
                    "this Idempotency-Key was already used for another request".into(),
                )
                .into()),
            };
        }
    }
    let report = s
        .portal
        .rotate_master_key(&actor, body.into(), &|_, _| {})
        .await?;
    if let Some(slot) = &slot {
        let kept = serde_json::to_string(&(&request, &report)).unwrap_or_default();
        s.inflight.remember(slot, &kept).await;
    }
    Ok(Json(report))
}

// ---------------------------------------------------------------------------------------------
// Operations

/// How apps sign in: the identity provider, the public client id and the scopes to ask for.
#[utoipa::path(get, path = "/v1/sign-in", tag = "session",
    responses((status = 200, body = SignInInfo)), security(()))]
async fn sign_in_info(State(s): State<AppState>) -> Json<SignInInfo> {
    Json(SignInInfo {
        issuer: s.tokens.issuer().to_string(),
        client_id: s.tokens.settings().app_client_id.clone(),
        scopes: s.tokens.settings().app_scopes.clone(),
    })
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = String)), security(()))]
async fn healthz() -> &'static str {
    "ok"
}

/// The database (and Redis, when configured) answer.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = String), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(()))]
async fn readyz(State(s): State<AppState>) -> ApiResult<&'static str> {
    s.ready().await?;
    Ok("ready")
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, body = Object)), security(()))]
async fn openapi_json() -> impl IntoResponse {
    Json(crate::openapi())
}
