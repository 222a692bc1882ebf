//! The server-side sync machinery in Postgres (see docs/sync.md), and the layout of
//! `postgres.sql`.
//!
//! Each synced table gets a cursor column stamped with the writing transaction's id, an index
//! that pull reads through, and triggers that stamp it and record its deletions. The shared
//! functions and the tombstone table they use come once per file, before the tables. None of this
//! is in the IR: it is DDL machinery that only the server reads, so row types, TypeScript and the
//! documentation never see it. Every name starts with `_sync`, which no name in `schema.toml` can
//! (names cannot start with `_`), so the machinery never collides with a user's table or column.

use minijinja::{Value, context};
use sea_query::{Alias, ColumnDef, Expr, Index, PostgresQueryBuilder};
use serde::Serialize;

use crate::ir::{Schema, SyncScope, Table};

use super::column::{ident, literal};
use super::statement::{Group, StatementKind, Statements};
use super::table::Cursor;
use super::{index_sql, postgres_table, table_statements};

pub(super) mod moves;

/// The cursor column of every synced table.
pub(crate) const CURSOR: &str = "_sync_xid";
/// The table that records rows deleted by any path.
pub(crate) const TOMBSTONE: &str = "_sync_tombstone";
/// The one-row table that records how far tombstones were pruned.
pub(crate) const PRUNED: &str = "_sync_pruned";
/// The comment on every cursor column, for whoever finds it in a database.
const CURSOR_COMMENT: &str = "Sync cursor: the transaction that last wrote this row, \
     set by the _sync_stamp trigger on every insert and update; see _sync_horizon().";

/// Postgres truncates longer identifiers.
const MAX_IDENT: usize = 63;

/// What the template adds to a synced table.
#[derive(Debug, Serialize)]
pub(super) struct SyncSql {
    pub index_name: String,
    /// The `CREATE INDEX` statement pull reads through.
    pub index: String,
    /// The arguments of `_sync_record_delete()`, as SQL literals.
    pub tombstone_args: Vec<String>,
    /// The primary key columns, quoted, for `UPDATE OF`.
    pub key_columns: String,
    /// The condition under which an update changes the primary key.
    pub rekeyed: String,
    /// The `_sync_move` trigger of a table whose rows belong to someone.
    #[serde(rename = "move")]
    pub move_: Option<MoveSql>,
}

/// What the `_sync_move` trigger of a table needs: the column that says whose a row is, and the
/// arguments of `_sync_record_move()` as SQL literals.
#[derive(Debug, Serialize)]
pub(super) struct MoveSql {
    pub column: String,
    pub args: Vec<String>,
}

/// The statements of `postgres.sql`, recorded in `s`, as `postgres.sql.jinja` lays them out.
pub(super) fn layout(schema: &Schema, s: &mut Statements) -> Value {
    let synced = schema.tables.iter().any(|t| t.targets.postgres && t.is_synced());
    let machinery = synced.then(|| {
        let c = [Value::from_serialize(
            context! { cursor => CURSOR, tombstone => TOMBSTONE, pruned => PRUNED },
        )];
        let function = |name: &str| StatementKind::Function(name.to_owned());
        let table = Some(TOMBSTONE);
        let stamp = s.call(function("_sync_stamp"), None, "stamp_function", &c);
        let tombstone = s.call(StatementKind::Table(Vec::new()), table, "tombstone", &c);
        let index = StatementKind::Index(format!("{TOMBSTONE}_idx"));
        let tombstone_index = s.call(index, table, "tombstone_index", &c);
        let age_index = StatementKind::Index(format!("{TOMBSTONE}_age_idx"));
        let tombstone_age_index = s.call(age_index, table, "tombstone_age_index", &c);
        let pruned = s.call(StatementKind::Table(Vec::new()), Some(PRUNED), "pruned", &c);
        let pruned_row = s.call(StatementKind::Row, Some(PRUNED), "pruned_row", &c);
        let record_delete =
            s.call(function("_sync_record_delete"), None, "record_delete_function", &c);
        let record_move = s.call(function("_sync_record_move"), None, "record_move_function", &c);
        let refuse_truncate =
            s.call(function("_sync_refuse_truncate"), None, "refuse_truncate_function", &c);
        let horizon = s.call(function("_sync_horizon"), None, "horizon_function", &c);
        context! {
            stamp, tombstone, tombstone_index, tombstone_age_index, pruned, pruned_row,
            record_delete, record_move, refuse_truncate, horizon
        }
    });
    let tables: Vec<Group> = schema
        .tables
        .iter()
        .filter(|t| t.targets.postgres)
        .map(|t| Group { comment: None, statements: table(schema, t, s) })
        .collect();
    context! { machinery, tables, cursor => CURSOR, tombstone => TOMBSTONE, pruned => PRUNED }
}

