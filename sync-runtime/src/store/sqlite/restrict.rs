//! Which foreign key refused a delete: SQLite's error names none, so the store keeps, for each
//! synced table, the foreign keys of the schema that the database declares `ON DELETE RESTRICT`
//! or `NO ACTION` and that refer to the table, or to a table its deletes cascade to, and looks for
//! a row that still refers, through the cascade, to the row it could not delete (docs/sync.md).
//! Postgres names the key itself; both answer with the schema's name.

use std::collections::{HashMap, VecDeque};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};

use super::error::sqlite;
use super::ident;
use crate::schema::{ForeignKeyMeta, SchemaMeta, TableMeta};
use crate::store::StoreError;

/// How many cascading foreign keys deep the store looks for a restricting one.
const DEPTH: usize = 4;

/// A foreign key that keeps the rows it refers to, and so the rows whose deletes cascade to them,
/// from being deleted.
pub(super) struct Restrictor {
    /// Its name in the schema.
    name: &'static str,
    /// Whether a row refers through it, along the cascade, to the row of the deleted table with
    /// the key in the parameters.
    referred: String,
}

/// What the database does on delete for each foreign key of each table the store keeps, read
/// once from `pragma_foreign_key_list`: the child table, the parent, the child's columns.
pub(super) struct OnDelete(HashMap<(&'static str, &'static str), Vec<Declared>>);

/// A foreign key as the database declares it: the child's columns, and its `ON DELETE` action.
type Declared = (Vec<String>, String);

impl OnDelete {
    /// The declared actions of the foreign keys of `schema`'s tables in this database.
    pub(super) fn read(conn: &Connection, schema: &SchemaMeta) -> Result<OnDelete, StoreError> {
        let mut actions = HashMap::new();
        for child in schema.tables.iter().filter(|t| t.targets.sqlite) {
            let doing = format!("reading the foreign keys of `{}`", child.name);
            let mut statement = conn
                .prepare(
                    "SELECT id, \"table\", \"from\", on_delete FROM pragma_foreign_key_list(?1) \
                     ORDER BY id, seq",
                )
                .map_err(|e| sqlite(&doing, e))?;
            let rows: Vec<(i64, String, String, String)> = statement
                .query_map([child.name], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .and_then(Iterator::collect)
                .map_err(|e| sqlite(&doing, e))?;
            let mut keys: Vec<(i64, String, Vec<String>, String)> = Vec::new();
            for (id, parent, column, action) in rows {
                match keys.last_mut() {
                    Some((last, _, columns, _)) if *last == id => columns.push(column),
                    _ => keys.push((id, parent, vec![column], action)),
                }
            }
            for (_, parent, columns, action) in keys {
                let Some(parent) = schema.tables.iter().find(|t| t.name == parent) else {
                    continue;
                };
                let declared: &mut Vec<_> = actions.entry((child.name, parent.name)).or_default();
                declared.push((columns, action));
            }
        }
        Ok(OnDelete(actions))
    }

    /// What the database does to rows of `child` referring through `fk` when their parent goes.
    fn action(&self, child: &TableMeta, fk: &ForeignKeyMeta) -> Option<&str> {
        let declared = self.0.get(&(child.name, fk.ref_table))?;
        let found = declared.iter().find(|(columns, _)| columns.iter().eq(fk.columns));
        found.map(|(_, action)| action.as_str())
    }

    /// The restricting foreign keys of `schema` that refer to `parent` or, up to [`DEPTH`] keys
    /// down, to a table its deletes cascade to: the nearest first, then in the schema's order.
    pub(super) fn restrictors(&self, schema: &SchemaMeta, parent: &TableMeta) -> Vec<Restrictor> {
        let mut restrictors = Vec::new();
        // Paths of cascading keys from `parent`, each step a child table and its key to the step
        // before.
        let mut paths: VecDeque<Vec<(&TableMeta, &ForeignKeyMeta)>> = VecDeque::from([vec![]]);
        while let Some(path) = paths.pop_front() {
            let deleted = path.last().map_or(parent, |(table, _)| *table);
            for child in schema.tables.iter().copied().filter(|t| t.targets.sqlite) {
                for fk in
                    child.constraints.foreign_keys.iter().filter(|k| k.ref_table == deleted.name)
                {
                    match self.action(child, fk) {
                        Some("RESTRICT" | "NO ACTION") => {
                            restrictors.push(Restrictor::along(parent, &path, child, fk));
                        }
                        Some("CASCADE")
                            if path.len() < DEPTH
                                && child.name != parent.name
                                && path.iter().all(|(t, _)| t.name != child.name) =>
                        {
                            let mut longer = path.clone();
                            longer.push((child, fk));
                            paths.push_back(longer);
                        }
                        _ => {}
                    }
                }
            }
        }
        restrictors
    }
}

impl Restrictor {
    /// The key `fk` of `child`, referring to the last table of the cascade `path` from `parent`.
    fn along(
        parent: &TableMeta,
        path: &[(&TableMeta, &ForeignKeyMeta)],
        child: &TableMeta,
        fk: &ForeignKeyMeta,
    ) -> Restrictor {
        // Aliases t0 (the referring child) up to tN (the deleted table), each joined to the next
        // by its key.
        let mut chain: Vec<(&TableMeta, &ForeignKeyMeta)> = vec![(child, fk)];
        chain.extend(path.iter().rev().copied());
        let mut sql = format!("SELECT 1 FROM {} AS t0", ident(child.name));
        for (i, (_, key)) in chain.iter().enumerate() {
            let referred = chain.get(i + 1).map_or(parent.name, |(table, _)| table.name);
            let on = key
                .columns
                .iter()
                .zip(key.ref_columns)
                .map(|(c, p)| format!("t{i}.{} = t{}.{}", ident(c), i + 1, ident(p)));
            let on = on.collect::<Vec<_>>().join(" AND ");
            sql.push_str(&format!(" JOIN {} AS t{} ON {on}", ident(referred), i + 1));
        }
        let last = chain.len();
        let key = parent
            .primary_key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("t{last}.{} = ?{}", ident(k), i + 1));
        sql.push_str(&format!(" WHERE {} LIMIT 1", key.collect::<Vec<_>>().join(" AND ")));
        Restrictor { name: fk.name, referred: sql }
    }
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
