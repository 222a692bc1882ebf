//! The sync client (docs/sync.md): a device's SQLite database, kept in sync with a sync server.
//!
//! The database is made from the generated `sqlite.sql`, whose triggers record every local write
//! of a synced table in an outbox (one entry per row). [`Client::sync_once`] pushes the rows the
//! outbox names, and applies what the server answers ([`apply`]) in one transaction with the new
//! cursor; it repeats while the server has more to pull or the outbox more to push.
//! [`Client::start`] runs syncs in the background: one at start, then one per burst of
//! [`signal`](Client::signal)s after a debounce, with backoff and jitter after errors, and one per
//! server poke ([`runner`]). When the server answers `resync_required` (it pruned deletions past
//! the cursor), the client pulls everything again and drops what the server no longer has
//! ([`resync`]).
//!
//! The app writes through [`Client::with_db`] (or through its own connection to the same file:
//! the database is in WAL mode with a busy timeout). The client never writes a synced row on the
//! app's behalf except to apply what the server sent.

mod apply;
mod local;
mod migrate;
mod quarantine;
mod resync;
mod runner;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::Notify;

pub use self::apply::Applied;
use self::local::{Entry, TablePlan, db};
pub use self::migrate::Migration;
pub use self::quarantine::{Quarantined, QuarantinedOp};
pub use self::runner::{RunOptions, RunStatus, SyncHandle};
use crate::protocol::{
    DeleteChange, ErrorCode, Key, PushChange, SyncError, SyncErrorResponse, SyncRequest,
    SyncResponse, UpsertChange,
};
use crate::schema::SchemaMeta;
use crate::wire::parse_timestamp;

/// How long a statement waits for another connection's write lock (the app's) before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how a client syncs.
#[derive(Clone)]
pub struct ClientConfig {
    /// The server's base URL, such as `http://127.0.0.1:8787`; the client calls `/api/sync` and
    /// `/api/events` under it.
    pub server: String,
    /// The bearer token of each request, asked for anew every time so it can be refreshed.
    pub token: Arc<dyn Fn() -> String + Send + Sync>,
    /// The most outbox entries one request pushes (the server's limit is 10,000 by default).
    pub push_batch: usize,
    /// The most changes one response pulls; `None` for the server's default.
    pub page_size: Option<usize>,
    /// The limit of one HTTP request, connection included.
    pub request_timeout: Duration,
    /// The SQLite scripts that bring an older database to the app's schema version, run on
    /// open: `generated/migrations/*.sqlite.sql`, which the generated crate carries as
    /// `SQLITE_MIGRATIONS` (`generated::SQLITE_MIGRATIONS.to_vec()`).
    pub migrations: Vec<Migration>,
}

impl ClientConfig {
    /// A config for `server` with a fixed bearer token and the defaults.
    pub fn new(server: impl Into<String>, token: impl Into<String>) -> Self {
        let token = token.into();
        ClientConfig {
            server: server.into().trim_end_matches('/').to_owned(),
            token: Arc::new(move || token.clone()),
            push_batch: 1000,
            page_size: None,
            request_timeout: Duration::from_secs(30),
            migrations: Vec::new(),
        }
    }
}

/// Why a sync failed. Nothing local is lost by a failed sync: the outbox keeps every entry the
/// server did not acknowledge, and the cursor moves only with applied pages.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the sync server at {url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// `retry_after` is the answer's `Retry-After` (429 and 503 carry one): the background loop
    /// waits at least that long before it tries again.
    #[error("the sync server refused the sync ({status} {}): {}", .error.code, .error.message)]
    Refused { status: u16, error: Box<SyncError>, retry_after: Option<std::time::Duration> },
    /// The server no longer syncs this schema version: the app must be updated. Retrying does
    /// not help; the local data and the outbox stay as they are.
    #[error("the sync server needs a newer app: {0}")]
    UpgradeRequired(String),
    #[error("the sync server answered something this client cannot read: {0}")]
    Protocol(String),
    #[error("the local database: {0}")]
    Database(String),
}

/// What one [`Client::sync_once`] did, summed over its requests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    /// Requests made.
    pub requests: usize,
    /// Local changes pushed.
    pub pushed: usize,
    /// Pushed changes the server did not apply (their rows were replaced by the server's; those
    /// refused for good are also in the quarantine, see `applied.quarantined`).
    pub rejected: usize,
    /// What was applied locally.
    pub applied: Applied,
    /// Times the server answered `resync_required` and the client started pulling everything
    /// again ([`resync`]).
    pub resyncs: usize,
}

