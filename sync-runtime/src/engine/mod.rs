//! The sync engine: one `POST /api/sync` request, push then pull, in one transaction of a
//! [`Store`] (docs/sync.md says what it guarantees).
//!
//! 1. [`validate`] checks the request against the schema (tables, columns, types, keys, owners)
//!    before the database is touched.
//! 2. For each table in foreign key order, the rows the changes touch are read and locked in one
//!    statement; every change is authorized against them (an update of another user's row, a
//!    `via:` child under another user's parent: the whole request is refused); [`decide`] applies
//!    last write wins; the winners are written in one statement per table and column set.
//! 3. One page of what the user may read since the cursor is pulled, and the transaction commits;
//!    if the push wrote a row, the user's devices are [poked](crate::pokes) once it has.
//!
//! A store conflict (a deadlock, a serialization failure) runs the whole transaction again.

mod access;
mod decide;
mod refusal;
#[cfg(test)]
mod test_schema;
mod validate;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use self::decide::Outcome;
pub use self::refusal::{Invalid, Located, Refusal};
use self::validate::Change;
use crate::pokes::{Poke, UserPokes};
use crate::protocol::{Rejected, Row, SyncRequest, SyncResponse};
use crate::schema::{SchemaMeta, TableMeta};
use crate::store::{Horizon, Store, StoreError, Transaction, Values};

/// Limits of the engine.
#[derive(Debug, Clone)]
pub struct Config {
    /// The most changes one request may push.
    pub max_changes: usize,
    /// The page size of a pull that does not ask for one.
    pub default_page_size: usize,
    /// The largest page a client may ask for; larger asks get this many.
    pub max_page_size: usize,
    /// How far in the future a change's conflict time may be, by the server's clock.
    pub max_clock_skew: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_changes: 10_000,
            default_page_size: 1_000,
            max_page_size: 10_000,
            max_clock_skew: Duration::from_secs(60),
        }
    }
}

/// How often a transaction that hit a conflict is run again before the client is told to retry.
const ATTEMPTS: usize = 5;

/// Serves sync requests for one schema over one store.
#[derive(Debug)]
pub struct Engine<S> {
    schema: &'static SchemaMeta,
    store: S,
    config: Config,
}

impl<S: Store> Engine<S> {
    pub fn new(schema: &'static SchemaMeta, store: S, config: Config) -> Self {
        Engine { schema, store, config }
    }

    pub fn schema(&self) -> &'static SchemaMeta {
        self.schema
    }

    /// Push `request.changes` as `user` (the JWT subject), then pull one page.
    pub async fn sync(&self, user: &str, request: SyncRequest) -> Result<SyncResponse, Refusal> {
        // Clients of an older version the schema still admits sync as they are: what they do
        // not send takes its default, what they do not know they ignore (docs/sync.md).
        let (oldest, newest) = (self.schema.min_client_version, self.schema.version);
        let client = request.schema_version;
        if client < i64::from(oldest) {
            return Err(Refusal::UpgradeRequired { client, oldest, newest });
        }
        if client > i64::from(newest) {
            return Err(Refusal::UnsupportedSchemaVersion { client, newest });
        }
        if request.changes.len() > self.config.max_changes {
            let (count, limit) = (request.changes.len(), self.config.max_changes);
            return Err(Refusal::TooManyChanges { count, limit });
        }
        let page_size = match request.page_size {
            None => self.config.default_page_size,
            Some(n) if n >= 1 => {
                usize::try_from(n).unwrap_or(usize::MAX).min(self.config.max_page_size)
            }
            Some(page_size) => return Err(Refusal::InvalidPageSize { page_size }),
        };
        let user = access::normalize_user(user);
        let changes = validate::changes(self.schema, &user, request.changes)?;
        let client_id = request.client_id.hyphenated().to_string();
        let push = Push {
            poke: Poke { user: user.clone(), client_id: request.client_id },
            user: &user,
            client_id: &client_id,
            changes: &changes,
            cursor: request.cursor.as_deref(),
            page_size,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.run(&push).await {
                Err(Failure::Store(StoreError::Conflict(why))) if attempt < ATTEMPTS => {
                    tracing::debug!(%why, attempt, "sync transaction conflicted; running it again");
                }
                result => return result.map_err(Refusal::from),
            }
        }
    }

    /// What holds pulls back, for health checks.
    pub async fn horizon(&self) -> Result<Horizon, Refusal> {
        Ok(self.store.horizon().await?)
    }

    /// The pokes of `user` (the JWT subject) from now on: one after each committed push of the
    /// user that wrote a row, from any device.
    pub fn pokes(&self, user: &str) -> UserPokes {
        UserPokes::new(access::normalize_user(user), self.store.subscribe())
    }
}

/// One validated request.
struct Push<'a> {
    /// What to announce if the push writes a row.
    poke: Poke,
    user: &'a str,
    client_id: &'a str,
    changes: &'a [Change],
    cursor: Option<&'a str>,
    page_size: usize,
}

