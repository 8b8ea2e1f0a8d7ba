//! The shared query helper: one statement with owned parameters, run on a
//! read connection ([`SqliteStore::one`], [`SqliteStore::all`]) or on the
//! writer ([`SqliteStore::exec`]), with its rows read by a row function and
//! its errors mapped once. The `*_on` functions do the same on a connection a
//! write already holds (inside its savepoint).
//!
//! Parameters are owned [`Value`]s, made by `vals![a, b, …]` from borrowed or
//! owned arguments, so a query can move to another thread.
//! [`Conditions`] builds the optional part of a filtered list's `WHERE`.

use rusqlite::{params_from_iter, types::Value, Connection, OptionalExtension, Row};

use app::models::{
    ActivityId, ApiKeyId, InvitationId, NotificationId, OrderId, TenantId, Timestamp, UserId, WebhookEventId,
};

use super::{map_err, SqliteStore};
use crate::store::{PageCursor, StoreResult};

/// An argument of a query, turned into the value SQLite binds (as its `ToSql` would).
pub(super) trait Param {
    fn into_value(self) -> Value;
}

impl Param for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl Param for &str {
    fn into_value(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Param for String {
    fn into_value(self) -> Value {
        Value::Text(self)
    }
}

impl Param for &String {
    fn into_value(self) -> Value {
        Value::Text(self.clone())
    }
}

impl Param for bool {
    fn into_value(self) -> Value {
        Value::Integer(i64::from(self))
    }
}

impl Param for u16 {
    fn into_value(self) -> Value {
        Value::Integer(i64::from(self))
    }
}

impl Param for u32 {
    fn into_value(self) -> Value {
        Value::Integer(i64::from(self))
    }
}

impl Param for i64 {
    fn into_value(self) -> Value {
        Value::Integer(self)
    }
}

/// Ids bind as their text.
macro_rules! id_params {
    ($($id:ty),+) => {$(
        impl Param for $id {
            fn into_value(self) -> Value {
                Value::Text(self.into_string())
            }
        }

        impl Param for &$id {
            fn into_value(self) -> Value {
                Value::Text(self.to_string())
            }
        }
    )+};
}
id_params!(TenantId, UserId, NotificationId, OrderId, ApiKeyId, ActivityId, WebhookEventId, InvitationId);

/// An instant binds as its one text form (fixed width, so SQL compares it as time).
impl Param for Timestamp {
    fn into_value(self) -> Value {
        Value::Text(self.to_string())
    }
}

impl Param for &Timestamp {
    fn into_value(self) -> Value {
        Value::Text(self.to_string())
    }
}

impl<T: Param> Param for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Null, Param::into_value)
    }
}

impl<T: Param + Clone> Param for &Option<T> {
    fn into_value(self) -> Value {
        self.clone().into_value()
    }
}

/// The parameters `?1`, `?2`, … of a query, as owned values.
macro_rules! vals {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::store::sqlite::query::Param::into_value($value)),*]
    };
}
pub(super) use vals;

/// The first row of `sql`, read by `row`; `None` when there is none.
pub(super) fn one_on<T>(
    c: &Connection,
    sql: &str,
    params: Vec<Value>,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(map_err)?;
    stmt.query_row(params_from_iter(params), row).optional().map_err(map_err)
}

/// Every row of `sql`, read by `row`.
pub(super) fn all_on<T>(
    c: &Connection,
    sql: &str,
    params: Vec<Value>,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(map_err)?;
    let rows = stmt.query_map(params_from_iter(params), row).map_err(map_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
}

/// Runs the statement `sql`; how many rows it changed.
pub(super) fn exec_on(c: &Connection, sql: &str, params: Vec<Value>) -> StoreResult<u64> {
    let mut stmt = c.prepare_cached(sql).map_err(map_err)?;
    stmt.execute(params_from_iter(params)).map(|n| n as u64).map_err(map_err)
}

impl SqliteStore {
    /// The first row of the read `sql`, read by `row`; `None` when there is none.
    pub(super) async fn one<T: Send + 'static>(
        &self,
        sql: impl Into<String>,
        params: Vec<Value>,
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<Option<T>> {
        let sql = sql.into();
        self.read(move |c| one_on(c, &sql, params, row)).await
    }

    /// Every row of the read `sql`, read by `row`.
    pub(super) async fn all<T: Send + 'static>(
        &self,
        sql: impl Into<String>,
        params: Vec<Value>,
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<Vec<T>> {
        let sql = sql.into();
        self.read(move |c| all_on(c, &sql, params, row)).await
    }

    /// The tenant's rows of `table` that `conditions` select, newest first by
    /// `time_column` (then id), at most `limit` (bound as a parameter, so one
    /// prepared statement serves every page size), read by `row`.
    pub(super) async fn newest_first<T: Send + 'static>(
        &self,
        (table, columns, time_column): (&str, &str, &str),
        tenant_id: &TenantId,
        mut conditions: Conditions,
        limit: u32,
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<Vec<T>> {
        let sql = newest_first_sql((table, columns, time_column), &mut conditions, limit);
        self.all(sql, conditions.params(tenant_id), row).await
    }

    /// Runs the write `sql` on the writer (answering after its commit); how many rows it changed.
    pub(super) async fn exec(&self, sql: impl Into<String>, params: Vec<Value>) -> StoreResult<u64> {
        let sql = sql.into();
        self.write(move |c| exec_on(c, &sql, params)).await
    }
}

/// [`SqliteStore::newest_first`]'s statement (`?1` the tenant, then `conditions`' values).
pub(super) fn newest_first_sql(
    (table, columns, time_column): (&str, &str, &str),
    conditions: &mut Conditions,
    limit: u32,
) -> String {
    conditions.add(&format!(" ORDER BY {time_column} DESC, id DESC LIMIT $0"), vals![limit]);
    format!("SELECT {columns} FROM {table} WHERE tenant_id = ?1{}", conditions.sql)
}

/// A WHERE clause after `tenant_id = ?1`, built from optional conditions,
/// with its parameters numbered from `?2`.
#[derive(Default)]
pub(super) struct Conditions {
    pub sql: String,
    values: Vec<Value>,
    /// Parameters the caller binds after `?1` before the conditions' own.
    skipped: usize,
}

impl Conditions {
    /// Leaves `?2` … `?{n+1}` to the caller: the conditions' own start after them.
    pub fn skip(&mut self, n: usize) {
        self.skipped = n;
    }

    /// Appends `clause`, where `$0`, `$1`, … stand for `values` in order.
    pub fn add(&mut self, clause: &str, values: Vec<Value>) {
        let mut clause = clause.to_owned();
        for (i, value) in values.into_iter().enumerate() {
            clause = clause.replace(&format!("${i}"), &format!("?{}", self.values.len() + self.skipped + 2));
            self.values.push(value);
        }
        self.sql.push_str(&clause);
    }

    /// `created_at`-style newest-first paging after `cursor`.
    pub fn after(&mut self, time_column: &str, cursor: Option<&PageCursor>) {
        if let Some(c) = cursor {
            self.add(
                &format!(" AND ({time_column} < $0 OR ({time_column} = $0 AND id < $1))"),
                vec![c.created_at.into_value(), Value::Text(c.id.clone())],
            );
        }
    }

    pub fn text(s: &str) -> Vec<Value> {
        vec![Value::Text(s.to_owned())]
    }

    /// The conditions' own parameters (after those the caller binds).
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The parameters: `tenant_id` as `?1`, then the conditions' own.
    pub fn params(self, tenant_id: &TenantId) -> Vec<Value> {
        let mut all = vals![tenant_id];
        all.extend(self.values);
        all
    }
}