/// A table's statements: the table, its indexes, its sync machinery and row security, its
/// comments.
fn table(schema: &Schema, table: &Table, s: &mut Statements) -> Vec<String> {
    let sync = table_sync(schema, table);
    let sql = postgres_table(schema, table, sync.as_ref().map(|_| cursor()));
    let mut statements = table_statements(s, table, &sql);
    let name = Some(table.name.as_str());
    let t = Value::from_serialize(&sql);
    if let Some(sync) = &sync {
        let index = StatementKind::Index(sync.index_name.clone());
        statements.push(s.add(index, name, sync.index.clone()));
        let moves = sync.move_.is_some();
        let sync = Value::from_serialize(sync);
        for (trigger, call) in [
            ("_sync_stamp", "stamp"),
            ("_sync_tombstone", "tombstone_trigger"),
            ("_sync_rekey", "rekey"),
            ("_sync_move", "move_trigger"),
            ("_sync_truncate", "truncate"),
        ] {
            if call == "move_trigger" && !moves {
                continue;
            }
            let kind = StatementKind::Trigger(trigger.to_owned());
            statements.push(s.call(kind, name, call, &[t.clone(), sync.clone()]));
        }
        statements.extend(super::rls::statements(schema, table, &t, s));
    }
    if table.comment.is_some() {
        let kind = StatementKind::Comment { column: None };
        statements.push(s.call(kind, name, "table_comment", std::slice::from_ref(&t)));
    }
    for comment in &sql.column_comments {
        let kind = StatementKind::Comment { column: Some(comment.name.clone()) };
        let args = [t.clone(), Value::from_serialize(comment)];
        statements.push(s.call(kind, name, "column_comment", &args));
    }
    statements
}

/// The cursor column: `DEFAULT` covers a write while the stamping trigger is disabled (a
/// restore with `--disable-triggers`); the trigger covers every update, which a default cannot.
fn cursor() -> Cursor {
    let mut def = ColumnDef::new(Alias::new(CURSOR));
    def.custom(Alias::new("xid8")).not_null().default(Expr::cust("pg_current_xact_id()"));
    Cursor { def, comment: CURSOR_COMMENT }
}

/// The name and columns of the index pull reads a synced table through. Pull asks for one
/// user's rows above a cursor, in cursor order, in keyed pages: the index leads with the column
/// that says whose a row is (the owner, or the parent reference of a `via:` table, which pull
/// joins to the parent), then the cursor, then the primary key that breaks ties among the many
/// rows one transaction writes. A `public` table is read whole.
pub(crate) fn sync_index(table: &Table) -> (String, Vec<&str>) {
    let scope_column = match &table.scope {
        SyncScope::Via { column, .. } => Some(column),
        _ => table.sync.owner.as_ref(),
    };
    let mut columns: Vec<&str> = scope_column.map(String::as_str).into_iter().collect();
    columns.push(CURSOR);
    for key in &table.primary_key.columns {
        if !columns.contains(&key.as_str()) {
            columns.push(key);
        }
    }
    (index_name(&table.name), columns)
}

/// The machinery of `table`, or `None` when it is not synced.
fn table_sync(schema: &Schema, table: &Table) -> Option<SyncSql> {
    if !table.is_synced() {
        return None;
    }
    let (name, columns) = sync_index(table);
    let mut index = Index::create();
    index.name(&name).table(Alias::new(&table.name));
    for column in columns {
        index.col(Alias::new(column));
    }

    let mut tombstone_args = vec![literal(&format!("{{{}}}", table.primary_key.columns.join(",")))];
    match &table.scope {
        SyncScope::Via { column, parent_table } => {
            let parent = schema.table(parent_table).expect("validation resolves via parents");
            let row_value = format!("($1).{}", ident(column));
            let query = owner_lookup(schema, parent, via_ref_column(table, column), &row_value, 1);
            tombstone_args.extend([literal(""), literal(&query)]);
        }
        _ => tombstone_args.extend(table.sync.owner.as_deref().map(literal)),
    }
    let move_ = move_sql(schema, table, &tombstone_args[0]);
    let key: Vec<String> = table.primary_key.columns.iter().map(|c| ident(c)).collect();
    let row = |alias: &str| {
        let columns: Vec<String> = key.iter().map(|c| format!("{alias}.{c}")).collect();
        format!("({})", columns.join(", "))
    };
    Some(SyncSql {
        index_name: name,
        index: index_sql::<PostgresQueryBuilder>(&index),
        tombstone_args,
        key_columns: key.join(", "),
        rekeyed: format!("{} IS DISTINCT FROM {}", row("OLD"), row("NEW")),
        move_,
    })
}

