//! Who is acting, and what their role may do. Every Portal call carries an [`Actor`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ActorType {
    /// A person (an admin at the desktop or CLI, a signed-in user).
    User,
    /// A machine: a partner system or a scheduled job.
    Service,
    /// The application itself (migrations, seeding, maintenance).
    System,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::Service => "service",
            ActorType::System => "system",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(ActorType::User),
            "service" => Some(ActorType::Service),
            "system" => Some(ActorType::System),
            _ => None,
        }
    }
}

/// The portal's roles. A client-role principal is bound to its own organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "role", content = "org_id")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Role {
    /// Operates the portal: every operation.
    Provider,
    /// Builds integrations: reads everything, manages keys and integrations, no secrets admin.
    Developer,
    /// Support lead: triages incidents and reads clients; no keys, secrets, OIDC or integrations.
    Support,
    /// A tenant organisation's user: reads its own organisation only.
    Client(Uuid),
    /// A partner system authenticated by a federation key: may only verify keys.
    Partner,
}

impl Role {
    /// The role's name as tokens and the UI spell it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Developer => "developer",
            Role::Support => "support",
            Role::Client(_) => "client",
            Role::Partner => "partner",
        }
    }
}

/// What an operation needs. The Portal checks one permission per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Permission {
    ReadKeys,
    ManageKeys,
    VerifyKeys,
    ReadOidc,
    ManageOidc,
    ReadIntegrations,
    ManageIntegrations,
    ReadClients,
    ManageClients,
    ReadAudit,
    /// Walk the whole audit chain and sign checkpoints of it: the heaviest read, for admins.
    VerifyAudit,
    ManageSecrets,
    Seed,
    /// See incidents, their timelines, SLA targets and the MTTA / MTTR report.
    ReadIncidents,
    /// Open an incident.
    OpenIncidents,
    /// Comment on an incident.
    CommentIncidents,
    /// Acknowledge, assign, change severity, wait, resolve, close and reopen incidents.
    ManageIncidents,
    /// See escalation policies (their webhook URLs included).
    ReadEscalation,
    /// Edit SLA targets and escalation policies (and read the webhooks' signing secret).
    ManageSla,
    /// See the server's scheduled jobs and run one now (and refresh the analytics snapshots).
    OperateJobs,
    /// See revenue: MRR, ARR, their movements and the organisations behind them.
    ReadRevenue,
    /// Send product events and billing facts (subscription changes) for analytics.
    IngestAnalytics,
    /// See product usage: growth, funnels, top features and organisations by usage (a client:
    /// its own organisation's only).
    ReadUsage,
    /// Save and delete the portal's shared funnel definitions (staff).
    ManageFunnels,
}

impl Permission {
    pub const ALL: [Permission; 24] = [
        Permission::ReadKeys,
        Permission::ManageKeys,
        Permission::VerifyKeys,
        Permission::ReadOidc,
        Permission::ManageOidc,
        Permission::ReadIntegrations,
        Permission::ManageIntegrations,
        Permission::ReadClients,
        Permission::ManageClients,
        Permission::ReadAudit,
        Permission::VerifyAudit,
        Permission::ManageSecrets,
        Permission::Seed,
        Permission::ReadIncidents,
        Permission::OpenIncidents,
        Permission::CommentIncidents,
        Permission::ManageIncidents,
        Permission::ReadEscalation,
        Permission::ManageSla,
        Permission::OperateJobs,
        Permission::ReadRevenue,
        Permission::IngestAnalytics,
        Permission::ReadUsage,
        Permission::ManageFunnels,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadKeys => "read_keys",
            Permission::ManageKeys => "manage_keys",
            Permission::VerifyKeys => "verify_keys",
            Permission::ReadOidc => "read_oidc",
            Permission::ManageOidc => "manage_oidc",
            Permission::ReadIntegrations => "read_integrations",
            Permission::ManageIntegrations => "manage_integrations",
            Permission::ReadClients => "read_clients",
            Permission::ManageClients => "manage_clients",
            Permission::ReadAudit => "read_audit",
            Permission::VerifyAudit => "verify_audit",
            Permission::ManageSecrets => "manage_secrets",
            Permission::Seed => "seed",
            Permission::ReadIncidents => "read_incidents",
            Permission::OpenIncidents => "open_incidents",
            Permission::CommentIncidents => "comment_incidents",
            Permission::ManageIncidents => "manage_incidents",
            Permission::ReadEscalation => "read_escalation",
            Permission::ManageSla => "manage_sla",
            Permission::OperateJobs => "operate_jobs",
            Permission::ReadRevenue => "read_revenue",
            Permission::IngestAnalytics => "ingest_analytics",
            Permission::ReadUsage => "read_usage",
            Permission::ManageFunnels => "manage_funnels",
        }
    }
}

