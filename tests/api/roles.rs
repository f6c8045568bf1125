//! The product's role table, `docs/roles.md`, read for the auth matrix: who may do what, written
//! from the design independently of the code. The matrix (`matrix.rs`) checks the served routes
//! against it; this module also checks `domain::Role` against it directly.

use domain::{Permission, Role};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

const ROLES_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/roles.md");

/// The pseudo-permission of routes that need a signed-in principal and nothing more.
pub const SIGN_IN: &str = "sign_in";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Yes,
    /// Only on the role's own organisation.
    Own,
    No,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    None,
    Bearer,
    FederationKey,
}

#[derive(Debug, Clone)]
pub struct DocRole {
    pub name: String,
    /// Written down for the product, not a role in the code yet.
    pub planned: bool,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    pub credential: Credential,
    /// `None` for public routes.
    pub permission: Option<String>,
}

#[derive(Debug)]
pub struct RoleDoc {
    pub roles: Vec<DocRole>,
    /// permission → one cell per role, in `roles` order.
    pub grants: BTreeMap<String, Vec<Cell>>,
    /// (METHOD, path) → operation.
    pub routes: BTreeMap<(String, String), Operation>,
    /// Operations without a route.
    pub unrouted: Vec<Operation>,
}

impl RoleDoc {
    pub fn cell(&self, permission: &str, role: &str) -> Cell {
        let col = self
            .roles
            .iter()
            .position(|r| r.name == role)
            .unwrap_or_else(|| panic!("docs/roles.md has no column for the role {role}"));
        self.grants.get(permission).unwrap_or_else(|| {
            panic!("docs/roles.md lists no permission {permission} in its role table")
        })[col]
    }
}

/// The cells of a markdown table row, trimmed, without backticks.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner
        .split('|')
        .map(|c| c.trim().trim_matches('`').trim().to_string())
        .collect()
}

/// The rows of the table whose header starts with `first`, header included.
fn table(text: &str, first: &str) -> Vec<Vec<String>> {
    let mut lines = text.lines().skip_while(|l| {
        !l.trim_start().starts_with('|') || cells(l).first().map(String::as_str) != Some(first)
    });
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("docs/roles.md has no table whose first column is `{first}`"));
    let mut rows = vec![cells(header)];
    let sep = lines.next().unwrap_or_default();
    assert!(
        sep.trim_start().starts_with("|-") || sep.trim_start().starts_with("| -"),
        "docs/roles.md: the `{first}` table's header is followed by its separator row"
    );
    rows.extend(
        lines
            .take_while(|l| l.trim_start().starts_with('|'))
            .map(cells),
    );
    rows
}

pub fn read_role_doc() -> RoleDoc {
    let text = std::fs::read_to_string(ROLES_DOC)
        .unwrap_or_else(|e| panic!("the role table {ROLES_DOC} must exist: {e}"));

    let grants_table = table(&text, "permission");
    let roles: Vec<DocRole> = grants_table[0][1..]
        .iter()
        .map(|h| {
            let planned = h.contains("(planned)");
            DocRole {
                name: h.replace("(planned)", "").trim().to_string(),
                planned,
            }
        })
        .collect();
    let mut grants = BTreeMap::new();
    for row in &grants_table[1..] {
        assert_eq!(
            row.len(),
            roles.len() + 1,
            "docs/roles.md: the row of {} has one cell per role",
            row[0]
        );
        let row_cells = row[1..]
            .iter()
            .map(|c| match c.as_str() {
                "yes" => Cell::Yes,
                "own" => Cell::Own,
                "no" => Cell::No,
                other => panic!(
                    "docs/roles.md: `{other}` (for {}) is not yes, own or no",
                    row[0]
                ),
            })
            .collect();
        assert!(
            grants.insert(row[0].clone(), row_cells).is_none(),
            "docs/roles.md lists {} twice",
            row[0]
        );
    }

    let mut routes = BTreeMap::new();
    let mut unrouted = Vec::new();
    for row in &table(&text, "operation")[1..] {
        let [name, route, credential, permission] = row.as_slice() else {
            panic!("docs/roles.md: operation row {row:?} has four cells")
        };
        let credential = match credential.as_str() {
            "bearer" => Credential::Bearer,
            "federation key" => Credential::FederationKey,
            "none" | "—" => Credential::None,
            other => panic!("docs/roles.md: {name}: unknown credential `{other}`"),
        };
        let permission = match permission.as_str() {
            "—" => None,
            p => {
                assert!(
                    grants.contains_key(p),
                    "docs/roles.md: {name} needs {p}, which the role table does not list"
                );
                Some(p.to_string())
            }
        };
        let op = Operation {
            name: name.clone(),
            credential,
            permission,
        };
        if route == "—" {
            unrouted.push(op);
            continue;
        }
        let (method, path) = route
            .split_once(' ')
            .unwrap_or_else(|| panic!("docs/roles.md: {name}: route `{route}` is `METHOD /path`"));
        let clash = routes.insert((method.to_string(), path.to_string()), op);
        assert!(clash.is_none(), "docs/roles.md lists {route} twice");
    }
    RoleDoc {
        roles,
        grants,
        routes,
        unrouted,
    }
}

