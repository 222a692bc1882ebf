//! The device's database as the client sees it: every synced table with the statements sync
//! runs on it, and the outbox.
//!
//! Rows are read and written by name through statements built once from [`SchemaMeta`]; values
//! cross between their wire form and their stored form through [`Storage`], the same mapping the
//! embedded server store uses. Outbox keys are the JSON objects the generated triggers wrote
//! (`json_object` of the stored key values), so a statement finds a row by its outbox key with
//! `json_extract`, and an outbox entry by a row's stored key with `json_object`, without
//! rebuilding the JSON text in Rust.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::Value;

use super::ClientError;
use crate::protocol::Key;
use crate::schema::{ColumnMeta, SchemaMeta, TableMeta};
use crate::sql::{quote_ident as ident, quote_literal as literal};
use crate::sqlite_value::Storage;

/// One synced table of the local database.
pub(super) struct TablePlan {
    pub meta: &'static TableMeta,
    /// Every column with its storage, in table order.
    columns: Vec<(&'static ColumnMeta, Storage)>,
    /// The columns of a primary key, with their storage, in key order.
    key: Vec<(&'static str, Storage)>,
    /// The row whose outbox key is `?1`.
    select_by_key_json: String,
    /// Every row, in primary key order.
    select_all: String,
    /// Insert a whole row (`?1`... in column order), or overwrite the row with its key.
    upsert: String,
    /// Delete the row whose stored key values are `?1`...
    delete: String,
    /// The outbox entry (`key`, `seq`, `deleted_at`) of the row whose stored key values are `?1`...
    pending: String,
    /// The outbox key of stored key values `?1`...
    key_json: String,
}

impl TablePlan {
    /// The plan of `table`, whose columns the database declares with the types `declared`.
    fn new(table: &'static TableMeta, declared: &[(String, String)]) -> Result<Self, ClientError> {
        let mut columns = Vec::with_capacity(table.columns.len());
        for column in table.columns {
            let ty = declared.iter().find(|(name, _)| name == column.name).map(|(_, ty)| ty);
            let ty = ty.ok_or_else(|| {
                ClientError::Database(format!(
                    "table `{}` has no column `{}`: the database is not at this schema",
                    table.name, column.name
                ))
            })?;
            let storage = Storage::of(column.ty, ty).map_err(|e| {
                ClientError::Database(format!("column `{}.{}`: {e}", table.name, column.name))
            })?;
            columns.push((column, storage));
        }
        let storage_of = |name: &str| {
            columns
                .iter()
                .find(|(c, _)| c.name == name)
                .map(|(_, s)| *s)
                .expect("key columns exist")
        };
        let key: Vec<(&'static str, Storage)> =
            table.primary_key.iter().map(|k| (*k, storage_of(k))).collect();

        let name = ident(table.name);
        let names: Vec<String> = columns.iter().map(|(c, _)| ident(c.name)).collect();
        let key_names: Vec<String> = key.iter().map(|(k, _)| ident(k)).collect();
        let by_json: Vec<String> = key
            .iter()
            .map(|(k, _)| {
                format!("{} = json_extract(?1, {})", ident(k), literal(&format!("$.\"{k}\"")))
            })
            .collect();
        let by_values: Vec<String> =
            key_names.iter().enumerate().map(|(i, k)| format!("{k} = ?{}", i + 1)).collect();
        let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let updates: Vec<String> = names
            .iter()
            .filter(|n| !key_names.contains(n))
            .map(|n| format!("{n} = excluded.{n}"))
            .collect();
        let on_conflict = if updates.is_empty() {
            "DO NOTHING".to_owned()
        } else {
            format!("DO UPDATE SET {}", updates.join(", "))
        };
        let key_object: Vec<String> = key
            .iter()
            .enumerate()
            .map(|(i, (k, _))| format!("{}, ?{}", literal(k), i + 1))
            .collect();
        let key_object = format!("json_object({})", key_object.join(", "));
        Ok(TablePlan {
            meta: table,
            select_by_key_json: format!(
                "SELECT {} FROM {name} WHERE {}",
                names.join(", "),
                by_json.join(" AND ")
            ),
            select_all: format!(
                "SELECT {} FROM {name} ORDER BY {}",
                names.join(", "),
                key_names.join(", ")
            ),
            upsert: format!(
                "INSERT INTO {name} ({}) VALUES ({}) ON CONFLICT ({}) {on_conflict}",
                names.join(", "),
                placeholders.join(", "),
                key_names.join(", ")
            ),
            delete: format!("DELETE FROM {name} WHERE {}", by_values.join(" AND ")),
            pending: format!(
                "SELECT key, seq, deleted_at FROM _sync_outbox WHERE table_name = {} AND key = {key_object}",
                literal(table.name)
            ),
            key_json: format!("SELECT {key_object}"),
            columns,
            key,
        })
    }

    /// The row whose outbox key is `key_json`, in wire form, or `None` when it is gone.
    pub fn read(&self, conn: &Connection, key_json: &str) -> Result<Option<Key>, ClientError> {
        let mut statement =
            conn.prepare_cached(&self.select_by_key_json).map_err(db("reading a row"))?;
        statement
            .query_row([key_json], |row| self.wire_row(row))
            .optional()
            .map_err(db(&format!("reading a row of `{}`", self.meta.name)))
    }

    /// Every row of the table in wire form, in primary key order.
    pub fn all(&self, conn: &Connection) -> Result<Vec<Key>, ClientError> {
        let doing = format!("reading the rows of `{}`", self.meta.name);
        let mut statement = conn.prepare(&self.select_all).map_err(db(&doing))?;
        statement
            .query_map([], |row| self.wire_row(row))
            .and_then(Iterator::collect)
            .map_err(db(&doing))
    }

    /// A row read with every column in table order, in wire form.
    fn wire_row(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<Key> {
        let mut values = Key::new();
        for (i, (column, storage)) in self.columns.iter().enumerate() {
            let stored = row.get_ref(i)?;
            let value = storage.to_wire(stored).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    stored.data_type(),
                    format!("column `{}.{}`: {e}", self.meta.name, column.name).into(),
                )
            })?;
            values.insert(column.name.to_owned(), value);
        }
        Ok(values)
    }

    /// Insert `row` (wire form) or overwrite the row with its key. A column the row leaves out
    /// is stored as NULL.
    pub fn upsert(&self, conn: &Connection, row: &Key) -> Result<(), ClientError> {
        self.try_upsert(conn, row)?
            .map_err(db(&format!("storing a pulled row of `{}`", self.meta.name)))
    }

    /// [`upsert`](Self::upsert), with SQLite's refusal (a unique key another row holds) left
    /// to the caller.
    pub fn try_upsert(
        &self,
        conn: &Connection,
        row: &Key,
    ) -> Result<rusqlite::Result<()>, ClientError> {
        let mut values = Vec::with_capacity(self.columns.len());
        for (column, storage) in &self.columns {
            values.push(stored(self.meta, column.name, *storage, row.get(column.name))?);
        }
        let mut statement = conn.prepare_cached(&self.upsert).map_err(db("preparing an upsert"))?;
        Ok(statement.execute(params_from_iter(values)).map(drop))
    }

    /// The outbox keys of the live rows other than `row` that hold `row`'s values in `columns`.
    pub fn holders(
        &self,
        conn: &Connection,
        columns: &[&str],
        row: &Key,
    ) -> Result<Vec<String>, ClientError> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        for name in columns {
            let (column, storage) = self.column(name)?;
            values.push(stored(self.meta, column.name, storage, row.get(column.name))?);
            // `=`: a NULL never clashes in a unique key.
            conditions.push(format!("{} = ?{}", ident(name), values.len()));
        }
        let mut same_key = Vec::new();
        for (name, storage) in &self.key {
            values.push(stored(self.meta, name, *storage, row.get(*name))?);
            same_key.push(format!("{} IS ?{}", ident(name), values.len()));
        }
        if let Some(deleted) = self.meta.sync.deleted {
            conditions.push(format!("{} = 0", ident(deleted)));
        }
        let key_object: Vec<String> =
            self.key.iter().map(|(k, _)| format!("{}, {}", literal(k), ident(k))).collect();
        let sql = format!(
            "SELECT json_object({}) FROM {} WHERE {} AND NOT ({})",
            key_object.join(", "),
            ident(self.meta.name),
            conditions.join(" AND "),
            same_key.join(" AND ")
        );
        let mut statement = conn.prepare(&sql).map_err(db("looking for a unique value"))?;
        statement
            .query_map(params_from_iter(values), |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(db(&format!("looking for a unique value in `{}`", self.meta.name)))
    }

    fn column(&self, name: &str) -> Result<(&'static ColumnMeta, Storage), ClientError> {
        let found = self.columns.iter().find(|(c, _)| c.name == name);
        found.map(|(c, s)| (*c, *s)).ok_or_else(|| {
            ClientError::Database(format!("`{}` has no column `{name}`", self.meta.name))
        })
    }

    /// Delete the row with the stored key `key`.
    pub fn delete(&self, conn: &Connection, key: &[SqlValue]) -> Result<(), ClientError> {
        let mut statement = conn.prepare_cached(&self.delete).map_err(db("preparing a delete"))?;
        statement
            .execute(params_from_iter(key))
            .map_err(db(&format!("deleting a row of `{}`", self.meta.name)))?;
        Ok(())
    }

    /// The stored key of a row or key in wire form.
    pub fn stored_key(&self, values: &Key) -> Result<Vec<SqlValue>, ClientError> {
        self.key.iter().map(|(k, storage)| stored(self.meta, k, *storage, values.get(*k))).collect()
    }

    /// The wire form of an outbox key.
    pub fn wire_key(&self, key_json: &str) -> Result<Key, ClientError> {
        let stored: Key = serde_json::from_str(key_json).map_err(|e| {
            ClientError::Database(format!("outbox key `{key_json}` of `{}`: {e}", self.meta.name))
        })?;
        let mut key = Key::new();
        for (name, storage) in &self.key {
            let value = stored.get(*name).unwrap_or(&Value::Null);
            let wire = storage.json_to_wire(value).map_err(|e| {
                ClientError::Database(format!(
                    "outbox key `{key_json}` of `{}`: {e}",
                    self.meta.name
                ))
            })?;
            key.insert((*name).to_owned(), wire);
        }
        Ok(key)
    }

    /// The outbox entry of the row with the stored key `key`, if it has one.
    pub fn pending(
        &self,
        conn: &Connection,
        key: &[SqlValue],
    ) -> Result<Option<Pending>, ClientError> {
        let mut statement =
            conn.prepare_cached(&self.pending).map_err(db("preparing an outbox read"))?;
        statement
            .query_row(params_from_iter(key), |row| {
                Ok(Pending { key_json: row.get(0)?, deleted_at: row.get(2)? })
            })
            .optional()
            .map_err(db("reading the outbox"))
    }

    /// The outbox key of the stored key `key`.
    pub fn key_json(&self, conn: &Connection, key: &[SqlValue]) -> Result<String, ClientError> {
        let mut statement = conn.prepare_cached(&self.key_json).map_err(db("preparing a key"))?;
        statement.query_row(params_from_iter(key), |row| row.get(0)).map_err(db("building a key"))
    }
}

/// An outbox entry found for a pulled row: a local write not yet acknowledged by the server.
pub(super) struct Pending {
    pub key_json: String,
    /// When the row was deleted locally; `None` for a row that exists.
    pub deleted_at: Option<String>,
}

/// One outbox entry, as read for a push.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub table: String,
    pub key_json: String,
    pub seq: i64,
    pub deleted_at: Option<String>,
}

