//! The Postgres store: the system of record (docs/server.md).
//!
//! It relies on the sync machinery the generator writes into `generated/sql/postgres.sql`: the
//! `_sync_xid` column every synced table carries (stamped by a trigger with the writing
//! transaction's id, whatever the path), `_sync_tombstone` (every deleted row) and
//! `_sync_horizon()`. See [`pull`] for how the cursor follows commit order.
//!
//! Safe behind a transaction-mode pooler (PgBouncer, Supabase's pooler, Hyperdrive): every
//! statement is unnamed (`query_typed`: no prepared statement outlives its transaction), and the
//! only session setting is `SET LOCAL`, which ends with the transaction. The one exception is the
//! [poke listener](listen), which needs a session of its own.
//!
//! A transaction announces a poke with `pg_notify`, which Postgres delivers to every listening
//! session when, and only when, the transaction commits.

mod encode;
mod listen;
mod pool;
mod pull;
mod retention;
mod sql;
mod verdict;

use std::time::Duration;

use deadpool_postgres::Object;
use tokio::sync::broadcast;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{Json, Type};

use self::listen::Listener;
use self::pool::{Pool, Target};
use self::sql::{Lock, PgTable};
use super::{
    Horizon, Page, PageLimit, PoolStats, Refused, RefusedBy, RefusedRow, Store, StoreError,
    Transaction, Values, Written,
};
use crate::pokes::Poke;
use crate::schema::{ColumnMeta, SchemaMeta, TableMeta};

/// Connections to one Postgres database holding the schema's tables.
#[derive(Debug)]
pub struct PgStore {
    pool: Pool,
    schema: &'static SchemaMeta,
    tables: Vec<PgTable>,
    pokes: broadcast::Sender<Poke>,
    /// Stops listening when the store is dropped.
    _listener: Listener,
}

impl PgStore {
    /// Connect to `url` (with TLS as its `sslmode` and `sslrootcert` say), check that the
    /// schema's synced tables and the sync machinery are there (apply
    /// `generated/sql/postgres.sql` first), and listen for pokes on `url` too.
    pub async fn connect(url: &str, schema: &'static SchemaMeta) -> Result<Self, StoreError> {
        Self::connect_with_listener(url, url, schema).await
    }

    /// Like [`connect`](Self::connect), with the poke listener on `listen_url`: a URL of the same
    /// database that reaches Postgres directly, for when `url` goes through a transaction-mode
    /// pooler, where `LISTEN` hears nothing.
    pub async fn connect_with_listener(
        url: &str,
        listen_url: &str,
        schema: &'static SchemaMeta,
    ) -> Result<Self, StoreError> {
        let pool = Pool::new(Target::new(url, "database URL")?)?;
        let listen_target = Target::new(listen_url, "listen database URL")?;
        let client = connection(&pool).await?;
        let mut tables = Vec::new();
        for table in schema.tables.iter().filter(|t| t.is_synced() && t.targets.postgres) {
            let types = column_types(&client, table).await?;
            check_triggers(&client, table).await?;
            tables.push(PgTable::new(table, tables.len() + 1, types));
        }
        let machinery = client
            .query_typed("SELECT to_regclass('_sync_tombstone') IS NOT NULL", &[])
            .await
            .map_err(store_error)?;
        if !machinery[0].get::<_, bool>(0) {
            return Err(StoreError::Database(
                "the sync machinery (_sync_tombstone) is missing: apply generated/sql/postgres.sql"
                    .into(),
            ));
        }
        if let Some(missing) = retention::missing(&client).await? {
            return Err(StoreError::Database(missing));
        }
        let pokes = super::poke_sender();
        let listener = Listener::start(listen_target, pokes.clone()).await?;
        Ok(PgStore { pool, schema, tables, pokes, _listener: listener })
    }

    fn table(&self, meta: &'static TableMeta) -> Result<&PgTable, StoreError> {
        self.tables.iter().find(|t| std::ptr::eq(t.meta, meta)).ok_or_else(|| {
            StoreError::Database(format!("table `{}` is not synced through Postgres", meta.name))
        })
    }
}

async fn connection(pool: &Pool) -> Result<Object, StoreError> {
    pool.get().await
}

/// The triggers of the generated machinery every synced table needs: without the stamp, updates
/// would never reach a pull; without the others, deletions would not.
const TRIGGERS: [&str; 4] = ["_sync_stamp", "_sync_tombstone", "_sync_rekey", "_sync_truncate"];

