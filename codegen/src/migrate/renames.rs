//! The first statements of a migration with renames (`renamed_from`): each database renames the
//! tables and columns in place, so that their rows and values stay, and renames what its sync
//! machinery holds under the old names. After them the database is the old version under the new
//! names (`Renamed::old`), which the rest of the planner takes from there.

use crate::emit::sql::{OUTBOX, QUARANTINE, RESYNC, StatementKind, TOMBSTONE, ident, literal};
use crate::ir::{Schema, Table};
use crate::rename::{Object, Renamed};

use super::{Ddl, Script};

/// Postgres: `ALTER TABLE ... RENAME`, then the constraints and indexes whose derived names
/// follow, the table's pull index (`_sync_<table>_idx`), and the tombstones' table names and
/// keys. Triggers, policies, comments, foreign keys and the other tables' references follow a
/// rename by themselves; the triggers whose arguments name what was renamed are made again by
/// the planner (see [`stale_triggers`]). `original` is the DDL of the old version as it was.
pub(super) fn postgres(r: &Renamed, old: &Schema, original: &Ddl, renamed: &Ddl) -> Script {
    let mut script = Script::default();
    let on_pg = |name: &str| old.table(name).is_some_and(|t| t.targets.postgres);
    for t in r.tables.iter().filter(|t| on_pg(&t.from)) {
        script.push(format!("ALTER TABLE {} RENAME TO {};", ident(&t.from), ident(&t.to)));
    }
    for c in r.columns.iter().filter(|c| on_pg(r.old_table(&c.table))) {
        script.push(format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {};",
            ident(&c.table),
            ident(&c.from),
            ident(&c.to)
        ));
    }
    for change in &r.names {
        let was = r.old_table(&change.table);
        let exists = match change.object {
            // A table constraint, or a column's own CHECK inside its definition.
            Object::Constraint => {
                let named = format!("CONSTRAINT {}", ident(&change.from));
                original.table(was).is_some_and(|t| t.sql.contains(&named))
            }
            Object::Index => indexes(original, was).any(|name| name == change.from),
        };
        if !exists || !on_pg(was) {
            continue;
        }
        let (from, to) = (ident(&change.from), ident(&change.to));
        script.push(match change.object {
            Object::Constraint => {
                format!("ALTER TABLE {} RENAME CONSTRAINT {from} TO {to};", ident(&change.table))
            }
            Object::Index => format!("ALTER INDEX {from} RENAME TO {to};"),
        });
    }
    // The machinery's own indexes, named after their table.
    for t in r.tables.iter().filter(|t| on_pg(&t.from)) {
        let machinery = |ddl: &Ddl, table: &str| -> Vec<String> {
            indexes(ddl, table).filter(|n| n.starts_with("_sync")).map(str::to_owned).collect()
        };
        for (from, to) in machinery(original, &t.from).iter().zip(machinery(renamed, &t.to)) {
            if *from != to {
                script.push(format!("ALTER INDEX {} RENAME TO {};", ident(from), ident(&to)));
            }
        }
    }
    if original.table(TOMBSTONE).is_some() {
        let tombstones = format!("UPDATE {TOMBSTONE}");
        for t in r.tables.iter().filter(|t| on_pg(&t.from)) {
            script.push(format!(
                "{tombstones} SET table_name = {} WHERE table_name = {};",
                literal(&t.to),
                literal(&t.from)
            ));
        }
        for (table, from, to) in key_columns(r) {
            script.push(format!(
                "{tombstones} SET key = (key - {from}) || jsonb_build_object({to}, key -> {from}) \
                 WHERE table_name = {} AND key ? {from};",
                literal(&table.name),
                from = literal(from),
                to = literal(to),
            ));
        }
    }
    script
}

/// The names of the triggers of `table` (its new name) whose text the renames change: their
/// arguments name a renamed table or column, which a rename does not reach. `original` and
/// `renamed` are the DDL of the old version as it was and under the new names.
pub(super) fn stale_triggers(
    r: &Renamed,
    table: &str,
    original: &Ddl,
    renamed: &Ddl,
) -> Vec<StatementKind> {
    let was: Vec<_> = original.parts_of(r.old_table(table)).collect();
    renamed
        .parts_of(table)
        .filter(|s| matches!(s.kind, StatementKind::Trigger(_)))
        .filter(|s| {
            let before = was.iter().find(|o| o.kind == s.kind);
            before.is_none_or(|o| o.sql != s.sql)
        })
        .map(|s| s.kind.clone())
        .collect()
}