/// The code's role of this name, if the code has one (read through `Role`'s own serde names,
/// so a role added to the code is found here without a change).
pub fn role_in_code(name: &str, org: uuid::Uuid) -> Option<Role> {
    serde_json::from_value::<Role>(json!({ "role": name }))
        .or_else(|_| serde_json::from_value::<Role>(json!({ "role": name, "org_id": org })))
        .ok()
        .filter(|r| r.name() == name)
}

fn permission(name: &str) -> Option<Permission> {
    Permission::ALL.into_iter().find(|p| p.as_str() == name)
}

#[test]
fn the_role_table_in_the_docs_is_what_the_code_allows() {
    let doc = read_role_doc();
    let documented: BTreeSet<&str> = doc
        .grants
        .keys()
        .map(String::as_str)
        .filter(|p| *p != SIGN_IN)
        .collect();
    let in_code: BTreeSet<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(
        documented, in_code,
        "docs/roles.md must list exactly the permissions the code has"
    );
    let needed: BTreeSet<&str> = doc
        .routes
        .values()
        .chain(&doc.unrouted)
        .filter_map(|o| o.permission.as_deref())
        .collect();
    for p in &in_code {
        assert!(
            needed.contains(p),
            "docs/roles.md: no operation needs {p}: a permission nothing checks is dead"
        );
    }

    let own = uuid::Uuid::from_u128(1);
    let other = uuid::Uuid::from_u128(2);
    let mut checked = 0;
    for r in &doc.roles {
        let Some(role) = role_in_code(&r.name, own) else {
            assert!(
                r.planned,
                "docs/roles.md names the role {} that the code does not have: mark it (planned) or add it",
                r.name
            );
            continue;
        };
        assert!(
            !r.planned,
            "{} is a role in the code now: remove \"(planned)\" from its column in docs/roles.md so the matrix checks it",
            r.name
        );
        for name in doc.grants.keys() {
            let Some(p) = permission(name) else { continue };
            let cell = doc.cell(name, &r.name);
            let (anywhere, on_own, on_other) = (
                role.allows(p, None),
                role.allows(p, Some(own)),
                role.allows(p, Some(other)),
            );
            let code = match (anywhere, on_own, on_other) {
                (true, true, true) => Cell::Yes,
                (false, true, false) => Cell::Own,
                (false, false, false) => Cell::No,
                odd => panic!("{}: {name}: an unexpected rule {odd:?}", r.name),
            };
            assert_eq!(
                code, cell,
                "{} and {name}: the code allows {code:?}, docs/roles.md says {cell:?}",
                r.name
            );
            assert_eq!(
                role.permissions().contains(&p),
                cell != Cell::No,
                "{}: Role::permissions (what /v1/me reports) agrees with Role::allows on {name}",
                r.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 4 * in_code.len(), "the four roles were checked");
}