/// The `_sync_move` trigger of `table` (see [`moves`]), or `None` when everyone reads its rows.
/// The arguments of `_sync_record_move()`: the primary key columns (as for
/// `_sync_record_delete()`); `public` or `private`, whether a row without an owner is public; a
/// query that yields the owner of row `$1` as text (no row: the row has no parent, nobody reads
/// it); then per table owned through it, a statement that stamps the rows owned through row `$1`
/// and, when `$4`, records their tombstones with owner `$2` and `kept_by` `$3`.
fn move_sql(schema: &Schema, table: &Table, keys: &str) -> Option<MoveSql> {
    let column = moves::scope_column(table)?;
    let owner = match &table.scope {
        SyncScope::Via { column, parent_table } => {
            let parent = schema.table(parent_table).expect("validation resolves via parents");
            let row_value = format!("($1).{}", ident(column));
            owner_lookup(schema, parent, via_ref_column(table, column), &row_value, 1)
        }
        _ => format!("SELECT ($1).{}::text", ident(column)),
    };
    let public = if moves::public_when_unowned(schema, table) { "public" } else { "private" };
    let mut args = vec![keys.to_owned(), literal(public), literal(&owner)];
    for d in moves::descendants(schema, table, "($1).") {
        let key: Vec<String> =
            d.table.primary_key.columns.iter().map(|k| format!("d.{}", ident(k))).collect();
        let statement = format!(
            "WITH moved AS (UPDATE {name} AS d SET {CURSOR} = pg_current_xact_id() \
             WHERE {condition} RETURNING {key}) \
             INSERT INTO {TOMBSTONE} ({CURSOR}, table_name, key, owner, kept_by) \
             SELECT pg_current_xact_id(), {label}, to_jsonb(moved), $2, $3 FROM moved WHERE $4",
            name = ident(&d.table.name),
            condition = d.condition,
            key = key.join(", "),
            label = literal(&d.table.name),
        );
        args.push(literal(&statement));
    }
    Some(MoveSql { column: ident(column), args })
}

/// `_sync_<table>_idx`, or for a table name too long for that, its start and a hash of the
/// whole name, so that two long names with the same start still get different indexes.
fn index_name(table: &str) -> String {
    let name = format!("_sync_{table}_idx");
    if name.len() <= MAX_IDENT {
        return name;
    }
    // FNV-1a: stable across Rust releases, unlike `DefaultHasher`.
    let hash = table
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    // Validated names are ASCII, so any byte offset is a character boundary.
    format!("_sync_{}_{:08x}", &table[..MAX_IDENT - "_sync__".len() - 8], hash as u32)
}

/// The parent column that a `via:` column references.
pub(super) fn via_ref_column<'a>(table: &'a Table, column: &str) -> &'a str {
    table
        .foreign_keys
        .iter()
        .find(|fk| fk.columns == [column])
        .map(|fk| fk.ref_columns[0].as_str())
        .expect("validation checks that a via column has a foreign key")
}

/// A query for the owner (as text) of the row of `parent` whose `ref_column` equals `value`:
/// what pull needs to decide who may see a deleted `via:` row, resolved when it is deleted,
/// because by the time of the pull the parent may be gone too; and whose a `via:` row is before
/// and after it moves. It yields no row when there is no parent (a NULL reference: nobody could
/// see the row) and NULL for a public parent.
///
/// A parent deleted in the same transaction (ON DELETE CASCADE removes the children after the
/// parent) is found through its own tombstone, which the BEFORE DELETE trigger wrote before the
/// parent row went; that works when the reference is the parent's primary key, the tombstone's
/// key. Tombstones of the parent's moves (`kept_by` set: it went to another owner earlier in the
/// transaction) name owners it had before, who already heard of the children then; they are left
/// out. A move to nobody (`kept_by` NULL) may still be taken, and names such an earlier owner.
/// `depth` keeps the aliases of nested lookups (a `via:` parent of a `via:` table) apart.
fn owner_lookup(
    schema: &Schema,
    parent: &Table,
    ref_column: &str,
    value: &str,
    depth: usize,
) -> String {
    let alias = format!("p{depth}");
    let owner = match (&parent.sync.owner, &parent.scope) {
        (Some(owner), _) => format!("{alias}.{}::text", ident(owner)),
        (None, SyncScope::Via { column, parent_table }) => {
            let grandparent = schema.table(parent_table).expect("validation resolves via parents");
            let inner = owner_lookup(
                schema,
                grandparent,
                via_ref_column(parent, column),
                &format!("{alias}.{}", ident(column)),
                depth + 1,
            );
            format!("({inner})")
        }
        (None, _) => "NULL::text".into(),
    };
    let live = format!(
        "SELECT {owner} FROM {} {alias} WHERE {alias}.{} = {value}",
        ident(&parent.name),
        ident(ref_column)
    );
    if parent.is_synced() && parent.primary_key.columns == [ref_column] {
        format!(
            "{live} UNION ALL SELECT t.owner FROM {TOMBSTONE} t \
             WHERE t.{CURSOR} = pg_current_xact_id() AND t.table_name = {} \
             AND t.key = jsonb_build_object({}, {value}) AND t.kept_by IS NULL LIMIT 1",
            literal(&parent.name),
            literal(ref_column)
        )
    } else {
        format!("{live} LIMIT 1")
    }
}
