//! The embedded sync server's machinery in SQLite (see docs/sync.md), and the layout of
//! `sqlite-server.sql`: the device's tables, each synced one with a cursor column, its pull
//! index and the triggers that stamp it and record its deletions, instead of the client's
//! outbox.
//!
//! SQLite has one writer at a time, so one counter (`_sync_counter`) gives commit order: every
//! insert and update of a synced table takes the next value into the row's `_sync_seq`, every
//! delete takes one for its tombstone. Every name starts with `_sync`, which names in
//! `schema.toml` cannot.

use minijinja::{Value, context};
use sea_query::{Alias, ColumnDef, Index, SqliteQueryBuilder};
use serde::Serialize;

use crate::ir::{Schema, SyncScope, Table};

use super::column::{ident, literal};
use super::statement::{Group, StatementKind, Statements};
use super::sync::{moves, via_ref_column};
use super::table::{Cursor, key_changed, key_list, key_object};
use super::{index_sql, sqlite_table, table_statements};

/// The cursor column of every synced table.
const CURSOR: &str = "_sync_seq";
const COUNTER: &str = "_sync_counter";
const TOMBSTONE: &str = "_sync_tombstone";
/// The one-row table that records how far tombstones were pruned.
const PRUNED: &str = "_sync_pruned";

/// What the trigger macros need of one synced table.
#[derive(Debug, Serialize)]
struct ServerTable {
    /// The quoted table name.
    name: String,
    /// The table name as an SQL string literal, as the tombstone records it.
    label: String,
    /// The quoted names of the triggers: `_sync_<what>_<table>`.
    triggers: Triggers,
    /// The row's own columns, quoted, for `UPDATE OF`: every column but the cursor.
    columns: String,
    /// The condition that picks the row just written, by its key.
    key_is_new: String,
    /// The quoted primary key columns, for `UPDATE OF`.
    key_columns: String,
    /// The condition under which an update changes the primary key.
    rekeyed: String,
    /// `json_object(...)` of the old row's key.
    old_key: String,
    /// Whose the old row is, as a tag (see [`owner_tag`]).
    owner_tag: String,
    /// The `_sync_move_` trigger of a table whose rows belong to someone.
    #[serde(rename = "move")]
    move_: Option<Move>,
}

/// What the `_sync_move_` trigger of a table needs (see [`moves`]).
#[derive(Debug, Serialize)]
struct Move {
    /// The quoted column that says whose a row is.
    column: String,
    /// Who reads the row before and after the update: `'o' || owner`, `'p'` for everyone, NULL
    /// for nobody (see [`owner_tag`]; a row without an owner is nobody's unless that means
    /// public).
    before: String,
    after: String,
    /// `json_object(...)` of the new row's key.
    new_key: String,
    /// The rows owned through the row, table by table.
    descendants: Vec<Moved>,
}

/// The rows of one table owned through a moving row.
#[derive(Debug, Serialize)]
struct Moved {
    name: String,
    label: String,
    /// `json_object(...)` of the key of row `d`.
    key: String,
    /// The condition on alias `d` that picks them.
    condition: String,
    /// A column of theirs that an update may set to itself, which makes their stamping trigger
    /// give them a new `_sync_seq` (their `via:` column).
    column: String,
}

#[derive(Debug, Serialize)]
struct Triggers {
    insert: String,
    update: String,
    delete: String,
    rekey: String,
    #[serde(rename = "move")]
    move_: String,
}