/// `limit` outbox entries: those of the first table in `plans` (foreign key order) first, and
/// the oldest first within a table. An outbox larger than one push is pushed over several
/// requests; in sequence order alone, a child written before its parent's latest edit would go in
/// a request before its parent reached the server, which refuses it, again at every retry.
pub(super) fn outbox(
    conn: &Connection,
    plans: &[TablePlan],
    limit: usize,
) -> Result<Vec<Entry>, ClientError> {
    let ranks: Vec<String> = plans
        .iter()
        .enumerate()
        .map(|(rank, plan)| format!("WHEN {} THEN {rank}", literal(plan.meta.name)))
        .collect();
    let sql = format!(
        "SELECT table_name, key, seq, deleted_at FROM _sync_outbox \
         ORDER BY CASE table_name {} ELSE {} END, seq LIMIT ?1",
        ranks.join(" "),
        plans.len()
    );
    let mut statement = conn.prepare_cached(&sql).map_err(db("reading the outbox"))?;
    statement
        .query_map([limit as i64], |row| {
            Ok(Entry {
                table: row.get(0)?,
                key_json: row.get(1)?,
                seq: row.get(2)?,
                deleted_at: row.get(3)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(db("reading the outbox"))
}

/// The plans of every synced table of the SQLite target, in schema order.
pub(super) fn plans(conn: &Connection, schema: &SchemaMeta) -> Result<Vec<TablePlan>, ClientError> {
    let mut plans = Vec::new();
    for table in schema.tables.iter().copied().filter(|t| t.targets.sqlite && t.is_synced()) {
        let mut statement = conn
            .prepare("SELECT name, type FROM pragma_table_info(?1)")
            .map_err(db("reading the columns"))?;
        let declared: Vec<(String, String)> = statement
            .query_map([table.name], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(db(&format!("reading the columns of `{}`", table.name)))?;
        plans.push(TablePlan::new(table, &declared)?);
    }
    Ok(plans)
}

/// The stored form of the wire value of `column`; a missing value is NULL.
fn stored(
    table: &TableMeta,
    column: &str,
    storage: Storage,
    value: Option<&Value>,
) -> Result<SqlValue, ClientError> {
    storage.to_sql(value.unwrap_or(&Value::Null)).map_err(|e| {
        ClientError::Protocol(format!("column `{}.{column}` of a pulled change: {e}", table.name))
    })
}

/// A mapper of SQLite errors to [`ClientError::Database`] that says what was being done.
pub(super) fn db(doing: &str) -> impl Fn(rusqlite::Error) -> ClientError + '_ {
    move |e| ClientError::Database(format!("{doing}: {e}"))
}
