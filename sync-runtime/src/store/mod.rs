//! Where synced rows live: one interface, two stores.
//!
//! The [engine](crate::engine) decides everything a sync means (validation, ownership, last write
//! wins); a store only reads and writes rows inside one transaction and serves pull pages in commit
//! order. [`postgres`] is the system of record; [`sqlite`] is the embedded default. Both pass the
//! same conformance suite (`tests/tests/sync_*.rs`, each test run once per store).
//!
//! Values cross this boundary in their wire form (docs/types.md): a row is a JSON object keyed
//! by column name, timestamps are `2026-11-24T10:00:00.000Z` strings, and so on. The engine
//! normalises what clients send before a store sees it, and a store returns exactly that form.
//!
//! A store also carries [pokes](crate::pokes): a transaction announces one, and every subscriber
//! of the store (of every server instance, on Postgres) gets it if and once the transaction
//! commits.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::broadcast;

use crate::pokes::Poke;
use crate::schema::TableMeta;

pub mod page;
pub mod postgres;
pub mod retention;
pub mod sqlite;

pub use self::page::{Changes, PageLimit};

/// A row, or a primary key, as a JSON object keyed by column name, in wire form.
pub type Values = Map<String, Value>;

/// A row's primary key as text, to find rows by key: the key values in key order.
pub(crate) fn key_text(table: &TableMeta, values: &Values) -> String {
    let key: Vec<&Value> =
        table.primary_key.iter().map(|c| values.get(*c).unwrap_or(&Value::Null)).collect();
    serde_json::to_string(&key).expect("JSON values serialize")
}

/// A database that holds an application's synced tables.
pub trait Store: Send + Sync + 'static {
    type Tx<'a>: Transaction + 'a
    where
        Self: 'a;

    /// Start a read-write transaction. Pull in it sees one consistent snapshot of the rows it
    /// serves; rows read with [`Transaction::rows`] stay locked against other writers until it
    /// ends.
    fn begin(&self) -> impl Future<Output = Result<Self::Tx<'_>, StoreError>> + Send;

    /// How far behind pulls are held (docs/server.md), for `/healthz`.
    fn horizon(&self) -> impl Future<Output = Result<Horizon, StoreError>> + Send;

    /// The pokes of committed transactions from now on, of every user.
    fn subscribe(&self) -> broadcast::Receiver<Poke>;

    /// Delete at most `batch` tombstones recorded more than `older_than` ago (docs/server.md,
    /// tombstone retention), in a transaction of its own, and record how far history was pruned,
    /// so that a pull from a cursor that may need one of them fails with
    /// [`StoreError::ResyncRequired`]. Returns how many were deleted; safe to run from several
    /// server instances at once.
    fn prune(
        &self,
        older_than: Duration,
        batch: usize,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// The connections of the store's pool now, for `/metrics`; `None` for a store without one.
    fn pool(&self) -> Option<PoolStats> {
        None
    }
}

/// One transaction of a [`Store`]. Dropping it without [`commit`](Transaction::commit) rolls
/// back everything it wrote.
pub trait Transaction: Send {
    /// The rows of `table` with these primary keys (each key holds exactly the primary key
    /// columns), locked until the transaction ends. Keys with no row are left out; order is
    /// unspecified.
    fn rows(
        &mut self,
        table: &'static TableMeta,
        keys: &[Values],
    ) -> impl Future<Output = Result<Vec<Values>, StoreError>> + Send;

    /// The rows of `table` with these primary keys, as [`rows`](Transaction::rows) finds them,
    /// but only kept from being deleted or re-keyed until the transaction ends (what a foreign
    /// key check takes), so that rows many users refer to are not locked against each other.
    fn referenced(
        &mut self,
        table: &'static TableMeta,
        keys: &[Values],
    ) -> impl Future<Output = Result<Vec<Values>, StoreError>> + Send;

