//! The Postgres migration: `ALTER TABLE` in place for every kept table, the generated DDL of
//! each new table (with its sync machinery), `DROP TABLE` for each dropped one; one transaction.
//!
//! Statements run in phases so that each finds what it needs: first whatever goes away
//! (triggers, indexes, constraints, then tables), then column changes, then new tables, then
//! what is added (constraints, indexes, sync triggers) and comments last. A constraint or an
//! index whose definition changes is dropped and created again.

use crate::emit::sql::{self, Dialect, Item, Statement, StatementKind, check_expr, default_sql};
use crate::emit::sql::{ident, sql_type};
use crate::ir::{Column, Schema, Table};
use crate::rename::Renamed;

use super::{Ddl, Script, renames};

/// The prefix of every name of the sync machinery: its tables, its indexes, the cursor column.
const MACHINERY: &str = "_sync";

#[derive(Default)]
struct Phases {
    rename: Script,
    drop: Script,
    drop_tables: Script,
    columns: Script,
    create_tables: Script,
    add: Script,
    machinery: Script,
    comments: Script,
}

/// Both versions, and their DDL: `before` is the old version under the new names
/// (`renamed.old`), `original` the old version as deployed.
struct Versions<'a> {
    old: &'a Schema,
    new: &'a Schema,
    before: &'a Ddl,
    after: &'a Ddl,
    original: &'a Ddl,
    renamed: &'a Renamed,
}

pub(super) fn plan(deployed: &Schema, renamed: &Renamed, new: &Schema) -> String {
    let old = &renamed.old;
    let original = Ddl(sql::postgres_ddl(deployed).statements);
    let before = Ddl(sql::postgres_ddl(old).statements);
    let after = Ddl(sql::postgres_ddl(new).statements);
    let mut p = Phases::default();
    let v = Versions { old, new, before: &before, after: &after, original: &original, renamed };
    p.rename = renames::postgres(renamed, deployed, &original, &before);

    // The shared machinery (functions, the tombstone table) comes with the first synced table.
    let (old_shared, new_shared) = (before.machinery(MACHINERY), after.machinery(MACHINERY));
    let mut script = Script::default();
    if old_shared.is_empty() {
        new_shared.iter().for_each(|s| script.push(&s.sql));
    } else {
        for stmt in new_shared.iter().filter(|s| !old_shared.contains(s)) {
            if matches!(stmt.kind, StatementKind::Function(_)) {
                script.push(&stmt.sql);
            }
        }
    }

    let on_pg =
        |schema: &'_ Schema, name: &str| schema.table(name).is_some_and(|t| t.targets.postgres);
    for table in old.tables.iter().rev().filter(|t| t.targets.postgres) {
        if !on_pg(new, &table.name) {
            p.drop_tables.push(format!("DROP TABLE {};", ident(&table.name)));
        }
    }
    for table in new.tables.iter().filter(|t| t.targets.postgres) {
        match old.table(&table.name).filter(|t| t.targets.postgres) {
            None => {
                let create = after.table(&table.name).expect("every table is generated");
                p.create_tables.push(&create.sql);
                for part in after.parts_of(&table.name) {
                    match part.kind {
                        StatementKind::Comment { .. } => p.comments.push(&part.sql),
                        _ => p.machinery.push(&part.sql),
                    }
                }
            }
            Some(was) => alter(was, table, &v, &mut p),
        }
    }

    script.push("BEGIN;");
    for phase in [
        p.rename,
        p.drop,
        p.drop_tables,
        p.columns,
        p.create_tables,
        p.add,
        p.machinery,
        p.comments,
    ] {
        script.extend(phase);
    }
    if !old_shared.is_empty() && new_shared.is_empty() {
        for stmt in &old_shared {
            script.push(drop_shared(stmt));
        }
    }
    script.push("COMMIT;");
    script.0.join("\n") + "\n"
}

/// The statement that removes a piece of the shared machinery.
fn drop_shared(stmt: &Statement) -> String {
    match (&stmt.kind, &stmt.table) {
        (StatementKind::Table(_), Some(name)) => format!("DROP TABLE IF EXISTS {name};"),
        (StatementKind::Function(name), _) => format!("DROP FUNCTION IF EXISTS {name};"),
        // An index goes with its table.
        _ => String::new(),
    }
}

