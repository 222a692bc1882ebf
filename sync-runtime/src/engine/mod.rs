//! The sync engine: one `POST /api/sync` request, push then pull, in one transaction of a
//! [`Store`] (docs/sync.md says what it guarantees).
//!
//! 1. [`validate`] checks the request against the schema (tables, columns, types, keys, owners)
//!    before the database is touched.
//! 2. For each table in foreign key order, the rows the changes touch are read and locked in one
//!    statement; every change is authorized against them (an update of a row that is another
//!    user's or public now is rejected alone, as `forbidden`); [`decide`] applies last write
//!    wins; the winners are written in one statement per table and column set, and a change the
//!    database refuses is rejected alone ([`verdict`]).
//! 3. One page of what the user may read since the cursor is pulled, and the transaction commits;
//!    if the push wrote a row, the user's devices are [poked](crate::pokes) once it has.
//!
//! A store conflict (a deadlock, a serialization failure) runs the whole transaction again.

mod access;
mod answer;
mod decide;
mod references;
mod refusal;
#[cfg(test)]
mod test_schema;
mod validate;
mod verdict;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

pub use self::answer::{Answer, Body};
use self::decide::Outcome;
use self::references::Pending;
pub use self::refusal::{Invalid, Located, Refusal};
use self::validate::Change;
pub use self::verdict::INDEXED_BYTES;
use self::verdict::Verdict;
use crate::pokes::{Poke, UserPokes};
use crate::protocol::{Rejected, SyncRequest, SyncResponse};
use crate::schema::{LogicalType, SchemaMeta, Scope, TableMeta};
use crate::store::{
    Horizon, PageLimit, Refused, RefusedRow, Store, StoreError, Transaction, Values,
};

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
    /// The most bytes of changes' JSON in a pull page: a page stops there even before
    /// `page_size` changes, unless its first change alone is larger.
    pub max_page_bytes: usize,
}

