//! The server-side sync machinery in the SQLite database (docs/sync.md), installed by
//! [`SqliteStore::open`](super::SqliteStore::open) from the metadata.
//!
//! - `_sync_counter` holds one number. SQLite has one writer at a time, so a counter gives
//!   commit order: every insert and update of a synced table takes the next value into the
//!   row's `_sync_seq` column, and every delete takes one for its tombstone, so each change has
//!   its own position.
//! - Triggers do the stamping, so writes by any path count: the engine, an admin's SQL, an
//!   ON DELETE SET NULL action.
//! - `_sync_tombstone` gets a row for every row deleted from a synced table by any path (an
//!   admin's DELETE, ON DELETE CASCADE), and for the old key of a row whose primary key
//!   changed: the key as JSON and whose row it was.
//!
//! Every name starts with `_sync`, which names in `schema.toml` cannot. Installing compares each
//! trigger and index with the one in `sqlite_master` and touches only what differs, so opening a
//! database twice changes nothing the second time.

use rusqlite::Connection;

use super::error::sqlite;
use super::plan::TablePlan;
use super::{ident, literal, scope};
use crate::schema::{SchemaMeta, Scope, TableMeta};
use crate::store::StoreError;

/// The tables every database gets. The tombstone's position is its rowid; `key` is the
/// `json_object()` of the primary key in stored form, `owner` the owner as text (NULL for a
/// public row).
const TABLES: &str = "
CREATE TABLE IF NOT EXISTS _sync_counter (seq INTEGER NOT NULL) STRICT;
INSERT INTO _sync_counter (seq) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM _sync_counter);
CREATE TABLE IF NOT EXISTS _sync_tombstone (
  _sync_seq INTEGER PRIMARY KEY,
  table_name TEXT NOT NULL,
  key TEXT NOT NULL,
  owner TEXT
) STRICT;
";

/// Take the next counter value; `(SELECT seq FROM _sync_counter)` reads it afterwards.
const NEXT: &str = "UPDATE _sync_counter SET seq = seq + 1;";

/// Install the machinery for `tables`, inside the caller's transaction. `columns` lists each
/// table's columns in the database, as `PRAGMA table_info` gives them.
pub(super) fn install(
    conn: &Connection,
    schema: &SchemaMeta,
    tables: &[TablePlan],
    columns: &[Vec<(String, String)>],
) -> Result<(), StoreError> {
    drop_client_machinery(conn)?;
    conn.execute_batch(TABLES).map_err(|e| sqlite("creating the sync tables", e))?;
    let mut wanted: Vec<(String, String)> = vec![
        (
            "_sync_tombstone_key_idx".to_owned(),
            "CREATE INDEX _sync_tombstone_key_idx ON _sync_tombstone (table_name, key)".to_owned(),
        ),
        (
            "_sync_tombstone_owner_idx".to_owned(),
            "CREATE INDEX _sync_tombstone_owner_idx ON _sync_tombstone (owner, _sync_seq)"
                .to_owned(),
        ),
    ];
    for (name, sql) in &wanted {
        ensure(conn, name, sql)?;
    }
    for (plan, columns) in tables.iter().zip(columns) {
        let table = plan.meta;
        let added = !columns.iter().any(|(name, _)| name == "_sync_seq");
        if added {
            let sql = format!("ALTER TABLE {} ADD COLUMN _sync_seq INTEGER", ident(table.name));
            conn.execute_batch(&sql)
                .map_err(|e| sqlite(&format!("adding _sync_seq to `{}`", table.name), e))?;
        }
        let data: Vec<&str> =
            columns.iter().map(|(name, _)| name.as_str()).filter(|n| *n != "_sync_seq").collect();
        let objects = objects(schema, table, &data)?;
        let mut changed = false;
        for (name, sql) in &objects {
            changed |= ensure(conn, name, sql)?;
        }
        if added || changed {
            stamp_unstamped(conn, table)?;
        }
        wanted.extend(objects);
    }
    drop_stale(conn, &wanted)
}

