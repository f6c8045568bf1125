//! Shared SQL helpers: the query builder, column readers, bind lists, and page and cursor helpers.

use super::map_err;
use crate::{Result, StoreError};
use domain::Timestamp;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Arguments, Encode, Row, Type};
use uuid::Uuid;

/// A query under construction: numbered placeholders (`$1`, `$2`, … — both backends accept them).
pub(crate) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    n: usize,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            args: AnyArguments::default(),
            n: 0,
        }
    }
    /// Binds a value and returns its placeholder.
    pub(crate) fn bind<T>(&mut self, v: T) -> String
    where
        T: 'static + Send + Encode<'static, Any> + Type<Any>,
    {
        self.n += 1;
        // Adding to AnyArguments only fails for types Any cannot carry, which we never bind.
        let _ = self.args.add(v);
        format!("${}", self.n)
    }
    pub(crate) fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }
    pub(crate) fn query(self) -> (String, AnyArguments<'static>) {
        (self.text, self.args)
    }
}

/// How many rows of `params` bound parameters each one multi-row statement (or `IN` list)
/// takes on `backend`. SQLite's driver looks up every parameter's name by a linear search of
/// the statement's names (`sqlite3_bind_parameter_name`), so binding n parameters costs n²:
/// at 2,800 a statement spent more time binding than writing (57% of a pull's time, measured
/// with perf). A couple of hundred keeps that negligible. PostgreSQL binds by position, and
/// fewer, larger statements save round trips.
pub(crate) fn rows_per_statement(backend: super::Backend, params: usize) -> usize {
    let budget = match backend {
        super::Backend::Sqlite => 250,
        super::Backend::Postgres => 4_000,
    };
    (budget / params.max(1)).max(1)
}

pub(crate) fn ts(r: &AnyRow, col: &str) -> Result<Timestamp> {
    Ok(Timestamp::from_millis(
        r.try_get::<i64, _>(col).map_err(map_err)?,
    ))
}
pub(crate) fn opt_ts(r: &AnyRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(r.try_get::<Option<i64>, _>(col)
        .map_err(map_err)?
        .map(Timestamp::from_millis))
}
pub(crate) fn text(r: &AnyRow, col: &str) -> Result<String> {
    r.try_get::<String, _>(col).map_err(map_err)
}
pub(crate) fn opt_text(r: &AnyRow, col: &str) -> Result<Option<String>> {
    r.try_get::<Option<String>, _>(col).map_err(map_err)
}
pub(crate) fn uuid(r: &AnyRow, col: &str) -> Result<Uuid> {
    Uuid::parse_str(&text(r, col)?)
        .map_err(|e| StoreError::Internal(format!("bad uuid in {col}: {e}")))
}
pub(crate) fn json_col(r: &AnyRow, col: &str) -> Result<Option<serde_json::Value>> {
    opt_text(r, col)?
        .map(|s| {
            serde_json::from_str(&s)
                .map_err(|e| StoreError::Internal(format!("bad JSON in {col}: {e}")))
        })
        .transpose()
}

pub(crate) fn args() -> AnyArguments<'static> {
    AnyArguments::default()
}

/// The arguments of a write, bound in order to `$1`, `$2`, ….
macro_rules! bind_all {
    ($($v:expr),* $(,)?) => {{
        let mut a = $crate::sql::rows::args();
        $( let _ = ::sqlx::Arguments::add(&mut a, $v); )*
        a
    }};
}
pub(crate) use bind_all;

/// An update or delete that touched no row means the row is gone.
pub(crate) fn must_change(n: u64) -> Result<()> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub(crate) fn like_pattern(s: &str) -> String {
    let escaped = s
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub(crate) fn two_part_cursor(c: &str) -> Result<(String, String)> {
    let bytes = data_hex(c).ok_or(StoreError::BadCursor)?;
    let v: (String, String) = serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)?;
    Ok(v)
}
pub(crate) fn make_cursor(a: &str, b: &str) -> String {
    let json = serde_json::to_vec(&(a, b)).unwrap_or_default();
    json.iter().map(|b| format!("{b:02x}")).collect()
}
fn data_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 4096 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Keeps `limit` items and returns the cursor of the last one when more followed.
pub(crate) fn page_cut<T>(
    items: &mut Vec<T>,
    limit: u32,
    cursor: impl Fn(&T) -> String,
) -> Option<String> {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(cursor)
    } else {
        None
    }
}
