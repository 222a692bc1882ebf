//! The SQL text of every statement the Postgres store runs, built once per table from the
//! metadata and the column types the live catalog reports (so legacy storage, such as
//! `timestamp` without a time zone or `json` rather than `jsonb`, converts correctly).
//!
//! Values travel as one `json` parameter per statement and become typed rows through
//! `json_to_recordset`, so a batch of any size is one statement and one round trip; a column
//! kept in another type than its logical type's (a 0/1 boolean, JSON in `text`) is read as the
//! logical type and converted, as its metadata says. Rows come back as typed columns that
//! [`super::encode`] writes as wire JSON.

use super::encode::select_item;
use crate::schema::{ColumnMeta, LogicalType, SchemaMeta, Scope, StoredAs, TableMeta};

/// How [`PgTable::select_locked`] locks the rows it reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum Lock {
    NoKeyUpdate,
    KeyShare,
}

/// Which conflicting rows [`PgTable::insert`] skips.
#[derive(Debug, Clone, Copy)]
pub(super) enum Skip {
    /// Rows whose primary key exists.
    KeyConflict,
    /// Rows that conflict with any unique key or index.
    AnyConflict,
}

/// A synced table as the Postgres store sees it.
#[derive(Debug)]
pub(super) struct PgTable {
    pub meta: &'static TableMeta,
    /// Position in pull order (tombstones are 0).
    pub index: usize,
    /// `format_type` of every column of `meta.columns`, in order.
    pub types: Vec<String>,
    /// Every column, and the primary key's columns, in the order their values are selected.
    pub columns: Vec<&'static ColumnMeta>,
    pub key: Vec<&'static ColumnMeta>,
    /// `SELECT` list items of every column and of the key, from alias `t`, for
    /// [`super::encode`].
    pub select_row: String,
    pub select_key: String,
    /// The average size of a row of this table in the JSON of recent pulls (0: none yet), so a
    /// pull asks Postgres for about as many rows as a page's bytes hold.
    pub row_bytes: std::sync::atomic::AtomicUsize,
}

pub(super) use crate::sql::{quote_ident as quote, quote_literal as literal};

impl PgTable {
    pub fn new(meta: &'static TableMeta, index: usize, types: Vec<String>) -> Self {
        let columns: Vec<&'static ColumnMeta> = meta.columns.iter().collect();
        let key: Vec<&'static ColumnMeta> = meta
            .primary_key
            .iter()
            .map(|k| meta.column(k).expect("primary key columns are columns"))
            .collect();
        let items = |of: &[&ColumnMeta]| {
            let items: Vec<String> = of
                .iter()
                .map(|c| {
                    let i = meta.columns.iter().position(|m| m.name == c.name).expect("a column");
                    select_item("t", c, &types[i])
                })
                .collect();
            items.join(", ")
        };
        let (select_row, select_key) = (items(&columns), items(&key));
        let row_bytes = std::sync::atomic::AtomicUsize::new(0);
        PgTable { meta, index, types, columns, key, select_row, select_key, row_bytes }
    }

    fn column_type(&self, name: &str) -> &str {
        let i =
            self.meta.columns.iter().position(|c| c.name == name).expect("a column of the table");
        &self.types[i]
    }

    /// `json_to_recordset($1) AS r(...)` for these columns, each read as [`Self::read_type`].
    /// The parameter is `json`, not `jsonb`: Postgres reads it as it is rather than building a
    /// binary tree first.
    fn recordset(&self, columns: &[&str]) -> String {
        let defs: Vec<String> =
            columns.iter().map(|c| format!("{} {}", quote(c), self.read_type(c))).collect();
        format!("json_to_recordset($1::json) AS r({})", defs.join(", "))
    }

    /// The type a wire value of column `name` is read as: the column's own, unless its storage
    /// override keeps it as another type (docs/types.md), whose values
    /// [`Self::stored`] converts. Read as the column's `integer`, `false` would be an error,
    /// and read as its `text`, the JSON string `"a"` would be stored as `a`.
    fn read_type(&self, name: &str) -> &str {
        match self.stored_as(name) {
            Some(StoredAs::Integer) => "boolean",
            Some(StoredAs::Text) => "json",
            None => self.column_type(name),
        }
    }

    /// `value`, a value of column `name` read as [`Self::read_type`], as the column stores it:
    /// a boolean as 0 or 1, a JSON document as its text.
    fn stored(&self, name: &str, value: &str) -> String {
        match self.stored_as(name) {
            Some(StoredAs::Integer) => format!("{value}::int4"),
            Some(StoredAs::Text) => format!("{value}::text"),
            None => value.to_owned(),
        }
    }

    /// The storage override of column `name` that [`Self::read_type`] handles.
    fn stored_as(&self, name: &str) -> Option<StoredAs> {
        let column = self.meta.column(name).expect("a column of the table");
        match (column.ty, column.storage.stored_as) {
            (LogicalType::Boolean, Some(StoredAs::Integer)) => Some(StoredAs::Integer),
            (LogicalType::Json, Some(StoredAs::Text)) => Some(StoredAs::Text),
            _ => None,
        }
    }

    /// `r.a, r.b` for these columns, as [`Self::stored`] converts them.
    fn stored_values(&self, columns: &[&str]) -> String {
        let values: Vec<String> =
            columns.iter().map(|c| self.stored(c, &format!("r.{}", quote(c)))).collect();
        values.join(", ")
    }

    fn name(&self) -> String {
        quote(self.meta.name)
    }

