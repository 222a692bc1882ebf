//! The SQLite migration: `ALTER TABLE ADD COLUMN` where SQLite allows it, otherwise the safe
//! table rebuild of SQLite's documentation ("Making Other Kinds Of Table Schema Changes").
//!
//! Foreign keys are switched off outside the transaction (inside one the pragma does nothing):
//! dropping a table with foreign keys on deletes its rows first, which would cascade to its
//! children. A rebuilt table is created under a temporary name, filled from the old one, and
//! renamed after the old one is dropped, so that its children's references resolve to it; its
//! indexes and the client's sync triggers, dropped with the old table, are created again.
//! `PRAGMA foreign_key_check` runs before the commit, and the version is recorded in the same
//! transaction. Inserts use `OR ROLLBACK`, so a row the new table refuses (a NULL in a column
//! made NOT NULL, a value that no longer passes a CHECK) rolls the whole migration back.

use crate::emit::sql::{self, DefaultSql, Dialect, Item, Statement, StatementKind, default_sql};
use crate::emit::sql::{ident, sql_type};
use crate::ir::{Column, Schema, Table};
use crate::rename::Renamed;

use super::{Ddl, Script, is_table, renames};

/// The client's single-row state table (the emitter's `_sync_client`).
const STATE: &str = "_sync_client";
/// The prefix of every name of the client machinery.
const MACHINERY: &str = "_sync";
/// The prefix of a table being rebuilt; no name in `schema.toml` starts with `_`.
const REBUILD: &str = "_migrate_";

pub(super) fn plan(deployed: &Schema, renamed: &Renamed, new: &Schema) -> String {
    let old = &renamed.old;
    let original = Ddl(sql::sqlite_ddl(deployed).statements);
    let before = Ddl(sql::sqlite_ddl(old).statements);
    let after = Ddl(sql::sqlite_ddl(new).statements);
    let mut body = renames::sqlite(renamed, deployed, &original);
    let mut last = Script::default();
    let touched: Vec<&str> = renames::touched(renamed).collect();

    // The client machinery's own tables: created with the first synced table, rebuilt when
    // their definition changes (the state row's version default does with every version).
    let (old_machinery, new_machinery) = (before.machinery(MACHINERY), after.machinery(MACHINERY));
    for stmt in &new_machinery {
        let Some(name) = stmt.table.as_deref().filter(|_| is_table(stmt)) else { continue };
        match before.table(name) {
            None => {
                body.push(&stmt.sql);
                new_machinery
                    .iter()
                    .filter(|s| is_part_of(s, name))
                    .for_each(|s| body.push(&s.sql));
            }
            Some(was) if was.sql != stmt.sql => rebuild_machinery(name, stmt, &mut body),
            Some(_) => {}
        }
    }
    for stmt in old_machinery.iter().rev() {
        if let Some(name) = stmt.table.as_deref().filter(|_| is_table(stmt))
            && after.table(name).is_none()
        {
            last.push(format!("DROP TABLE {};", ident(name)));
        }
    }

    let on_sqlite =
        |schema: &'_ Schema, name: &str| schema.table(name).is_some_and(|t| t.targets.sqlite);
    for table in old.tables.iter().rev().filter(|t| t.targets.sqlite) {
        if !on_sqlite(new, &table.name) {
            body.push(format!("DROP TABLE {};", ident(&table.name)));
        }
    }
    for table in new.tables.iter().filter(|t| t.targets.sqlite) {
        match old.table(&table.name).filter(|t| t.targets.sqlite) {
            None => {
                body.push(&after.table(&table.name).expect("every table is generated").sql);
                after.parts_of(&table.name).for_each(|s| body.push(&s.sql));
            }
            Some(was) => {
                let rebuild = touched.contains(&table.name.as_str());
                alter(was, table, new, (&before, &after), rebuild, &mut body)
            }
        }
    }

    let mut script = Script::default();
    script.push("PRAGMA foreign_keys = OFF;");
    script.push("BEGIN;");
    script.extend(body);
    script.extend(last);
    script.push(
        "CREATE TEMP TABLE \"_migrate_check\" (\"violations\" INTEGER \
         CONSTRAINT \"the migration leaves rows whose foreign key has no parent: see PRAGMA \
         foreign_key_check\" CHECK (\"violations\" = 0));",
    );
    script.push(
        "INSERT OR ROLLBACK INTO \"_migrate_check\" SELECT count(*) FROM pragma_foreign_key_check;",
    );
    script.push("DROP TABLE temp.\"_migrate_check\";");
    script.push(format!("PRAGMA user_version = {};", new.version));
    if after.table(STATE).is_some() {
        script.push(format!("UPDATE \"{STATE}\" SET \"schema_version\" = {};", new.version));
    }
    script.push("COMMIT;");
    script.push("PRAGMA foreign_keys = ON;");
    script.0.join("\n") + "\n"
}

/// Whether `stmt` is an index or trigger of `table`, or a row written into it.
fn is_part_of(stmt: &Statement, table: &str) -> bool {
    !is_table(stmt) && stmt.table.as_deref() == Some(table)
}

/// Rebuild a machinery table. The client's triggers on every synced table read it, and
/// SQLite's RENAME checks every trigger (failing on one that names the dropped table) unless
/// `legacy_alter_table` is on, which keeps trigger texts as they are: they name the table,
/// which exists again after the rename. One generator writes both versions, so the table has
/// the same columns in both, in the same order: only a default (the state row's version)
/// differs, and every column is copied.
fn rebuild_machinery(name: &str, now: &Statement, body: &mut Script) {
    rebuild_statements(name, &now.sql, None, body, true);
}