    /// Insert rows whose keys had no row when [`rows`](Transaction::rows) looked. Each row holds
    /// exactly `columns` (which include the primary key); columns left out take their defaults.
    /// A row whose key has been inserted by a concurrent transaction since is skipped, not
    /// overwritten: the result lists the keys actually inserted, and the engine looks again.
    /// A row the database refuses (a constraint, a value too large for an index) is left out and
    /// listed with why; the others are written.
    fn insert(
        &mut self,
        table: &'static TableMeta,
        columns: &[&'static str],
        rows: &[Values],
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;

    /// Overwrite `columns` of rows that exist and that this transaction has locked with
    /// [`rows`](Transaction::rows). Each row holds exactly `columns`, primary key included. The
    /// result lists the rows the database refused, which are left as they were.
    fn update(
        &mut self,
        table: &'static TableMeta,
        columns: &[&'static str],
        rows: &[Values],
    ) -> impl Future<Output = Result<Vec<RefusedRow>, StoreError>> + Send;

    /// Delete the rows of `table` with these primary keys, which this transaction has locked
    /// with [`rows`](Transaction::rows): a client's delete of a table with `deletes = "hard"`.
    /// The tombstone machinery of the database records each for pull. The result lists the keys
    /// whose delete the database refused (a foreign key of rows that still refer to the row,
    /// named when it refers to `table`), which are left as they were; the others are deleted.
    fn delete(
        &mut self,
        table: &'static TableMeta,
        keys: &[Values],
    ) -> impl Future<Output = Result<Vec<RefusedRow>, StoreError>> + Send;

    /// One page of changes that `user` may read (docs/sync.md), after `cursor` (`None`: from
    /// the beginning), in commit order: rows written and rows deleted by any path. It holds at
    /// most `limit.changes` changes and `limit.bytes` bytes of JSON, or one larger change.
    /// Rows this transaction wrote itself come in a later pull.
    fn pull(
        &mut self,
        user: &str,
        cursor: Option<&str>,
        limit: PageLimit,
    ) -> impl Future<Output = Result<Page, StoreError>> + Send;

    /// Poke the subscribers of the store with `poke` once this transaction commits (never if it
    /// rolls back).
    fn announce(&mut self, poke: &Poke) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Make everything written visible to others.
    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A store shared with another owner (the server's pruning task) is a store.
impl<S: Store> Store for Arc<S> {
    type Tx<'a> = S::Tx<'a>;

    fn begin(&self) -> impl Future<Output = Result<Self::Tx<'_>, StoreError>> + Send {
        S::begin(self)
    }

    fn horizon(&self) -> impl Future<Output = Result<Horizon, StoreError>> + Send {
        S::horizon(self)
    }

    fn subscribe(&self) -> broadcast::Receiver<Poke> {
        S::subscribe(self)
    }

    fn prune(
        &self,
        older_than: Duration,
        batch: usize,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        S::prune(self, older_than, batch)
    }

    fn pool(&self) -> Option<PoolStats> {
        S::pool(self)
    }
}

/// How many pokes a subscriber may fall behind by before it gets one poke for all it missed.
const POKES_BUFFERED: usize = 1024;

/// The sender a store announces committed pokes through.
pub(crate) fn poke_sender() -> broadcast::Sender<Poke> {
    broadcast::Sender::new(POKES_BUFFERED)
}

/// What an [`insert`](Transaction::insert) did.
#[derive(Debug, Default)]
pub struct Written {
    /// The keys of the rows inserted.
    pub inserted: Vec<Values>,
    /// The rows the database refused.
    pub refused: Vec<RefusedRow>,
}

/// A row of a write that the database refused: its index in the rows given, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedRow {
    pub index: usize,
    pub why: Refused,
}

/// Why a database refused a row, as far as it says: the engine names the constraint from the
/// schema's metadata, so that both stores answer alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub by: RefusedBy,
    /// The constraint's (or index's) name, when the database reports it (Postgres does).
    pub constraint: Option<String>,
    /// The columns, when the database reports them (SQLite's unique and not-null messages).
    pub columns: Vec<String>,
    /// What the database said, for the log only.
    pub detail: String,
}

/// What refused a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedBy {
    Unique,
    ForeignKey,
    Check,
    NotNull,
    /// A value too large for an index entry (Postgres' btree limit).
    IndexSize,
}

/// One page of a pull.
#[derive(Debug)]
pub struct Page {
    /// The changes, in order, as the JSON the response carries.
    pub changes: Changes,
    /// Where the next pull starts; opaque to clients.
    pub cursor: String,
    /// Whether more changes were waiting beyond this page when it was read.
    pub has_more: bool,
}

/// What holds pulls back (docs/sync.md): see `_sync_horizon()` in the generated Postgres DDL.
#[derive(Debug, Clone, PartialEq)]
pub struct Horizon {
    /// Finished transactions that pulls do not serve yet because an older one is still open.
    pub waiting_transactions: i64,
    /// How long the oldest open writing transaction has been open, in seconds, when known.
    pub oldest_transaction_age_secs: Option<f64>,
}

/// A connection pool's state (docs/server.md, Metrics): its connections now, and how often and
/// how long requests waited for one since the store opened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolStats {
    /// The most connections the pool opens.
    pub max_size: usize,
    /// The connections open now, idle or in use.
    pub open: usize,
    /// The open connections no request holds.
    pub idle: usize,
    /// The requests waiting for a connection now.
    pub waiting: usize,
    /// The connections handed out since the store opened.
    pub acquired: u64,
    /// Of those, the ones that found no idle connection and waited for one (opened or returned).
    pub waited: u64,
    /// How long those waits took together, in seconds.
    pub wait_seconds: f64,
}

/// Why a store could not do what the engine asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The cursor was not made by this store.
    #[error("invalid cursor `{0}`: send the cursor of the last response, or null to start over")]
    BadCursor(String),
    /// The cursor is older than the history the store keeps: tombstones it still needs may
    /// have been pruned (docs/server.md).
    #[error(
        "cursor `{0}` is older than the history the server keeps (deletions were forgotten past \
         it): pull everything again from a null cursor"
    )]
    ResyncRequired(String),
    /// A concurrent transaction got in the way (a serialization failure or a deadlock); running
    /// the whole transaction again is safe.
    #[error("conflict with a concurrent transaction: {0}")]
    Conflict(String),
    /// The database refused a row; stores report it per row ([`RefusedRow`]), so this only
    /// reaches the engine from a write it did not expect to fail.
    #[error("the database refused a row: {}", .0.detail)]
    Refused(Refused),
    /// The database cannot be reached: refused, timed out, the connection lost, the server
    /// shutting down. A later request may succeed; the store reconnects by itself.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: the schema is not what the metadata says, or the database failed.
    #[error("{0}")]
    Database(String),
}