    fn key_columns(&self, alias: &str) -> String {
        let cols: Vec<String> =
            self.meta.primary_key.iter().map(|c| format!("{alias}.{}", quote(c))).collect();
        cols.join(", ")
    }

    /// The rows with the keys of `$1` (a JSON array of key objects), locked against writes
    /// (`NO KEY UPDATE`) or only against deletion and key changes (`KEY SHARE`).
    pub fn select_locked(&self, lock: Lock) -> String {
        format!(
            "SELECT {row} FROM {table} AS t WHERE ({tk}) IN (SELECT {rk} FROM {rs}) \
             ORDER BY {tk} FOR {lock} OF t",
            row = self.select_row,
            table = self.name(),
            tk = self.key_columns("t"),
            rk = self.stored_values(self.meta.primary_key),
            rs = self.recordset(self.meta.primary_key),
            lock = match lock {
                Lock::NoKeyUpdate => "NO KEY UPDATE",
                Lock::KeyShare => "KEY SHARE",
            },
        )
    }

    /// Insert the rows of `$1` with exactly `columns`, skipping rows whose key exists, or with
    /// [`Skip::AnyConflict`] rows that conflict with any unique key; returns the inserted keys
    /// ([`Self::select_key`]).
    pub fn insert(&self, columns: &[&str], skip: Skip) -> String {
        let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let pk: Vec<String> = self.meta.primary_key.iter().map(|c| quote(c)).collect();
        format!(
            "INSERT INTO {table} AS t ({cols}) SELECT {values} FROM {rs} \
             ON CONFLICT {target}DO NOTHING RETURNING {key}",
            table = self.name(),
            cols = cols.join(", "),
            values = self.stored_values(columns),
            rs = self.recordset(columns),
            target = match skip {
                Skip::KeyConflict => format!("({}) ", pk.join(", ")),
                Skip::AnyConflict => String::new(),
            },
            key = self.select_key,
        )
    }

    /// Delete the rows with the keys of `$1` (a JSON array of key objects).
    pub fn delete(&self) -> String {
        format!(
            "DELETE FROM {table} AS t WHERE ({tk}) IN (SELECT {rk} FROM {rs})",
            table = self.name(),
            tk = self.key_columns("t"),
            rk = self.stored_values(self.meta.primary_key),
            rs = self.recordset(self.meta.primary_key),
        )
    }

    /// Overwrite the non-key `columns` of existing rows from `$1`; `None` when only key
    /// columns are given.
    pub fn update(&self, columns: &[&str]) -> Option<String> {
        let sets: Vec<String> = columns
            .iter()
            .filter(|c| !self.meta.primary_key.contains(c))
            .map(|c| format!("{} = {}", quote(c), self.stored(c, &format!("r.{}", quote(c)))))
            .collect();
        if sets.is_empty() {
            return None;
        }
        let matches: Vec<String> = self
            .meta
            .primary_key
            .iter()
            .map(|c| format!("t.{} = {}", quote(c), self.stored(c, &format!("r.{}", quote(c)))))
            .collect();
        Some(format!(
            "UPDATE {table} AS t SET {sets} FROM {rs} WHERE {matches}",
            table = self.name(),
            sets = sets.join(", "),
            rs = self.recordset(columns),
            matches = matches.join(" AND "),
        ))
    }

    /// The joins and condition under which `$1` (the user id, text) may read a row of `t`
    /// (docs/sync.md); `None` when the user can read none.
    pub fn readable(
        &self,
        schema: &SchemaMeta,
        tables: &[PgTable],
        user_is_uuid: bool,
    ) -> Option<(String, String)> {
        let mut joins = String::new();
        let mut alias = "t".to_owned();
        let mut table = self;
        for depth in 1.. {
            match table.meta.scope {
                Scope::Public => return Some((joins, "true".into())),
                Scope::None => return None,
                Scope::Owner | Scope::OwnerOrPublic => {
                    let owner = table.meta.sync.owner.expect("owner scopes have an owner column");
                    let ty = table.column_type(owner);
                    let public = table.meta.scope == Scope::OwnerOrPublic;
                    let column = format!("{alias}.{}", quote(owner));
                    let mine = (ty != "uuid" || user_is_uuid)
                        .then(|| format!("{column} = $1::text::{ty}"));
                    return match (mine, public) {
                        (Some(mine), true) => {
                            Some((joins, format!("({mine} OR {column} IS NULL)")))
                        }
                        (Some(mine), false) => Some((joins, mine)),
                        (None, true) => Some((joins, format!("{column} IS NULL"))),
                        (None, false) => None,
                    };
                }
                Scope::Via { column, parent_table } => {
                    let parent_meta = schema.table(parent_table).expect("via parents are tables");
                    let parent = tables.iter().find(|t| std::ptr::eq(t.meta, parent_meta))?;
                    let parent_alias = format!("p{depth}");
                    joins.push_str(&format!(
                        " JOIN {} AS {parent_alias} ON {parent_alias}.{} = {alias}.{}",
                        parent.name(),
                        quote(parent_meta.primary_key[0]),
                        quote(column)
                    ));
                    alias = parent_alias;
                    table = parent;
                }
            }
        }
        unreachable!("the loop returns")
    }

    /// The key column comparisons for a pull position: `(t.a, t.b)` and the matching values
    /// from the JSON array `$4`.
    pub fn position_key(&self) -> (String, String) {
        let values: Vec<String> = self
            .meta
            .primary_key
            .iter()
            .enumerate()
            .map(|(i, c)| self.stored(c, &format!("($4::jsonb->>{i})::{}", self.read_type(c))))
            .collect();
        (self.key_columns("t"), values.join(", "))
    }
}