/// The default of [`Config::max_page_bytes`]: 4 MiB.
pub const DEFAULT_MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            max_changes: 10_000,
            default_page_size: 1_000,
            max_page_size: 10_000,
            max_clock_skew: Duration::from_secs(60),
            max_page_bytes: DEFAULT_MAX_PAGE_BYTES,
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
        self.answer(user, request).await?.into_response().map_err(|error| {
            tracing::error!(%error, "a pulled change the store wrote does not parse");
            Refusal::Database
        })
    }

    /// [`sync`](Self::sync), with the pulled changes as the JSON the store wrote, for the
    /// server to send as they are.
    pub async fn answer(&self, user: &str, request: SyncRequest) -> Result<Answer, Refusal> {
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
        let user = self.user(user)?;
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

    /// The store's connection pool now, for `/metrics`; `None` when it has none.
    pub fn pool(&self) -> Option<crate::store::PoolStats> {
        self.store.pool()
    }

    /// The user id of the token's subject `sub`, as rows hold it: `sub` itself, checked once.
    /// When an owner column of the schema is a `uuid`, `sub` must be a UUID spelled as the
    /// databases write it (lower-case, hyphenated): other spellings of the same UUID would
    /// compare equal in one store and not in the other, so they are refused, never rewritten.
    pub fn user(&self, sub: &str) -> Result<String, Refusal> {
        let uuid_owners = self.schema.tables.iter().any(|t| {
            matches!(t.scope, Scope::Owner | Scope::OwnerOrPublic)
                && t.sync.owner.and_then(|o| t.column(o)).is_some_and(|c| c.ty == LogicalType::Uuid)
        });
        let canonical =
            uuid::Uuid::try_parse(sub).is_ok_and(|id| id.hyphenated().to_string() == sub);
        if uuid_owners && !canonical {
            return Err(Refusal::InvalidSubject { sub: sub.to_owned() });
        }
        Ok(sub.to_owned())
    }

    /// The pokes of `user` (as [`user`](Self::user) returns it) from now on: one after each
    /// committed push of the user that wrote a row, from any device.
    pub fn pokes(&self, user: &str) -> UserPokes {
        UserPokes::new(user.to_owned(), self.store.subscribe())
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
    async fn run(&self, push: &Push<'_>) -> Result<Answer, Failure> {
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
        let limit = PageLimit { changes: push.page_size, bytes: self.config.max_page_bytes };
        let page = tx.pull(push.user, push.cursor, limit).await?;
        tx.commit().await?;
        Ok(Answer {
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

/// Rows to write in one statement: those of one column set, with the change of each.
type Batches<'c> = BTreeMap<Vec<&'static str>, (Vec<Values>, Vec<&'c Change>)>;

impl<S: Store> TablePush<'_, '_, S> {
    async fn apply<T: Transaction>(
        &mut self,
        tx: &mut T,
        table: &'static TableMeta,
        mut changes: Vec<&Change>,
    ) -> Result<(), Failure> {
        let schema = self.engine.schema;
        for _ in 0..INSERT_ROUNDS {
            let keys: Vec<Values> = changes.iter().map(|c| c.key.clone()).collect();
            let current: HashMap<String, Values> = tx
                .rows(table, &keys)
                .await?
                .into_iter()
                .map(|row| (access::key_text(table, &row), row))
                .collect();
            let found = |c: &Change| current.get(&c.key_text);
            let forbidden =
                access::authorize(tx, schema, self.push.user, table, &changes, &current).await?;
            changes.retain(|&change| match forbidden.get(&change.key_text) {
                Some(access::Forbidden { readable }) => {
                    let server_row = found(change).filter(|_| *readable);
                    self.reject(change, Verdict::forbidden(table), server_row);
                    false
                }
                None => true,
            });
            // What last write wins would write, before the checks the database cannot make alike.
            let mut writes: Vec<(&Change, Values, bool)> = Vec::new();
            let mut deletes: Vec<Values> = Vec::new();
            let mut deleted_by: Vec<&Change> = Vec::new();
            for &change in &changes {
                let now = found(change);
                match decide::decide(change, now, self.push.client_id, self.latest_allowed) {
                    Outcome::Insert(row) => writes.push((change, row, true)),
                    Outcome::Update(row) => writes.push((change, row, false)),
                    Outcome::Delete(key) => {
                        deletes.push(key);
                        deleted_by.push(change);
                    }
                    Outcome::Noop => {}
                    Outcome::Reject(reason) => {
                        self.reject(change, Verdict::last_write_wins(reason, table), now)
                    }
                }
            }
            writes.retain(|(change, _, _)| match verdict::too_large(change) {
                Some(verdict) => {
                    self.reject(change, verdict, found(change));
                    false
                }
                None => true,
            });
            let pending: Vec<Pending> = writes
                .iter()
                .map(|(c, row, _)| Pending { key_text: &c.key_text, row, current: found(c) })
                .collect();
            let broken =
                references::unreadable(tx, schema, self.push.user, table, &pending).await?;
            let mut inserts: Batches = BTreeMap::new();
            let mut updates: Batches = BTreeMap::new();
            let mut inserted_by: HashMap<String, &Change> = HashMap::new();
            for (change, row, insert) in writes {
                if let Some(fk) = broken.get(&change.key_text) {
                    self.reject(change, Verdict::foreign_key(table, fk), found(change));
                    continue;
                }
                let batches = if insert { &mut inserts } else { &mut updates };
                let (rows, owners) = batches.entry(columns_of(table, &row)).or_default();
                rows.push(row);
                owners.push(change);
                if insert {
                    inserted_by.insert(change.key_text.clone(), change);
                }
            }
            if !deletes.is_empty() {
                let refused = tx.delete(table, &deletes).await?;
                self.wrote |= refused.len() < deletes.len();
                let word = Verdict::delete_refused;
                self.refused(table, &deletes, &deleted_by, &refused, &current, word);
            }
            for (columns, (rows, owners)) in &updates {
                let refused = tx.update(table, columns, rows).await?;
                self.wrote |= refused.len() < rows.len();
                self.refused(table, rows, owners, &refused, &current, Verdict::refused);
            }
            for (columns, (rows, owners)) in &inserts {
                let written = tx.insert(table, columns, rows).await?;
                for key in &written.inserted {
                    inserted_by.remove(&access::key_text(table, key));
                    self.wrote = true;
                }
                for refused in &written.refused {
                    inserted_by.remove(&owners[refused.index].key_text);
                }
                let word = Verdict::refused;
                self.refused(table, rows, owners, &written.refused, &current, word);
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

    fn reject(&mut self, change: &Change, verdict: Verdict, server_row: Option<&Values>) {
        self.rejected.push(verdict.rejected(change, server_row));
    }

    /// Reject the changes whose `rows` (or keys, for deletes) the database refused, in the
    /// words of `word`.
    fn refused(
        &mut self,
        table: &'static TableMeta,
        rows: &[Values],
        owners: &[&Change],
        refused: &[RefusedRow],
        current: &HashMap<String, Values>,
        word: fn(&SchemaMeta, &TableMeta, &Values, &Refused) -> Verdict,
    ) {
        for RefusedRow { index, why } in refused {
            let change = owners[*index];
            tracing::debug!(detail = %why.detail, table = table.name, "the database refused a row");
            let verdict = word(self.engine.schema, table, &rows[*index], why);
            self.reject(change, verdict, current.get(&change.key_text));
        }
    }
}

/// The columns of `row`, in table order.
fn columns_of(table: &TableMeta, row: &Values) -> Vec<&'static str> {
    table.columns.iter().map(|c| c.name).filter(|name| row.contains_key(*name)).collect()
}
