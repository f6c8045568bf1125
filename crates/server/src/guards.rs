//! The guard of every route, read from the routes' own OpenAPI declarations — so what the
//! document promises is what the server enforces. A route's `security` names its guard: none
//! (`[{}]`, public), `federation_key` (partners), or `bearer` with the permission it needs as
//! the scope. The authentication middleware refuses a route that declares no guard: a new
//! route cannot be reachable without one.

use axum::http::Method;
use domain::Permission;
use serde_json::Value;
use std::collections::HashMap;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    Public,
    Partner,
    /// A signed-in principal whose role has this permission (none: any signed-in principal).
    User(Option<Permission>),
}

/// (method, route path as declared, e.g. `/v1/keys/{id}`) → guard.
pub type Guards = HashMap<(Method, String), Guard>;

pub const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Reads the guards from an OpenAPI document. Errors name each route whose guard is missing
/// or unreadable.
pub fn from_openapi(doc: &Value) -> Result<Guards, Vec<String>> {
    let mut guards = HashMap::new();
    let mut problems = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Err(vec!["the document has no paths".into()]);
    };
    for (path, item) in paths {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap_or(Method::GET);
            match guard_of(op) {
                Ok(g) => {
                    guards.insert((method, path.clone()), g);
                }
                Err(e) => problems.push(format!("{} {path}: {e}", m.to_uppercase())),
            }
        }
    }
    if problems.is_empty() {
        Ok(guards)
    } else {
        Err(problems)
    }
}

fn guard_of(op: &Value) -> Result<Guard, String> {
    let reqs = op
        .get("security")
        .and_then(Value::as_array)
        .ok_or("declares no security (its guard)")?;
    match reqs.as_slice() {
        [one] => {
            let obj = one.as_object().ok_or("malformed security")?;
            if obj.is_empty() {
                return Ok(Guard::Public);
            }
            if obj.contains_key("federation_key") {
                return Ok(Guard::Partner);
            }
            let scopes = obj
                .get("bearer")
                .and_then(Value::as_array)
                .ok_or("security names an unknown scheme")?;
            match scopes.as_slice() {
                [] => Ok(Guard::User(None)),
                [s] => {
                    let s = s.as_str().unwrap_or_default();
                    Permission::ALL
                        .into_iter()
                        .find(|p| p.as_str() == s)
                        .map(|p| Guard::User(Some(p)))
                        .ok_or_else(|| format!("unknown permission `{s}`"))
                }
                _ => Err("one permission per route".into()),
            }
        }
        _ => Err("exactly one security requirement per route".into()),
    }
}