/// Why one attempt failed: the request's fault, or the store's (which may be worth a retry).
enum Failure {
    Refused(Refusal),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Failure::Refused(refusal)
    }
}

impl From<Failure> for Refusal {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(refusal) => refusal,
            Failure::Store(error) => error.into(),
        }
    }
}

impl<S: Store> Engine<S> {
    /// One attempt: push and pull in one transaction.
    async fn run(&self, push: &Push<'_>) -> Result<SyncResponse, Failure> {
        let now = Utc::now().trunc_subsecs(3);
        let skew =
            chrono::Duration::from_std(self.config.max_clock_skew).unwrap_or(chrono::Duration::MAX);
        let latest_allowed = now.checked_add_signed(skew).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut tx = self.store.begin().await?;
        let mut rejected = Vec::new();
        let mut wrote = false;
        for table in self.schema.tables {
            let changes: Vec<&Change> =
                push.changes.iter().filter(|c| std::ptr::eq(c.table, *table)).collect();
            if !changes.is_empty() {
                let mut table_push = TablePush {
                    engine: self,
                    push,
                    latest_allowed,
                    rejected: &mut rejected,
                    wrote: false,
                };
                table_push.apply(&mut tx, table, changes).await?;
                wrote |= table_push.wrote;
            }
        }
        if wrote {
            tx.announce(&push.poke).await?;
        }
        let page = tx.pull(push.user, push.cursor, push.page_size).await?;
        tx.commit().await?;
        Ok(SyncResponse {
            changes: page.changes,
            cursor: page.cursor,
            has_more: page.has_more,
            server_time: now,
            rejected,
        })
    }
}

/// The push of one table's changes.
struct TablePush<'e, 'p, S> {
    engine: &'e Engine<S>,
    push: &'e Push<'p>,
    latest_allowed: DateTime<Utc>,
    rejected: &'e mut Vec<Rejected>,
    /// Whether a row was inserted or updated.
    wrote: bool,
}

/// How often a table's push looks again at rows a concurrent transaction inserted under it.
const INSERT_ROUNDS: usize = 3;

impl<S: Store> TablePush<'_, '_, S> {
    async fn apply<T: Transaction>(
        &mut self,
        tx: &mut T,
        table: &'static TableMeta,
        mut changes: Vec<&Change>,
    ) -> Result<(), Failure> {
        for _ in 0..INSERT_ROUNDS {
            let keys: Vec<Values> = changes.iter().map(|c| c.key.clone()).collect();
            let current: HashMap<String, Values> = tx
                .rows(table, &keys)
                .await?
                .into_iter()
                .map(|row| (access::key_text(table, &row), row))
                .collect();
            let found = |c: &Change| current.get(&c.key_text);
            access::authorize(tx, self.engine.schema, self.push.user, table, &changes, &current)
                .await?;
            let mut inserts: BTreeMap<Vec<&'static str>, Vec<Values>> = BTreeMap::new();
            let mut updates: BTreeMap<Vec<&'static str>, Vec<Values>> = BTreeMap::new();
            let mut inserted_by: HashMap<String, &Change> = HashMap::new();
            let mut deletes: Vec<Values> = Vec::new();
            for &change in &changes {
                let now = found(change);
                match decide::decide(change, now, self.push.client_id, self.latest_allowed) {
                    Outcome::Insert(row) => {
                        inserted_by.insert(change.key_text.clone(), change);
                        inserts.entry(columns_of(table, &row)).or_default().push(row);
                    }
                    Outcome::Update(row) => {
                        updates.entry(columns_of(table, &row)).or_default().push(row)
                    }
                    Outcome::Delete(key) => deletes.push(key),
                    Outcome::Noop => {}
                    Outcome::Reject(reason) => self.rejected.push(Rejected {
                        table: table.name.to_owned(),
                        key: change.key.clone(),
                        reason,
                        message: decide::explain(reason, table),
                        constraint: None,
                        kind: None,
                        column: None,
                        server_row: now.cloned().map(Row::from_values),
                    }),
                }
            }
            if !deletes.is_empty() {
                tx.delete(table, &deletes).await?;
                self.wrote = true;
            }
            for (columns, rows) in &updates {
                tx.update(table, columns, rows).await?;
                self.wrote = true;
            }
            for (columns, rows) in &inserts {
                for key in tx.insert(table, columns, rows).await? {
                    inserted_by.remove(&access::key_text(table, &key));
                    self.wrote = true;
                }
            }
            // What is left was inserted by a concurrent transaction since we looked: look again.
            if inserted_by.is_empty() {
                return Ok(());
            }
            changes = inserted_by.into_values().collect();
        }
        Err(Failure::Store(StoreError::Conflict(format!(
            "rows of table `{}` kept being inserted concurrently",
            table.name
        ))))
    }
}

/// The columns of `row`, in table order.
fn columns_of(table: &TableMeta, row: &Values) -> Vec<&'static str> {
    table.columns.iter().map(|c| c.name).filter(|name| row.contains_key(*name)).collect()
}
