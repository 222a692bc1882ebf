//! Which foreign key refused a delete: SQLite's error names none, so the store keeps, for each
//! synced table, the foreign keys of the schema that refer to it and that the database declares
//! `ON DELETE RESTRICT` or `NO ACTION`, and looks for a row that still refers to the row it could
//! not delete (docs/sync.md). Postgres names the key itself; both answer with the schema's name.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};

use super::error::sqlite;
use super::ident;
use crate::schema::{SchemaMeta, TableMeta};
use crate::store::StoreError;

/// A foreign key that keeps the rows it refers to from being deleted.
pub(super) struct Restrictor {
    /// Its name in the schema.
    name: &'static str,
    /// Whether a row refers through it to the row of the parent with the key in the parameters.
    referred: String,
}

/// The restricting foreign keys of `schema` that refer to `parent`, in the schema's order.
pub(super) fn of(
    conn: &Connection,
    schema: &SchemaMeta,
    parent: &TableMeta,
) -> Result<Vec<Restrictor>, StoreError> {
    let mut restrictors = Vec::new();
    for child in schema.tables.iter().filter(|t| t.targets.sqlite) {
        let restricting = restricting(conn, child.name, parent.name)?;
        for fk in child.constraints.foreign_keys.iter().filter(|fk| fk.ref_table == parent.name) {
            if !restricting.iter().any(|columns| columns.iter().eq(fk.columns)) {
                continue;
            }
            let on = fk
                .columns
                .iter()
                .zip(fk.ref_columns)
                .map(|(c, p)| format!("c.{} = p.{}", ident(c), ident(p)));
            let key = parent
                .primary_key
                .iter()
                .enumerate()
                .map(|(i, k)| format!("p.{} = ?{}", ident(k), i + 1));
            let referred = format!(
                "SELECT 1 FROM {} AS c JOIN {} AS p ON {} WHERE {} LIMIT 1",
                ident(child.name),
                ident(parent.name),
                on.collect::<Vec<_>>().join(" AND "),
                key.collect::<Vec<_>>().join(" AND "),
            );
            restrictors.push(Restrictor { name: fk.name, referred });
        }
    }
    Ok(restrictors)
}

/// The first of `restrictors` through which a row refers to the parent's row with primary key
/// `key` (stored values, in key order).
pub(super) fn blame(
    conn: &Connection,
    restrictors: &[Restrictor],
    key: &[SqlValue],
) -> Result<Option<&'static str>, StoreError> {
    for restrictor in restrictors {
        let doing = format!("looking for rows that refer through `{}`", restrictor.name);
        let mut statement =
            conn.prepare_cached(&restrictor.referred).map_err(|e| sqlite(&doing, e))?;
        if statement.exists(params_from_iter(key.iter())).map_err(|e| sqlite(&doing, e))? {
            return Ok(Some(restrictor.name));
        }
    }
    Ok(None)
}

/// The columns of each foreign key of `child` to `parent` that the database declares
/// `ON DELETE RESTRICT` or `NO ACTION`.
fn restricting(
    conn: &Connection,
    child: &str,
    parent: &str,
) -> Result<Vec<Vec<String>>, StoreError> {
    let doing = format!("reading the foreign keys of `{child}`");
    let mut statement = conn
        .prepare(
            "SELECT id, \"from\" FROM pragma_foreign_key_list(?1) WHERE \"table\" = ?2 \
             AND on_delete IN ('RESTRICT', 'NO ACTION') ORDER BY id, seq",
        )
        .map_err(|e| sqlite(&doing, e))?;
    let rows: Vec<(i64, String)> = statement
        .query_map([child, parent], |row| Ok((row.get(0)?, row.get(1)?)))
        .and_then(Iterator::collect)
        .map_err(|e| sqlite(&doing, e))?;
    let mut keys: Vec<(i64, Vec<String>)> = Vec::new();
    for (id, column) in rows {
        match keys.last_mut() {
            Some((last, columns)) if *last == id => columns.push(column),
            _ => keys.push((id, vec![column])),
        }
    }
    Ok(keys.into_iter().map(|(_, columns)| columns).collect())
}