/// Change a table that both versions have, in place.
fn alter(was: &Table, table: &Table, v: &Versions<'_>, p: &mut Phases) {
    let (old, new, before, after) = (v.old, v.new, v.before, v.after);
    let name = ident(&table.name);
    let alter = |sql: String| format!("ALTER TABLE {name} {sql};");
    let old_items = before.table(&was.name).expect("every table is generated").items();
    let new_items = after.table(&table.name).expect("every table is generated").items();

    // Table constraints (keys, foreign keys, checks), by name: a changed one is dropped and added.
    let constraints = |items: &[Item]| -> Vec<(String, String)> {
        items.iter().filter(|i| !i.column).map(|i| (i.name.clone(), i.sql.clone())).collect()
    };
    let (old_cons, new_cons) = (constraints(old_items), constraints(new_items));
    for (cname, sql) in &old_cons {
        if !new_cons.iter().any(|c| &c.0 == cname && &c.1 == sql) {
            p.drop.push(alter(format!("DROP CONSTRAINT {}", ident(cname))));
        }
    }
    for (cname, sql) in &new_cons {
        if !old_cons.iter().any(|c| &c.0 == cname && &c.1 == sql) {
            p.add.push(alter(format!("ADD {sql}")));
        }
    }

    // Indexes and sync triggers, by name, compared as the generator writes them.
    let parts = |ddl: &'_ Ddl, t: &str| -> Vec<Statement> {
        let comment = |s: &&Statement| matches!(s.kind, StatementKind::Comment { .. });
        ddl.parts_of(t).filter(|s| !comment(s)).cloned().collect()
    };
    let (old_parts, new_parts) = (parts(before, &was.name), parts(after, &table.name));
    // A trigger whose arguments name something renamed is made again, changed or not.
    let stale = renames::stale_triggers(v.renamed, &was.name, v.original, before);
    let again = |s: &Statement| stale.contains(&s.kind);
    for part in old_parts.iter().filter(|s| !new_parts.contains(s) || again(s)) {
        match &part.kind {
            StatementKind::Index(index) => p.drop.push(format!("DROP INDEX {};", ident(index))),
            StatementKind::Trigger(trigger) => {
                p.drop.push(format!("DROP TRIGGER {} ON {name};", ident(trigger)))
            }
            StatementKind::Policy(policy) => {
                p.drop.push(format!("DROP POLICY {} ON {name};", ident(policy)))
            }
            StatementKind::RowSecurity { force } => {
                let undo = if *force { "NO FORCE" } else { "DISABLE" };
                p.drop.push(alter(format!("{undo} ROW LEVEL SECURITY")));
            }
            _ => {}
        }
    }
    for part in new_parts.iter().filter(|s| !old_parts.contains(s) || again(s)) {
        match &part.kind {
            StatementKind::Index(name) if !name.starts_with(MACHINERY) => p.add.push(&part.sql),
            _ => p.machinery.push(&part.sql),
        }
    }

    // The cursor column comes and goes with the table's sync machinery.
    let cursor = |items: &'_ [Item]| {
        items.iter().find(|i| i.column && i.name.starts_with(MACHINERY)).cloned()
    };
    match (cursor(old_items), cursor(new_items)) {
        (None, Some(def)) => p.columns.push(alter(format!("ADD COLUMN {}", def.sql))),
        (Some(def), None) => p.columns.push(alter(format!("DROP COLUMN {}", ident(&def.name)))),
        _ => {}
    }

    for col in &was.columns {
        if table.column(&col.name).is_none() {
            p.columns.push(alter(format!("DROP COLUMN {}", ident(&col.name))));
        }
    }
    for col in &table.columns {
        match was.column(&col.name) {
            None => {
                let def = new_items
                    .iter()
                    .find(|i| i.column && i.name == col.name)
                    .expect("every column is generated");
                p.columns.push(alter(format!("ADD COLUMN {}", def.sql)));
            }
            Some(before) => change_column(before, col, old, new, &name, p),
        }
    }

    // Comments, by what they are on (the table: `None`, or a column): a changed one is set
    // again, a removed one set to NULL.
    let comments = |ddl: &'_ Ddl, t: &str| -> Vec<(Option<String>, String)> {
        ddl.parts_of(t)
            .filter_map(|s| match &s.kind {
                StatementKind::Comment { column } => Some((column.clone(), s.sql.clone())),
                _ => None,
            })
            .collect()
    };
    let (old_comments, new_comments) = (comments(before, &was.name), comments(after, &table.name));
    for comment in &new_comments {
        if !old_comments.contains(comment) {
            p.comments.push(&comment.1);
        }
    }
    for (on, _) in &old_comments {
        let target = match on {
            None => format!("TABLE {name}"),
            Some(column) => format!("COLUMN {name}.{}", ident(column)),
        };
        let column_gone = on.as_ref().is_some_and(|c| table.column(c).is_none());
        if !column_gone && !new_comments.iter().any(|(o, _)| o == on) {
            p.comments.push(format!("COMMENT ON {target} IS NULL;"));
        }
    }
}

/// Type, default, nullability and the column's own CHECK of a column both versions have.
fn change_column(
    was: &Column,
    col: &Column,
    old: &Schema,
    new: &Schema,
    table: &str,
    p: &mut Phases,
) {
    let column = ident(&col.name);
    let alter = |sql: String| format!("ALTER TABLE {table} ALTER COLUMN {column} {sql};");
    let pg = Dialect::Postgres;
    let (old_type, new_type) =
        (sql_type(was, pg, old.timestamp_storage), sql_type(col, pg, new.timestamp_storage));
    let default =
        |c: &Column, s: &Schema| default_sql(c, pg, s.timestamp_storage).map(default_text);
    let (old_default, new_default) = (default(was, old), default(col, new));

    let check = |c: &Column, s: &Schema| {
        check_expr(c, pg, s.timestamp_storage).map(|e| (c.check_name.clone(), e))
    };
    let (old_check, new_check) = (check(was, old), check(col, new));
    if old_check != new_check {
        if let Some((name, _)) = &old_check {
            p.drop.push(format!("ALTER TABLE {table} DROP CONSTRAINT {};", ident(name)));
        }
        if let Some((name, expr)) = &new_check {
            p.add.push(format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} CHECK ({expr});",
                ident(name)
            ));
        }
    }

    // A default of the old type may not convert: it goes first and comes back after the type.
    let retype = old_type != new_type;
    if retype {
        if old_default.is_some() {
            p.columns.push(alter("DROP DEFAULT".into()));
        }
        p.columns.push(alter(format!("TYPE {new_type} USING {column}::{new_type}")));
    }
    if old_default != new_default || (retype && new_default.is_some()) {
        p.columns.push(alter(match &new_default {
            Some(sql) => format!("SET DEFAULT {sql}"),
            None => "DROP DEFAULT".into(),
        }));
    }
    if was.nullable != col.nullable {
        p.columns.push(alter(if col.nullable { "DROP NOT NULL" } else { "SET NOT NULL" }.into()));
    }
}

fn default_text(sql: sql::DefaultSql) -> String {
    match sql {
        sql::DefaultSql::Literal(s) | sql::DefaultSql::Expression(s) => s,
    }
}
