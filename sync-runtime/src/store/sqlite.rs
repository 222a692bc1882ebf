//! The embedded SQLite store: the default of `sync-server` when no Postgres is given (see
//! docs/server.md).
//!
//! One [`rusqlite::Connection`] behind a [`tokio::sync::Mutex`]: a transaction holds the lock
//! from [`begin`](Store::begin) until it commits or is dropped, and runs `BEGIN IMMEDIATE`, so
//! it has SQLite's write lock from its start. SQLite has one writer at a time anyway, so
//! transactions simply take turns. The async methods do their SQLite work synchronously on the
//! calling task: every call is short, in-process work on a local file (no network round trip),
//! so this store is meant for the embedded default, not for heavy concurrent load; that is
//! Postgres' job. The one wait that can be long is for another process' write lock (an admin's
//! open transaction): `BEGIN IMMEDIATE` blocks the task's thread for up to the busy timeout,
//! then fails with [`StoreError::Conflict`].
//!
//! The database runs in WAL mode with foreign keys enforced and a busy timeout, so that another
//! process (an admin's `sqlite3` shell) may read at any time and write in between transactions.
//! What pull needs (a write counter, the deletions) is kept by triggers of the generated
//! `sqlite-server.sql`, which [`SqliteStore::open`] runs on a new database.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{Mutex, broadcast};

use crate::pokes::Poke;
use crate::schema::{SchemaMeta, TableMeta};
use crate::sql::{quote_ident as ident, quote_literal as literal};
use crate::store::{Horizon, Store, StoreError};

mod error;
mod plan;
mod pull;
mod restrict;
mod retention;
mod scope;
mod tx;

use error::sqlite;
use plan::TablePlan;
pub use tx::SqliteTx;

/// The cursor column that the server's DDL gives every synced table.
const CURSOR: &str = "_sync_seq";