/// Create the new table under a temporary name, copy the kept columns (`(into, select)`, or
/// all of them), drop the old table and rename the new one.
fn rebuild_statements(
    name: &str,
    create: &str,
    columns: Option<(&str, &str)>,
    body: &mut Script,
    legacy: bool,
) {
    let temp = ident(&format!("{REBUILD}{name}"));
    // The statement starts with the name it creates; the copy gets the temporary name.
    let create = create.replacen(
        &format!("CREATE TABLE {}", ident(name)),
        &format!("CREATE TABLE {temp}"),
        1,
    );
    body.push(create);
    body.push(match columns {
        Some((into, select)) => {
            format!("INSERT OR ROLLBACK INTO {temp} ({into}) SELECT {select} FROM {};", ident(name))
        }
        None => format!("INSERT OR ROLLBACK INTO {temp} SELECT * FROM {};", ident(name)),
    });
    body.push(format!("DROP TABLE {};", ident(name)));
    if legacy {
        body.push("PRAGMA legacy_alter_table = ON;");
    }
    body.push(format!("ALTER TABLE {temp} RENAME TO {};", ident(name)));
    if legacy {
        body.push("PRAGMA legacy_alter_table = OFF;");
    }
}

/// Change a table that both versions have: add columns, or rebuild it; then its indexes and
/// triggers. A table a rename touched is rebuilt (`rebuild`): SQLite cannot rename the
/// constraints whose derived names follow, and its indexes and triggers are already gone.
fn alter(
    was: &Table,
    table: &Table,
    new: &Schema,
    ddl: (&Ddl, &Ddl),
    rebuild: bool,
    body: &mut Script,
) {
    let (before, after) = ddl;
    let old_create = before.table(&was.name).expect("every table is generated");
    let create = after.table(&table.name).expect("every table is generated");
    let name = ident(&table.name);
    let (old_items, new_items) = (old_create.items(), create.items());
    let rebuilt = if rebuild {
        true
    } else if same_definitions(old_items, new_items) {
        false
    } else if let Some(added) = appended(old_items, new_items, table, new) {
        for item in added {
            body.push(format!("ALTER TABLE {name} ADD COLUMN {};", item.sql));
        }
        false
    } else {
        true
    };
    if rebuilt {
        let kept: Vec<&Column> =
            table.columns.iter().filter(|c| was.column(&c.name).is_some()).collect();
        let into: Vec<String> = kept.iter().map(|c| ident(&c.name)).collect();
        let select: Vec<String> = kept
            .iter()
            .map(|c| {
                let before = was.column(&c.name).expect("kept");
                let ty = sql_type(c, Dialect::Sqlite, new.timestamp_storage);
                // Validation keeps one timestamp storage for both versions (checked by `plan`).
                if sql_type(before, Dialect::Sqlite, new.timestamp_storage) == ty {
                    ident(&c.name)
                } else {
                    format!("CAST({} AS {ty})", ident(&c.name))
                }
            })
            .collect();
        let columns = (into.join(", "), select.join(", "));
        rebuild_statements(&table.name, &create.sql, Some((&columns.0, &columns.1)), body, false);
    }

    let parts = |ddl: &'_ Ddl, t: &str| -> Vec<Statement> { ddl.parts_of(t).cloned().collect() };
    let (old_parts, new_parts) = (parts(before, &was.name), parts(after, &table.name));
    if !rebuilt {
        for part in old_parts.iter().filter(|s| !new_parts.contains(s)) {
            match &part.kind {
                StatementKind::Index(name) => body.push(format!("DROP INDEX {};", ident(name))),
                StatementKind::Trigger(name) => body.push(format!("DROP TRIGGER {};", ident(name))),
                _ => {}
            }
        }
    }
    for part in &new_parts {
        if rebuilt || !old_parts.contains(part) {
            body.push(&part.sql);
        }
    }
}

/// Whether two lists of items define the same table (comments aside: SQLite keeps them only as
/// text, so a changed comment alone changes nothing there).
fn same_definitions(old: &[Item], new: &[Item]) -> bool {
    old.len() == new.len() && old.iter().zip(new).all(|(a, b)| a.sql == b.sql)
}

/// The columns added at the end, when that is the only change and SQLite's `ADD COLUMN` can
/// make each of them: a default that is a constant (SQLite refuses an expression in parentheses
/// and `CURRENT_*` there). A key or unique column would change a table constraint too.
fn appended<'a>(
    old: &[Item],
    new: &'a [Item],
    table: &Table,
    schema: &Schema,
) -> Option<Vec<&'a Item>> {
    let (old_columns, new_columns) = (definitions(old, true), definitions(new, true));
    if definitions(old, false) != definitions(new, false) || !new_columns.starts_with(&old_columns)
    {
        return None;
    }
    let added: Vec<&Item> = new.iter().filter(|i| i.column).skip(old_columns.len()).collect();
    let constant = added.iter().all(|item| {
        let col = table.column(&item.name).expect("every column is generated");
        match default_sql(col, Dialect::Sqlite, schema.timestamp_storage) {
            None => true,
            Some(DefaultSql::Literal(sql)) => !sql.starts_with("CURRENT_"),
            Some(DefaultSql::Expression(_)) => false,
        }
    });
    constant.then_some(added)
}

/// The definitions of the columns (or of the table constraints) among `items`.
fn definitions(items: &[Item], columns: bool) -> Vec<&str> {
    items.iter().filter(|i| i.column == columns).map(|i| i.sql.as_str()).collect()
}