/// A device's database and its sync.
pub struct Client {
    db: Mutex<Connection>,
    plans: Vec<TablePlan>,
    schema: &'static SchemaMeta,
    client_id: String,
    config: ClientConfig,
    http: reqwest::Client,
    /// One sync at a time: two would push the same entries twice.
    syncing: tokio::sync::Mutex<()>,
    signals: Arc<Notify>,
}

impl Client {
    /// Open (creating if needed) the database at `path`. When none of the schema's tables exist,
    /// run `ddl` (the generated `sqlite.sql`, outbox machinery included) first; when the database
    /// is at an older schema version, run the config's migrations.
    pub fn open(
        path: &Path,
        schema: &'static SchemaMeta,
        ddl: &str,
        config: ClientConfig,
    ) -> Result<Client, ClientError> {
        let where_ = path.display();
        let mut conn = Connection::open(path).map_err(|e| {
            ClientError::Database(format!("cannot open the SQLite database {where_}: {e}"))
        })?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db("setting the busy timeout"))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db("switching to WAL"))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db("enforcing foreign keys"))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db(&format!("opening {where_}")))?;
        let has_state = |conn: &Connection| {
            conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sync_client'",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map_err(db("looking for the sync state"))
        };
        if has_state(&tx)? == 0 {
            let any_table = schema.tables.iter().filter(|t| t.targets.sqlite).any(|t| {
                tx.query_row("SELECT count(*) FROM sqlite_master WHERE name = ?1", [t.name], |r| {
                    r.get::<_, i64>(0)
                })
                .is_ok_and(|n| n > 0)
            });
            if any_table {
                return Err(ClientError::Database(format!(
                    "{where_} has tables of schema `{}` but no `_sync_client` table: it was not \
                     made from the generated sqlite.sql with the client's sync machinery",
                    schema.name
                )));
            }
            tx.execute_batch(ddl).map_err(db("creating the schema's tables"))?;
            migrate::mark_created(&tx, schema)?;
        }
        migrate::add_machinery(&tx, ddl)?;
        tx.commit().map_err(db(&format!("opening {where_}")))?;
        migrate::upgrade(&mut conn, schema, &config.migrations)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db(&format!("opening {where_}")))?;
        let client_id: String = tx
            .query_row("SELECT client_id FROM _sync_client", [], |row| row.get(0))
            .map_err(db("reading the client id"))?;
        let plans = local::plans(&tx, schema)?;
        tx.commit().map_err(db(&format!("opening {where_}")))?;
        conn.set_prepared_statement_cache_capacity(8 * plans.len() + 16);
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|source| ClientError::Http { url: config.server.clone(), source })?;
        Ok(Client {
            db: Mutex::new(conn),
            plans,
            schema,
            client_id,
            config,
            http,
            syncing: tokio::sync::Mutex::new(()),
            signals: Arc::new(Notify::new()),
        })
    }

    /// The device's stable id, sent with every sync.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The database, for the app's reads and writes; writes to synced tables are recorded in the
    /// outbox by the generated triggers. Blocks while a sync applies a page.
    pub fn with_db<R>(&self, f: impl FnOnce(&mut Connection) -> R) -> R {
        f(&mut self.lock())
    }

    /// Every row of the synced table `table` in wire form, in primary key order: what this
    /// device holds.
    pub fn rows(&self, table: &str) -> Result<Vec<Key>, ClientError> {
        self.plan(table)?.all(&self.lock())
    }

    fn plan(&self, table: &str) -> Result<&TablePlan, ClientError> {
        self.plans.iter().find(|p| p.meta.name == table).ok_or_else(|| {
            ClientError::Database(format!("`{table}` is not a synced table of this schema"))
        })
    }

    /// Ask the background loop ([`Client::start`]) for a sync: bursts of signals within the
    /// debounce make one sync.
    pub fn signal(&self) {
        self.signals.notify_one();
    }

    /// Push every pending local write and pull until the server has nothing more, applying each
    /// answer in one transaction with its cursor.
    pub async fn sync_once(&self) -> Result<SyncReport, ClientError> {
        let _one_at_a_time = self.syncing.lock().await;
        let mut report = SyncReport::default();
        loop {
            let (sent, changes, cursor) = {
                let conn = self.lock();
                let sent = local::outbox(&conn, &self.plans, self.config.push_batch)?;
                let changes = self.changes(&conn, &sent)?;
                let cursor: Option<String> = conn
                    .query_row("SELECT cursor FROM _sync_client", [], |row| row.get(0))
                    .map_err(db("reading the cursor"))?;
                (sent, changes, cursor)
            };
            report.pushed += changes.len();
            let request = SyncRequest {
                schema_version: i64::from(self.schema.version),
                client_id: self.client_id.parse().map_err(|e| {
                    ClientError::Database(format!("the stored client id is not a UUID: {e}"))
                })?,
                cursor,
                page_size: self.config.page_size.map(|n| n as i64),
                changes,
            };
            let response = match self.post(&request).await {
                // The server forgot deletions past the cursor: pull everything again, keeping
                // the outbox (nothing of the refused request was written) and the quarantine.
                Err(ClientError::Refused { error, .. })
                    if error.code == ErrorCode::ResyncRequired && request.cursor.is_some() =>
                {
                    tracing::info!("the server asks for a resync: pulling everything again");
                    resync::begin(&mut self.lock(), &self.plans)?;
                    report.requests += 1;
                    report.resyncs += 1;
                    continue;
                }
                response => response?,
            };
            report.requests += 1;
            report.rejected += response.rejected.len();
            let more_to_pull = response.has_more;
            let applied = {
                let mut conn = self.lock();
                apply::apply(&mut conn, &self.plans, &self.client_id, &sent, response)?
            };
            report.applied.acknowledged += applied.acknowledged;
            report.applied.stored += applied.stored;
            report.applied.deleted += applied.deleted;
            report.applied.kept_local += applied.kept_local;
            report.applied.quarantined += applied.quarantined;
            // A full push may have left entries behind it, unless none of it was acknowledged:
            // then the same entries (changes refused for a clock too far ahead, which are kept)
            // would be pushed again at once, for ever.
            let more_to_push = sent.len() == self.config.push_batch && applied.acknowledged > 0;
            if !more_to_pull && !more_to_push {
                return Ok(report);
            }
        }
    }

    /// The push changes of outbox entries: the current row of each, or its deletion.
    fn changes(
        &self,
        conn: &Connection,
        entries: &[Entry],
    ) -> Result<Vec<PushChange>, ClientError> {
        let mut changes = Vec::with_capacity(entries.len());
        for entry in entries {
            let plan = self.plans.iter().find(|p| p.meta.name == entry.table).ok_or_else(|| {
                ClientError::Database(format!(
                    "the outbox names table `{}`, which this schema does not sync",
                    entry.table
                ))
            })?;
            let table = entry.table.clone();
            if let Some(at) = &entry.deleted_at {
                let modified_at = parse_timestamp(at).map_err(|e| {
                    ClientError::Database(format!("outbox deletion time of `{table}`: {e}"))
                })?;
                let key = plan.wire_key(&entry.key_json)?;
                changes.push(PushChange::DeleteChange(DeleteChange { table, key, modified_at }));
                continue;
            }
            // A row applied away since its entry was written has nothing left to push; its entry
            // is acknowledged with the rest.
            let Some(mut row) = plan.read(conn, &entry.key_json)? else { continue };
            let sync = plan.meta.sync;
            for kept in [sync.version, sync.device].into_iter().flatten() {
                row.remove(kept);
            }
            let row = crate::protocol::Row::from_values(row);
            changes.push(PushChange::UpsertChange(UpsertChange { table, row }));
        }
        Ok(changes)
    }

    /// `POST /api/sync`.
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, ClientError> {
        let url = format!("{}/api/sync", self.config.server);
        let http = |source| ClientError::Http { url: url.clone(), source };
        let response = self
            .http
            .post(&url)
            .bearer_auth((self.config.token)())
            .json(request)
            .send()
            .await
            .map_err(http)?;
        let status = response.status();
        let retry_after = crate::pokes::retry_after(response.headers());
        let body = response.bytes().await.map_err(http)?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| ClientError::Protocol(format!("the sync response: {e}")));
        }
        match serde_json::from_slice::<SyncErrorResponse>(&body) {
            Ok(refusal) if status == reqwest::StatusCode::UPGRADE_REQUIRED => {
                Err(ClientError::UpgradeRequired(refusal.error.message))
            }
            Ok(refusal) => Err(ClientError::Refused {
                status: status.as_u16(),
                error: Box::new(refusal.error),
                retry_after,
            }),
            Err(_) => Err(ClientError::Protocol(format!(
                "status {status} with the body {}",
                String::from_utf8_lossy(&body[..body.len().min(500)])
            ))),
        }
    }

    /// The connection; a panic while it was held leaves nothing half-done in the database (a
    /// transaction rolls back when dropped), so the lock is taken back from a poisoned mutex.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Run syncs in the background until the handle is stopped or dropped.
    pub fn start(self: &Arc<Self>, options: RunOptions) -> SyncHandle {
        runner::start(Arc::clone(self), Arc::clone(&self.signals), options)
    }
}
