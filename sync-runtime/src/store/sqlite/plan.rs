//! One synced table as the store works with it: how each column is stored, and the SQL built
//! once at open from the metadata.

use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use super::restrict::Restrictor;
use super::{ident, scope};
use crate::schema::{SchemaMeta, TableMeta};
use crate::sqlite_value::Storage;
use crate::store::{StoreError, Values};

/// A synced table of the SQLite target.
pub(super) struct TablePlan {
    pub(super) meta: &'static TableMeta,
    /// The storage of each column of `meta.columns`, in the same order.
    storage: Vec<Storage>,
    /// The row with one key, every metadata column.
    pub(super) select_by_key: String,
    /// Rows user `?3` may read with `?1 < _sync_seq <= ?2`, in cursor order, at most `?4`; every
    /// metadata column, then `_sync_seq`.
    pub(super) pull: String,
    /// The foreign keys that may refuse a delete of the table's rows.
    pub(super) restrictors: Vec<Restrictor>,
}

impl TablePlan {
    /// `declared` lists the table's columns in the database with their declared types
    /// (`PRAGMA table_info`); every column of the metadata must be there.
    pub(super) fn new(
        schema: &SchemaMeta,
        meta: &'static TableMeta,
        declared: &[(String, String)],
        restrictors: Vec<Restrictor>,
    ) -> Result<TablePlan, StoreError> {
        let storage = meta
            .columns
            .iter()
            .map(|column| {
                let (_, ty) = declared.iter().find(|(name, _)| name == column.name).ok_or_else(
                    || {
                        StoreError::Database(format!(
                            "table `{}` has no column `{}` in the SQLite database, but the schema does: migrate the database",
                            meta.name, column.name
                        ))
                    },
                )?;
                Storage::of(column.ty, ty).map_err(|e| {
                    StoreError::Database(format!("column `{}`.`{}`: {e}", meta.name, column.name))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let table = ident(meta.name);
        let columns = list(meta.columns.iter().map(|c| ident(c.name)));
        let key_condition = meta
            .primary_key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ?{}", ident(k), i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let select_by_key = format!("SELECT {columns} FROM {table} WHERE {key_condition}");
        let t_columns = list(meta.columns.iter().map(|c| format!("t.{}", ident(c.name))));
        let branches = scope::readable_branches(schema, meta, "t")?.into_iter().map(|readable| {
            format!(
                "SELECT {t_columns}, t._sync_seq FROM {table} AS t \
                 WHERE t._sync_seq > ?1 AND t._sync_seq <= ?2 AND {readable} \
                 ORDER BY t._sync_seq LIMIT ?4"
            )
        });
        let pull = merged(branches.collect());
        Ok(TablePlan { meta, storage, select_by_key, pull, restrictors })
    }

    /// How column `name` is stored.
    pub(super) fn storage(&self, name: &str) -> Result<Storage, StoreError> {
        self.meta.columns.iter().position(|c| c.name == name).map(|i| self.storage[i]).ok_or_else(
            || StoreError::Database(format!("table `{}` has no column `{name}`", self.meta.name)),
        )
    }

    /// A row read with every metadata column first, in wire form.
    pub(super) fn read_row(&self, row: &rusqlite::Row<'_>) -> Result<Values, StoreError> {
        let mut values = Values::with_capacity(self.storage.len());
        for (i, (column, storage)) in self.meta.columns.iter().zip(&self.storage).enumerate() {
            let stored = row.get_ref(i).map_err(|e| {
                StoreError::Database(format!("reading `{}`.`{}`: {e}", self.meta.name, column.name))
            })?;
            let value = storage.to_wire(stored).map_err(|e| {
                StoreError::Database(format!("column `{}`.`{}`: {e}", self.meta.name, column.name))
            })?;
            values.insert(column.name.to_owned(), value);
        }
        Ok(values)
    }

    /// The stored values of `columns` of a wire-form row, in that order.
    pub(super) fn params(
        &self,
        columns: &[&str],
        row: &Values,
    ) -> Result<Vec<SqlValue>, StoreError> {
        columns
            .iter()
            .map(|column| {
                let value = row.get(*column).ok_or_else(|| {
                    StoreError::Database(format!(
                        "a row of `{}` lacks column `{column}`: {}",
                        self.meta.name,
                        Value::Object(row.clone())
                    ))
                })?;
                self.storage(column)?.to_sql(value).map_err(|e| {
                    StoreError::Database(format!("column `{}`.`{column}`: {e}", self.meta.name))
                })
            })
            .collect()
    }

    /// The stored values of the primary key of a wire-form row or key, in key order.
    pub(super) fn key_params(&self, row: &Values) -> Result<Vec<SqlValue>, StoreError> {
        self.params(self.meta.primary_key, row)
    }

    /// The primary key of a wire-form row.
    pub(super) fn key_of(&self, row: &Values) -> Values {
        self.meta
            .primary_key
            .iter()
            .filter_map(|k| row.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect()
    }

    /// Insert `columns`, skipping a row whose primary key is taken.
    pub(super) fn insert_sql(&self, columns: &[&str]) -> Result<String, StoreError> {
        self.check_columns(columns)?;
        let placeholders = list((1..=columns.len()).map(|i| format!("?{i}")));
        Ok(format!(
            "INSERT INTO {} ({}) VALUES ({placeholders}) ON CONFLICT ({}) DO NOTHING",
            ident(self.meta.name),
            list(columns.iter().map(|c| ident(c))),
            list(self.meta.primary_key.iter().map(|k| ident(k))),
        ))
    }

    /// Delete the row with a key, given as the parameters.
    pub(super) fn delete_sql(&self) -> String {
        let key = self
            .meta
            .primary_key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ?{}", ident(k), i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        format!("DELETE FROM {} WHERE {key}", ident(self.meta.name))
    }

    /// Overwrite the non-key `columns` of the row with a key, given as the parameters after
    /// them; `None` when `columns` holds nothing but the key.
    pub(super) fn update_sql<'c>(
        &self,
        columns: &[&'c str],
    ) -> Result<Option<(String, Vec<&'c str>)>, StoreError> {
        self.check_columns(columns)?;
        let set: Vec<&'c str> =
            columns.iter().copied().filter(|c| !self.meta.primary_key.contains(c)).collect();
        if set.is_empty() {
            return Ok(None);
        }
        let assignments =
            list(set.iter().enumerate().map(|(i, c)| format!("{} = ?{}", ident(c), i + 1)));
        let key = self
            .meta
            .primary_key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ?{}", ident(k), set.len() + i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!("UPDATE {} SET {assignments} WHERE {key}", ident(self.meta.name));
        let mut order = set;
        order.extend(self.meta.primary_key.iter().copied());
        Ok(Some((sql, order)))
    }

    /// The wire form of a key that the delete trigger stored with `json_object()`.
    pub(super) fn tombstone_key(&self, stored: &str) -> Result<Values, StoreError> {
        let bad = |e: String| {
            StoreError::Database(format!(
                "tombstone of `{}` with key {stored}: {e}",
                self.meta.name
            ))
        };
        let stored: Values = serde_json::from_str(stored).map_err(|e| bad(e.to_string()))?;
        self.meta
            .primary_key
            .iter()
            .map(|k| {
                let value = stored.get(*k).ok_or_else(|| bad(format!("no `{k}`")))?;
                let storage = self.storage(k)?;
                Ok(((*k).to_owned(), storage.json_to_wire(value).map_err(bad)?))
            })
            .collect()
    }

    fn check_columns(&self, columns: &[&str]) -> Result<(), StoreError> {
        for column in columns {
            self.storage(column)?;
        }
        if let Some(missing) = self.meta.primary_key.iter().find(|k| !columns.contains(k)) {
            return Err(StoreError::Database(format!(
                "a write to `{}` must include its primary key column `{missing}`",
                self.meta.name
            )));
        }
        Ok(())
    }
}

/// One query of the first `?4` rows of several ordered by `_sync_seq`.
pub(super) fn merged(mut branches: Vec<String>) -> String {
    if branches.len() == 1 {
        return branches.remove(0);
    }
    let branches: Vec<String> = branches.iter().map(|b| format!("SELECT * FROM ({b})")).collect();
    format!("{} ORDER BY _sync_seq LIMIT ?4", branches.join(" UNION ALL "))
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}