/// The triggers and the index of one table, as `(name, CREATE statement)`.
fn objects(
    schema: &SchemaMeta,
    table: &TableMeta,
    columns: &[&str],
) -> Result<Vec<(String, String)>, StoreError> {
    let name = ident(table.name);
    let key_is_new = table
        .primary_key
        .iter()
        .map(|k| format!("{k} = NEW.{k}", k = ident(k)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let stamp = format!(
        "{NEXT} UPDATE {name} SET _sync_seq = (SELECT seq FROM _sync_counter) WHERE {key_is_new};"
    );
    let key_json = table
        .primary_key
        .iter()
        .map(|k| format!("{}, OLD.{}", literal(k), ident(k)))
        .collect::<Vec<_>>()
        .join(", ");
    let tombstone = format!(
        "{NEXT} INSERT INTO _sync_tombstone (_sync_seq, table_name, key, owner) \
         SELECT (SELECT seq FROM _sync_counter), {}, json_object({key_json}), \
         CASE WHEN tag = 'p' THEN NULL ELSE substr(tag, 2) END \
         FROM (SELECT {} AS tag) WHERE tag IS NOT NULL;",
        literal(table.name),
        scope::owner_tag(schema, table, "OLD", 1)?,
    );
    let list =
        |names: &mut dyn Iterator<Item = &str>| names.map(ident).collect::<Vec<_>>().join(", ");
    let key_list = list(&mut table.primary_key.iter().copied());
    let key_changed = table
        .primary_key
        .iter()
        .map(|k| format!("OLD.{k} IS NOT NEW.{k}", k = ident(k)))
        .collect::<Vec<_>>()
        .join(" OR ");
    let index_columns = match table.scope {
        Scope::Owner | Scope::OwnerOrPublic => {
            format!("{}, _sync_seq, {key_list}", ident(scope::owner_column(table)?))
        }
        _ => format!("_sync_seq, {key_list}"),
    };
    let object = |kind: &str| format!("_sync_{kind}_{}", table.name);
    Ok(vec![
        (
            object("insert"),
            format!(
                "CREATE TRIGGER {} AFTER INSERT ON {name} BEGIN {stamp} END",
                ident(&object("insert"))
            ),
        ),
        // Only columns other than _sync_seq: the stamp's own update must not fire it again.
        (
            object("update"),
            format!(
                "CREATE TRIGGER {} AFTER UPDATE OF {} ON {name} BEGIN {stamp} END",
                ident(&object("update")),
                list(&mut columns.iter().copied())
            ),
        ),
        // BEFORE, so that a parent's tombstone exists when ON DELETE CASCADE deletes its
        // children (see `scope::owner_tag`).
        (
            object("delete"),
            format!(
                "CREATE TRIGGER {} BEFORE DELETE ON {name} BEGIN {tombstone} END",
                ident(&object("delete"))
            ),
        ),
        // A row whose key changes is gone under its old key.
        (
            object("rekey"),
            format!(
                "CREATE TRIGGER {} BEFORE UPDATE OF {key_list} ON {name} WHEN {key_changed} BEGIN {tombstone} END",
                ident(&object("rekey"))
            ),
        ),
        (
            object("pull_idx"),
            format!("CREATE INDEX {} ON {name} ({index_columns})", ident(&object("pull_idx"))),
        ),
    ])
}

/// Create the trigger or index `name` unless `sqlite_master` has it exactly so; whether
/// anything changed.
fn ensure(conn: &Connection, name: &str, sql: &str) -> Result<bool, StoreError> {
    let doing = format!("installing {name}");
    let existing: Option<(String, String)> = conn
        .query_row("SELECT type, sql FROM sqlite_master WHERE name = ?1", [name], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(|e| sqlite(&doing, e))?;
    match existing {
        Some((_, existing)) if existing == sql => return Ok(false),
        Some((kind, _)) => conn
            .execute_batch(&format!("DROP {kind} {}", ident(name)))
            .map_err(|e| sqlite(&doing, e))?,
        None => {}
    }
    conn.execute_batch(sql).map_err(|e| sqlite(&doing, e))?;
    Ok(true)
}

/// Give every row that has no `_sync_seq` yet (rows written before the machinery was
/// installed) a position of its own, so that pull serves it.
fn stamp_unstamped(conn: &Connection, table: &TableMeta) -> Result<(), StoreError> {
    let name = ident(table.name);
    let keys: Vec<String> = table.primary_key.iter().map(|k| ident(k)).collect();
    let join = keys.iter().map(|k| format!("{name}.{k} = n.{k}")).collect::<Vec<_>>().join(" AND ");
    let sql = format!(
        "UPDATE {name} SET _sync_seq = n.seq FROM (SELECT {keys}, \
         (SELECT seq FROM _sync_counter) + row_number() OVER (ORDER BY {keys}) AS seq \
         FROM {name} WHERE _sync_seq IS NULL) AS n WHERE {join}",
        keys = keys.join(", "),
    );
    let doing = format!("stamping the existing rows of `{}`", table.name);
    let stamped = conn.execute(&sql, []).map_err(|e| sqlite(&doing, e))?;
    let stamped = i64::try_from(stamped).map_err(|e| StoreError::Database(e.to_string()))?;
    conn.execute("UPDATE _sync_counter SET seq = seq + ?1", [stamped])
        .map_err(|e| sqlite(&doing, e))?;
    Ok(())
}

/// Drop the `_sync` triggers and indexes no longer wanted, such as those of a table that is no
/// longer synced.
fn drop_stale(conn: &Connection, wanted: &[(String, String)]) -> Result<(), StoreError> {
    let doing = "dropping stale sync triggers and indexes";
    let mut statement = conn
        .prepare(
            "SELECT type, name FROM sqlite_master \
             WHERE type IN ('trigger', 'index') AND name GLOB '_sync_*'",
        )
        .map_err(|e| sqlite(doing, e))?;
    let existing = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| sqlite(doing, e))?;
    for (kind, name) in existing {
        if !wanted.iter().any(|(w, _)| *w == name) {
            conn.execute_batch(&format!("DROP {kind} {}", ident(&name)))
                .map_err(|e| sqlite(doing, e))?;
        }
    }
    Ok(())
}

/// Drop the client's outbox machinery that the generated `sqlite.sql` also holds: on a server
/// its triggers would record every write in an outbox that nothing reads.
fn drop_client_machinery(conn: &Connection) -> Result<(), StoreError> {
    let doing = "dropping the client's outbox machinery";
    let triggers: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' \
             AND name LIKE '\\_sync\\_client\\_%' ESCAPE '\\'",
        )
        .and_then(|mut s| s.query_map([], |row| row.get(0))?.collect())
        .map_err(|e| sqlite(doing, e))?;
    for trigger in triggers {
        conn.execute_batch(&format!("DROP TRIGGER {}", ident(&trigger)))
            .map_err(|e| sqlite(doing, e))?;
    }
    conn.execute_batch("DROP TABLE IF EXISTS _sync_outbox; DROP TABLE IF EXISTS _sync_client;")
        .map_err(|e| sqlite(doing, e))
}