/// The statements of `sqlite-server.sql`, recorded in `s`, as `sqlite-server.sql.jinja` lays
/// them out.
pub(super) fn layout(schema: &Schema, s: &mut Statements) -> Value {
    let synced = schema.tables.iter().any(|t| t.targets.sqlite && t.is_synced());
    let machinery = synced.then(|| {
        let table = StatementKind::Table(Vec::new());
        let counter = s.call(table.clone(), Some(COUNTER), "counter", &[]);
        let counter_row = s.call(StatementKind::Row, Some(COUNTER), "counter_row", &[]);
        let tombstone = s.call(table, Some(TOMBSTONE), "server_tombstone", &[]);
        let tombstone_indexes: Vec<String> =
            [("key", "table_name, key"), ("owner", "owner, _sync_seq"), ("age", "deleted_at")]
                .into_iter()
                .map(|(what, columns)| {
                    let name = format!("{TOMBSTONE}_{what}_idx");
                    let kind = StatementKind::Index(name.clone());
                    s.call(kind, Some(TOMBSTONE), "tombstone_index", &[name.into(), columns.into()])
                })
                .collect();
        let pruned = s.call(StatementKind::Table(Vec::new()), Some(PRUNED), "pruned", &[]);
        let pruned_row = s.call(StatementKind::Row, Some(PRUNED), "pruned_row", &[]);
        context! { counter, counter_row, tombstone, tombstone_indexes, pruned, pruned_row }
    });
    let tables: Vec<Group> = schema
        .tables
        .iter()
        .filter(|t| t.targets.sqlite)
        .map(|t| Group { comment: t.comment.clone(), statements: table(schema, t, s) })
        .collect();
    context! { machinery, tables }
}

/// A table's statements: the table and its indexes, and for a synced table its pull index and
/// triggers.
fn table(schema: &Schema, table: &Table, s: &mut Statements) -> Vec<String> {
    let synced = table.is_synced();
    let sql = sqlite_table(schema, table, synced.then(cursor));
    let mut statements = table_statements(s, table, &sql);
    if !synced {
        return statements;
    }
    let name = Some(table.name.as_str());
    let (index, index_name) = pull_index(table);
    statements.push(s.add(StatementKind::Index(index_name), name, index));
    let t = server_table(schema, table);
    let value = Value::from_serialize(&t);
    let moves = t.move_.is_some();
    for (what, call) in [
        ("insert", "stamp"),
        ("update", "stamp"),
        ("delete", "record_delete"),
        ("rekey", "record_delete"),
        ("move", "record_move"),
    ] {
        if what == "move" && !moves {
            continue;
        }
        let kind = StatementKind::Trigger(object_name(table, what));
        statements.push(s.call(kind, name, call, &[value.clone(), what.into()]));
    }
    statements
}

/// The cursor column. It stays NULL between an insert and its stamping trigger only, so it
/// needs no default.
fn cursor() -> Cursor {
    let mut def = ColumnDef::new(Alias::new(CURSOR));
    def.custom(Alias::new("INTEGER"));
    Cursor {
        def,
        comment: "Sync cursor: the _sync_counter value of the row's last insert or update, set by \
                  its _sync_insert_ and _sync_update_ triggers.",
    }
}

/// The index pull reads through: the owner (when the table has one), then the cursor, then
/// the primary key that breaks ties. A `via:` table is filtered through its parent and a
/// `public` one read whole, so theirs leads with the cursor.
fn pull_index(table: &Table) -> (String, String) {
    let owner = match table.scope {
        SyncScope::Owner | SyncScope::OwnerOrPublic => table.sync.owner.as_deref(),
        _ => None,
    };
    let mut columns: Vec<&str> = owner.into_iter().collect();
    columns.push(CURSOR);
    for key in &table.primary_key.columns {
        if !columns.contains(&key.as_str()) {
            columns.push(key);
        }
    }
    let name = object_name(table, "pull_idx");
    let mut index = Index::create();
    index.name(&name).table(Alias::new(&table.name));
    for column in columns {
        index.col(Alias::new(column));
    }
    (index_sql::<SqliteQueryBuilder>(&index), name)
}

/// `_sync_<what>_<table>`, the name of one of the table's triggers or of its pull index.
fn object_name(table: &Table, what: &str) -> String {
    format!("_sync_{what}_{}", table.name)
}