/// SQLite: the indexes and triggers of every table a rename touches go first (the planner makes
/// them again, and rebuilds the table, since SQLite cannot rename a constraint), then
/// `ALTER TABLE ... RENAME`, which also rewrites the other tables' foreign keys, then the client's
/// pending writes, refusals and resync rows under the new table names and keys.
pub(super) fn sqlite(r: &Renamed, old: &Schema, original: &Ddl) -> Script {
    let mut script = Script::default();
    let on_sqlite = |name: &str| old.table(name).is_some_and(|t| t.targets.sqlite);
    for table in touched(r).filter(|t| on_sqlite(r.old_table(t))) {
        for part in original.parts_of(r.old_table(table)) {
            match &part.kind {
                StatementKind::Index(name) => script.push(format!("DROP INDEX {};", ident(name))),
                StatementKind::Trigger(name) => {
                    script.push(format!("DROP TRIGGER {};", ident(name)))
                }
                _ => {}
            }
        }
    }
    for t in r.tables.iter().filter(|t| on_sqlite(&t.from)) {
        script.push(format!("ALTER TABLE {} RENAME TO {};", ident(&t.from), ident(&t.to)));
    }
    for c in r.columns.iter().filter(|c| on_sqlite(r.old_table(&c.table))) {
        script.push(format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {};",
            ident(&c.table),
            ident(&c.from),
            ident(&c.to)
        ));
    }
    let machinery =
        [OUTBOX, RESYNC, QUARANTINE].into_iter().filter(|t| original.table(t).is_some());
    for rows in machinery {
        let update = format!("UPDATE {}", ident(rows));
        for t in r.tables.iter().filter(|t| on_sqlite(&t.from)) {
            script.push(format!(
                "{update} SET \"table_name\" = {} WHERE \"table_name\" = {};",
                literal(&t.to),
                literal(&t.from)
            ));
        }
        // A key is the JSON object the triggers write, its columns in key order: made again.
        let mut keyed: Vec<&Table> = key_columns(r).map(|(t, _, _)| t).collect();
        keyed.dedup_by(|a, b| a.name == b.name);
        for table in keyed {
            let was = |c: &String| -> String {
                let renamed = r.columns.iter().find(|x| x.table == table.name && x.to == *c);
                renamed.map_or_else(|| c.clone(), |x| x.from.clone())
            };
            let pairs: Vec<String> = table
                .primary_key
                .columns
                .iter()
                .map(|c| {
                    format!(
                        "{}, json_extract(\"key\", {})",
                        literal(c),
                        literal(&format!("$.{}", was(c)))
                    )
                })
                .collect();
            script.push(format!(
                "{update} SET \"key\" = json_object({}) WHERE \"table_name\" = {};",
                pairs.join(", "),
                literal(&table.name)
            ));
        }
    }
    if original.table(QUARANTINE).is_some() {
        for c in r.columns.iter().filter(|c| on_sqlite(r.old_table(&c.table))) {
            let (from, to) = (literal(&format!("$.{}", c.from)), literal(&format!("$.{}", c.to)));
            script.push(format!(
                "UPDATE {} SET \"local_row\" = json_set(json_remove(\"local_row\", {from}), {to}, \
                 json_extract(\"local_row\", {from})) WHERE \"table_name\" = {} AND \
                 json_type(\"local_row\", {from}) IS NOT NULL;",
                ident(QUARANTINE),
                literal(&c.table)
            ));
        }
    }
    script
}

/// The tables (by their new names) that a rename touches: renamed, or with a renamed column.
pub(super) fn touched(r: &Renamed) -> impl Iterator<Item = &str> {
    let mut names: Vec<&str> = r.tables.iter().map(|t| t.to.as_str()).collect();
    for c in &r.columns {
        if !names.contains(&c.table.as_str()) {
            names.push(&c.table);
        }
    }
    names.into_iter()
}

/// The renamed primary key columns: their table (in the old version under the new names), the
/// old name and the new one. Tombstones and outbox entries name rows by these.
fn key_columns(r: &Renamed) -> impl Iterator<Item = (&Table, &str, &str)> {
    r.columns.iter().filter_map(|c| {
        let table = r.old.table(&c.table)?;
        table.primary_key.columns.contains(&c.to).then_some((table, c.from.as_str(), c.to.as_str()))
    })
}

/// The names of the indexes of `table` in `ddl`.
fn indexes<'a>(ddl: &'a Ddl, table: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    ddl.parts_of(table).filter_map(|s| match &s.kind {
        StatementKind::Index(name) => Some(name.as_str()),
        _ => None,
    })
}