impl Role {
    /// What this role may do on its own organisation (or on the portal, for staff roles).
    pub fn permissions(self) -> Vec<Permission> {
        let org = match self {
            Role::Client(own) => Some(own),
            _ => None,
        };
        Permission::ALL
            .into_iter()
            .filter(|p| self.allows(*p, org))
            .collect()
    }

    /// The authorization rule table. `org` is the organisation a resource belongs to, when it
    /// belongs to one: a client-role actor may only read its own.
    pub fn allows(self, p: Permission, org: Option<Uuid>) -> bool {
        use Permission::*;
        match self {
            Role::Provider => true,
            Role::Developer => matches!(
                p,
                ReadKeys
                    | ManageKeys
                    | VerifyKeys
                    | ReadOidc
                    | ReadIntegrations
                    | ManageIntegrations
                    | ReadClients
                    | ReadAudit
                    | ReadIncidents
                    | OpenIncidents
                    | CommentIncidents
                    | ReadEscalation
                    | ReadUsage
                    | ManageFunnels
            ),
            Role::Support => matches!(
                p,
                ReadClients
                    | ReadIncidents
                    | OpenIncidents
                    | CommentIncidents
                    | ManageIncidents
                    | ReadEscalation
                    | ReadUsage
                    | ManageFunnels
            ),
            Role::Client(own) => {
                matches!(
                    p,
                    ReadClients | ReadIncidents | OpenIncidents | CommentIncidents | ReadUsage
                ) && org == Some(own)
            }
            Role::Partner => matches!(p, VerifyKeys),
        }
    }
}

/// The principal behind a call, with the request context written into its audit events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub actor_type: ActorType,
    pub role: Role,
    pub ip: Option<String>,
    pub ua: Option<String>,
    /// The API request this call serves, when it came through the portal API.
    #[serde(default)]
    pub request_id: Option<String>,
}

impl Actor {
    /// The local administrator of an embedded or direct workspace (desktop, CLI).
    pub fn local_admin(login: &str, ua: &str) -> Self {
        Actor {
            id: format!("local:{login}"),
            name: login.to_string(),
            actor_type: ActorType::User,
            role: Role::Provider,
            ip: None,
            ua: Some(ua.to_string()),
            request_id: None,
        }
    }

    /// The application itself (seeding, maintenance).
    pub fn system(what: &str) -> Self {
        Actor {
            id: format!("system:{what}"),
            name: what.to_string(),
            actor_type: ActorType::System,
            role: Role::Provider,
            ip: None,
            ua: None,
            request_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_role_is_bound_to_its_own_organisation() {
        let own = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        assert!(Role::Client(own).allows(Permission::ReadClients, Some(own)));
        assert!(!Role::Client(own).allows(Permission::ReadClients, Some(other)));
        assert!(!Role::Client(own).allows(Permission::ReadClients, None));
        assert!(!Role::Client(own).allows(Permission::ManageKeys, Some(own)));
    }

    #[test]
    fn developer_cannot_administer_secrets_or_oidc() {
        assert!(Role::Developer.allows(Permission::ManageKeys, None));
        assert!(!Role::Developer.allows(Permission::ManageSecrets, None));
        assert!(!Role::Developer.allows(Permission::ManageOidc, None));
        assert!(Role::Provider.allows(Permission::ManageSecrets, None));
    }
}