fn server_table(schema: &Schema, table: &Table) -> ServerTable {
    let key_is_new: Vec<String> =
        table.primary_key.columns.iter().map(|k| format!("{0} = NEW.{0}", ident(k))).collect();
    let columns: Vec<String> = table.columns.iter().map(|c| ident(&c.name)).collect();
    let trigger = |what: &str| ident(&object_name(table, what));
    ServerTable {
        name: ident(&table.name),
        label: literal(&table.name),
        triggers: Triggers {
            insert: trigger("insert"),
            update: trigger("update"),
            delete: trigger("delete"),
            rekey: trigger("rekey"),
            move_: trigger("move"),
        },
        columns: columns.join(", "),
        key_is_new: key_is_new.join(" AND "),
        key_columns: key_list(table),
        rekeyed: key_changed(table),
        old_key: key_object(table, "OLD"),
        owner_tag: owner_tag(schema, table, "OLD", 1),
        move_: move_trigger(schema, table),
    }
}

/// The `_sync_move_` trigger of `table`, or `None` when everyone reads its rows.
fn move_trigger(schema: &Schema, table: &Table) -> Option<Move> {
    let column = moves::scope_column(table)?;
    let public = moves::public_when_unowned(schema, table);
    let readers = |alias: &str| {
        let tag = owner_tag(schema, table, alias, 1);
        if public { tag } else { format!("nullif({tag}, 'p')") }
    };
    let descendants = moves::descendants(schema, table, "NEW.")
        .into_iter()
        .map(|d| {
            let SyncScope::Via { column, .. } = &d.table.scope else {
                unreachable!("rows are owned through others only in `via:` tables")
            };
            Moved {
                name: ident(&d.table.name),
                label: literal(&d.table.name),
                key: key_object(d.table, "d"),
                condition: d.condition,
                column: ident(column),
            }
        })
        .collect();
    Some(Move {
        column: ident(column),
        before: readers("OLD"),
        after: readers("NEW"),
        new_key: key_object(table, "NEW"),
        descendants,
    })
}

/// An SQL expression for whose row `alias` of `table` is, as a tag: `'o' || owner` for a row
/// with an owner, `'p'` for a row whose owner is NULL (public, or readable by nobody in an
/// `owner` table), and NULL when a `via:` row has no parent (nobody can read it).
///
/// It runs in the delete trigger, and in the move trigger for the row before and after. SQLite
/// deletes a parent row before it runs the delete triggers of the children that ON DELETE
/// CASCADE removes, so a `via:` child finds its parent no longer in the table but in the
/// tombstone the parent's BEFORE DELETE trigger has just written: the lookup falls back to the
/// latest tombstone of the parent's key that records a deletion (`kept_by` NULL; a move's names
/// the owner the row went to). `depth` keeps the aliases of nested lookups (a `via:` parent of a
/// `via:` table) apart.
fn owner_tag(schema: &Schema, table: &Table, alias: &str, depth: usize) -> String {
    match &table.scope {
        SyncScope::Owner | SyncScope::OwnerOrPublic => {
            let owner =
                table.sync.owner.as_deref().expect("validation gives owned tables an owner");
            let owner = format!("{alias}.{}", ident(owner));
            format!("CASE WHEN {owner} IS NULL THEN 'p' ELSE 'o' || {owner} END")
        }
        SyncScope::Via { column, parent_table } => {
            let parent = schema.table(parent_table).expect("validation resolves via parents");
            let key = via_ref_column(table, column);
            let p = format!("p{depth}");
            let parent_key = format!("{alias}.{}", ident(column));
            let live = owner_tag(schema, parent, &p, depth + 1);
            format!(
                "coalesce((SELECT {live} FROM {} AS {p} WHERE {p}.{} = {parent_key}), \
                 (SELECT CASE WHEN owner IS NULL THEN 'p' ELSE 'o' || owner END \
                 FROM {TOMBSTONE} WHERE table_name = {} AND key = json_object({}, {parent_key}) \
                 AND kept_by IS NULL ORDER BY _sync_seq DESC LIMIT 1))",
                ident(&parent.name),
                ident(key),
                literal(&parent.name),
                literal(key),
            )
        }
        SyncScope::Public | SyncScope::None => "'p'".to_owned(),
    }
}