/// The trigger a table whose rows belong to someone needs as well: without it, a row given to
/// another user would stay on the devices of the one who lost it.
const MOVE_TRIGGER: &str = "_sync_move";

/// Refuse a table whose sync triggers are missing or disabled.
async fn check_triggers(client: &Object, table: &TableMeta) -> Result<(), StoreError> {
    let rows = client
        .query_typed(
            "SELECT tgname::text FROM pg_trigger WHERE tgrelid = to_regclass(quote_ident($1)) \
             AND NOT tgisinternal AND tgenabled <> 'D'",
            &[(&table.name, Type::TEXT)],
        )
        .await
        .map_err(store_error)?;
    let present: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let owned = !matches!(table.scope, crate::schema::Scope::Public | crate::schema::Scope::None);
    let missing: Vec<&str> = TRIGGERS
        .into_iter()
        .chain(owned.then_some(MOVE_TRIGGER))
        .filter(|t| !present.iter().any(|p| p == t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(StoreError::Database(format!(
        "table `{}` lacks the sync trigger(s) {} (missing or disabled): apply generated/sql/postgres.sql",
        table.name,
        missing.join(", ")
    )))
}

/// The type of every column of `table`, as `format_type` spells it, in metadata order.
async fn column_types(client: &Object, table: &TableMeta) -> Result<Vec<String>, StoreError> {
    let rows = client
        .query_typed(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped",
            &[(&table.name, Type::TEXT)],
        )
        .await
        .map_err(store_error)?;
    let found: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    if !found.iter().any(|(name, _)| name == "_sync_xid") {
        return Err(StoreError::Database(format!(
            "table `{}` or its sync column _sync_xid is missing: apply generated/sql/postgres.sql",
            table.name
        )));
    }
    table
        .columns
        .iter()
        .map(|c| {
            found.iter().find(|(name, _)| name == c.name).map(|(_, ty)| ty.clone()).ok_or_else(
                || {
                    StoreError::Database(format!(
                        "table `{}` has no column `{}`: the database does not match schema.toml",
                        table.name, c.name
                    ))
                },
            )
        })
        .collect()
}

impl Store for PgStore {
    type Tx<'a> = PgTx<'a>;

    async fn begin(&self) -> Result<PgTx<'_>, StoreError> {
        let client = connection(&self.pool).await?;
        // Timestamps without a time zone hold UTC (the generated defaults use now()).
        client
            .batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL TimeZone = 'UTC'")
            .await
            .map_err(store_error)?;
        Ok(PgTx { client: Some(client), store: self })
    }

    async fn horizon(&self) -> Result<Horizon, StoreError> {
        let client = connection(&self.pool).await?;
        let row = client
            .query_typed_one(
                "SELECT xid_age, extract(epoch FROM oldest_xact_age)::float8 FROM _sync_horizon()",
                &[],
            )
            .await
            .map_err(store_error)?;
        Ok(Horizon { waiting_transactions: row.get(0), oldest_transaction_age_secs: row.get(1) })
    }

    fn subscribe(&self) -> broadcast::Receiver<Poke> {
        self.pokes.subscribe()
    }

    async fn prune(&self, older_than: Duration, batch: usize) -> Result<usize, StoreError> {
        retention::prune(&connection(&self.pool).await?, older_than, batch).await
    }

    fn pool(&self) -> Option<PoolStats> {
        Some(self.pool.stats())
    }
}

/// A transaction on one pooled connection.
#[derive(Debug)]
pub struct PgTx<'a> {
    /// `None` once committed.
    client: Option<Object>,
    store: &'a PgStore,
}

impl PgTx<'_> {
    fn client(&self) -> &Object {
        self.client.as_ref().expect("used only before commit")
    }

    /// Run `sql` with `rows` as the JSON array `$1`; each result row, whose values are
    /// `columns`, as an object.
    async fn with_rows(
        &self,
        sql: &str,
        rows: &[Values],
        columns: &[&ColumnMeta],
    ) -> Result<Vec<Values>, StoreError> {
        let rows = Json(rows);
        let result =
            self.client().query_typed(sql, &[(&rows, Type::JSON)]).await.map_err(store_error)?;
        result.iter().map(|row| parse_object(&encode::object(row, 0, columns)?)).collect()
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        // Roll back before the connection goes back to the pool; without a runtime to do that
        // on, take the connection out of the pool instead (closing it rolls back).
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        drop(Object::take(client));
                    }
                });
            }
            Err(_) => drop(Object::take(client)),
        }
    }
}