/// How long a statement waits for another process' write lock before it fails with
/// [`StoreError::Conflict`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The embedded SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// The synced tables of the SQLite target, in the schema's order.
    tables: Vec<TablePlan>,
    /// Tombstones user `?3` may read with `?1 < _sync_seq <= ?2`, at most `?4`.
    tombstone_pull: String,
    /// Pokes, sent in process after `COMMIT`: one SQLite file has one server.
    pokes: broadcast::Sender<Poke>,
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path`. When none of the schema's tables
    /// exist, run `ddl` first: the generated `sqlite-server.sql`, the tables with the server's
    /// sync machinery. A database that `ddl` did not make (a device's, say) is refused.
    pub fn open(path: &Path, schema: &'static SchemaMeta, ddl: &str) -> Result<Self, StoreError> {
        let where_ = path.display();
        let mut conn = Connection::open(path).map_err(|e| {
            StoreError::Database(format!("cannot open the SQLite database {where_}: {e}"))
        })?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| sqlite("setting the busy timeout", e))?;
        // WAL lets readers in while a transaction writes; PRAGMA journal_mode answers with the
        // mode it got, which is not WAL on a file system that cannot share memory.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(|e| sqlite(&format!("switching {where_} to WAL"), e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!(
                "{where_} cannot use WAL mode (it stays in `{mode}` mode)"
            )));
        }
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| sqlite("enabling foreign keys", e))?;
        // Plans that do not depend on the values bound: otherwise SQLite compiles a statement
        // again whenever a parameter it planned with (the cursor, the user, the limit) is bound
        // anew, which is every pull, and compiling was two thirds of an empty sync's time. The
        // pull indexes serve every value alike.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(|e| sqlite("fixing the query plans", e))?;

        let synced: Vec<&'static TableMeta> =
            schema.tables.iter().copied().filter(|t| t.targets.sqlite && t.is_synced()).collect();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite(&format!("opening {where_}"), e))?;
        create_tables(&tx, schema, ddl)?;
        let on_delete = restrict::OnDelete::read(&tx, schema)?;
        let mut tables = Vec::with_capacity(synced.len());
        for table in synced {
            let declared = declared_columns(&tx, table.name)?;
            if !declared.iter().any(|(name, _)| name == CURSOR) {
                return Err(StoreError::Database(format!(
                    "table `{}` has no {CURSOR} column: {where_} was not made from the sync \
                     server's DDL (sqlite-server.sql), so the server cannot tell what changed",
                    table.name
                )));
            }
            let restrictors = on_delete.restrictors(schema, table);
            tables.push(TablePlan::new(schema, table, &declared, restrictors)?);
        }
        if !retention::present(&tx)? {
            return Err(StoreError::Database(format!(
                "{where_} was made by an earlier release of the sync server, without tombstone \
                 retention (_sync_tombstone.deleted_at, _sync_pruned): export its rows and let \
                 this release create a new file"
            )));
        }
        tx.commit().map_err(|e| sqlite(&format!("creating the tables of {where_}"), e))?;

        let tombstone_pull = tombstone_pull(schema, &tables)?;
        // Pull, rows, insert and update keep a statement per table; room for all of them.
        conn.set_prepared_statement_cache_capacity(8 * tables.len() + 16);
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            tables,
            tombstone_pull,
            pokes: super::poke_sender(),
        })
    }

    /// The plan of a table the engine names.
    fn plan(&self, table: &TableMeta) -> Result<&TablePlan, StoreError> {
        self.tables.iter().find(|p| p.meta.name == table.name).ok_or_else(|| {
            StoreError::Database(format!(
                "table `{}` is not synced through the SQLite store",
                table.name
            ))
        })
    }
}

impl Store for SqliteStore {
    type Tx<'a> = SqliteTx<'a>;

    async fn begin(&self) -> Result<SqliteTx<'_>, StoreError> {
        let conn = self.conn.lock().await;
        SqliteTx::begin(conn, self)
    }

    /// SQLite has one writer at a time and every transaction is served from the counter it
    /// found at its start, so nothing holds pulls back.
    async fn horizon(&self) -> Result<Horizon, StoreError> {
        Ok(Horizon { waiting_transactions: 0, oldest_transaction_age_secs: None })
    }

    fn subscribe(&self) -> broadcast::Receiver<Poke> {
        self.pokes.subscribe()
    }

    async fn prune(&self, older_than: Duration, batch: usize) -> Result<usize, StoreError> {
        retention::prune(&mut *self.conn.lock().await, older_than, batch)
    }
}

/// Run `ddl` when none of the schema's SQLite tables exist; refuse a database that has some of
/// them and not others, which no DDL run made.
fn create_tables(conn: &Connection, schema: &SchemaMeta, ddl: &str) -> Result<(), StoreError> {
    let mut present = Vec::new();
    let mut missing = Vec::new();
    for table in schema.tables.iter().filter(|t| t.targets.sqlite) {
        let exists = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table.name],
                |row| row.get::<_, i64>(0),
            )
            .map_err(|e| sqlite("listing the tables", e))?;
        if exists > 0 { present.push(table.name) } else { missing.push(table.name) }
    }
    if missing.is_empty() {
        return Ok(());
    }
    if !present.is_empty() {
        return Err(StoreError::Database(format!(
            "the database has tables {} of schema `{}` but not {}: migrate it to the schema",
            present.join(", "),
            schema.name,
            missing.join(", "),
        )));
    }
    conn.execute_batch(ddl).map_err(|e| sqlite("creating the schema's tables", e))
}

/// The columns of `table` in the database with their declared types.
fn declared_columns(conn: &Connection, table: &str) -> Result<Vec<(String, String)>, StoreError> {
    let doing = format!("reading the columns of `{table}`");
    let mut statement = conn
        .prepare("SELECT name, type FROM pragma_table_info(?1)")
        .map_err(|e| sqlite(&doing, e))?;
    statement
        .query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))
        .and_then(Iterator::collect)
        .map_err(|e| sqlite(&doing, e))
}

/// The query of tombstones user `?3` may read: those of the synced tables whose owner is the
/// user, and those with no owner where that means public, unless the row moved to the user
/// (`kept_by`). A move's tombstones name only users who cannot read the moved rows after it; a
/// user who loses a row and gets it back does so by a later write, whose stamp comes after the
/// tombstone (every change has its own counter value), so the device ends with the row
/// (docs/sync.md).
fn tombstone_pull(schema: &SchemaMeta, tables: &[TablePlan]) -> Result<String, StoreError> {
    let names = tables.iter().map(|p| literal(p.meta.name)).collect::<Vec<_>>().join(", ");
    let mut public = Vec::new();
    for plan in tables {
        if schema.public_when_unowned(plan.meta) {
            public.push(literal(plan.meta.name));
        }
    }
    let select = |readable: &str| {
        format!(
            "SELECT _sync_seq, table_name, key FROM _sync_tombstone \
             WHERE _sync_seq > ?1 AND _sync_seq <= ?2 AND {readable} \
             ORDER BY _sync_seq LIMIT ?4"
        )
    };
    Ok(plan::merged(vec![
        select(&format!("owner = ?3 AND table_name IN ({names})")),
        select(&format!(
            "owner IS NULL AND table_name IN ({}) AND kept_by IS NOT ?3",
            public.join(", ")
        )),
    ]))
}