impl Transaction for PgTx<'_> {
    async fn rows(
        &mut self,
        table: &'static TableMeta,
        keys: &[Values],
    ) -> Result<Vec<Values>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let table = self.store.table(table)?;
        self.with_rows(&table.select_locked(Lock::NoKeyUpdate), keys, &table.columns).await
    }

    async fn referenced(
        &mut self,
        table: &'static TableMeta,
        keys: &[Values],
    ) -> Result<Vec<Values>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let table = self.store.table(table)?;
        self.with_rows(&table.select_locked(Lock::KeyShare), keys, &table.columns).await
    }

    async fn insert(
        &mut self,
        table: &'static TableMeta,
        columns: &[&'static str],
        rows: &[Values],
    ) -> Result<Written, StoreError> {
        let table = self.store.table(table)?;
        verdict::insert(self, table, columns, rows).await
    }

    async fn update(
        &mut self,
        table: &'static TableMeta,
        columns: &[&'static str],
        rows: &[Values],
    ) -> Result<Vec<RefusedRow>, StoreError> {
        let Some(sql) = self.store.table(table)?.update(columns) else { return Ok(Vec::new()) };
        verdict::each(self, &sql, rows).await
    }

    async fn delete(
        &mut self,
        table: &'static TableMeta,
        keys: &[Values],
    ) -> Result<Vec<RefusedRow>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = self.store.table(table)?.delete();
        verdict::each(self, &sql, keys).await
    }

    async fn pull(
        &mut self,
        user: &str,
        cursor: Option<&str>,
        limit: PageLimit,
    ) -> Result<Page, StoreError> {
        let page =
            pull::page(self.client(), self.store.schema, &self.store.tables, user, cursor, limit)
                .await?;
        retention::check(self.client(), cursor).await?;
        Ok(page)
    }

    async fn announce(&mut self, poke: &Poke) -> Result<(), StoreError> {
        let payload = serde_json::to_string(poke).expect("a poke serializes");
        if payload.len() >= NOTIFY_PAYLOAD_LIMIT {
            // Failing the sync for a poke would be worse than a device syncing a little later.
            tracing::warn!(user = %poke.user, "a user id too long to poke with; no poke sent");
            return Ok(());
        }
        self.client()
            .execute_typed(
                "SELECT pg_notify($1, $2)",
                &[(&listen::CHANNEL, Type::TEXT), (&payload, Type::TEXT)],
            )
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn commit(mut self) -> Result<(), StoreError> {
        let client = self.client.take().expect("commit once");
        client.batch_execute("COMMIT").await.map_err(store_error)
    }
}

/// Postgres refuses a notification payload of 8000 bytes or more.
const NOTIFY_PAYLOAD_LIMIT: usize = 8000;

fn parse_object(text: &str) -> Result<Values, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Database(format!("a row did not encode as a JSON object: {e}")))
}

/// A driver error as a [`StoreError`]: conflicts are worth a retry, a refused row says what
/// refused it (the engine words it; the detail is for the log).
fn store_error(error: tokio_postgres::Error) -> StoreError {
    if let Some(unavailable) = pool::unavailable(&error) {
        return unavailable;
    }
    let Some(db) = error.as_db_error() else {
        return StoreError::Database(format!("Postgres: {error}"));
    };
    let code = db.code();
    let by = match code {
        c if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED => {
            return StoreError::Conflict(db.message().to_owned());
        }
        c if *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::EXCLUSION_VIOLATION => {
            RefusedBy::Unique
        }
        c if *c == SqlState::FOREIGN_KEY_VIOLATION => RefusedBy::ForeignKey,
        c if *c == SqlState::CHECK_VIOLATION => RefusedBy::Check,
        c if *c == SqlState::NOT_NULL_VIOLATION => RefusedBy::NotNull,
        // An index row over the btree limit (a value too large to index).
        c if *c == SqlState::PROGRAM_LIMIT_EXCEEDED => RefusedBy::IndexSize,
        _ => return StoreError::Database(format!("Postgres: {} ({})", db.message(), code.code())),
    };
    StoreError::Refused(Refused {
        by,
        constraint: db.constraint().map(str::to_owned),
        columns: db.column().map(str::to_owned).into_iter().collect(),
        detail: format!("Postgres: {} ({})", db.message(), code.code()),
    })
}
