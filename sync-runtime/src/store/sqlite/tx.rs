//! A transaction of the SQLite store: it holds the connection, and SQLite's write lock, until
//! it commits or is dropped.

use rusqlite::{Connection, params_from_iter};
use serde_json::Value;
use tokio::sync::MutexGuard;

use super::SqliteStore;
use super::error::{sqlite, write};
use super::{pull, restrict};
use crate::pokes::Poke;
use crate::schema::TableMeta;
use crate::store::{
    Page, PageLimit, RefusedBy, RefusedRow, StoreError, Transaction, Values, Written,
};

/// A transaction of [`SqliteStore`]. Dropping it without [`commit`](Transaction::commit) rolls
/// back.
pub struct SqliteTx<'a> {
    conn: MutexGuard<'a, Connection>,
    store: &'a SqliteStore,
    /// The counter when the transaction began: every change at or below it has committed, and
    /// this transaction's own writes come above it.
    snapshot: i64,
    /// Whether a transaction is open on the connection, to roll back on drop.
    open: bool,
    /// What to poke subscribers with once `COMMIT` succeeded.
    announced: Option<Poke>,
}

impl<'a> SqliteTx<'a> {
    pub(super) fn begin(
        conn: MutexGuard<'a, Connection>,
        store: &'a SqliteStore,
    ) -> Result<Self, StoreError> {
        if !conn.is_autocommit() {
            // A transaction whose rollback failed when it was dropped.
            conn.execute_batch("ROLLBACK").map_err(|e| sqlite("rolling back a transaction", e))?;
        }
        conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| sqlite("beginning a transaction", e))?;
        let mut tx = SqliteTx { conn, store, snapshot: 0, open: true, announced: None };
        // On failure the transaction is dropped, and so rolled back.
        tx.snapshot = tx
            .conn
            .prepare_cached("SELECT seq FROM _sync_counter")
            .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
            .map_err(|e| sqlite("reading the sync counter", e))?;
        Ok(tx)
    }

    fn rows_now(&self, table: &TableMeta, keys: &[Values]) -> Result<Vec<Values>, StoreError> {
        let plan = self.store.plan(table)?;
        let doing = format!("reading `{}`", table.name);
        let mut statement =
            self.conn.prepare_cached(&plan.select_by_key).map_err(|e| sqlite(&doing, e))?;
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let params = plan.key_params(key)?;
            let mut rows =
                statement.query(params_from_iter(params.iter())).map_err(|e| sqlite(&doing, e))?;
            if let Some(row) = rows.next().map_err(|e| sqlite(&doing, e))? {
                found.push(plan.read_row(row)?);
            }
        }
        Ok(found)
    }

    /// Insert `rows` one statement each: SQLite undoes a refused statement alone, so each row
    /// gets its own verdict without a savepoint.
    fn insert_now(
        &self,
        table: &TableMeta,
        columns: &[&str],
        rows: &[Values],
    ) -> Result<Written, StoreError> {
        let plan = self.store.plan(table)?;
        let sql = plan.insert_sql(columns)?;
        let mut statement = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| sqlite(&format!("inserting into `{}`", table.name), e))?;
        let mut written = Written::default();
        for (index, row) in rows.iter().enumerate() {
            let params = plan.params(columns, row)?;
            let key = plan.key_of(row);
            match statement.execute(params_from_iter(params.iter())) {
                Ok(1) => written.inserted.push(key),
                Ok(_) => {}
                Err(e) => {
                    let doing =
                        format!("inserting into `{}` the row with key {}", table.name, json(&key));
                    written.refused.push(RefusedRow { index, why: write(&doing, e)? });
                }
            }
        }
        Ok(written)
    }

    fn update_now(
        &self,
        table: &TableMeta,
        columns: &[&str],
        rows: &[Values],
    ) -> Result<Vec<RefusedRow>, StoreError> {
        let plan = self.store.plan(table)?;
        let Some((sql, order)) = plan.update_sql(columns)? else { return Ok(Vec::new()) };
        let mut statement = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| sqlite(&format!("updating `{}`", table.name), e))?;
        let mut refused = Vec::new();
        for (index, row) in rows.iter().enumerate() {
            let params = plan.params(&order, row)?;
            let key = plan.key_of(row);
            let doing = || format!("updating in `{}` the row with key {}", table.name, json(&key));
            match statement.execute(params_from_iter(params.iter())) {
                Ok(1) => {}
                Ok(_) => {
                    return Err(StoreError::Database(format!("{}: there is no such row", doing())));
                }
                Err(e) => refused.push(RefusedRow { index, why: write(&doing(), e)? }),
            }
        }
        Ok(refused)
    }
}

impl Transaction for SqliteTx<'_> {
    async fn rows(
        &mut self,
        table: &'static TableMeta,
        keys: &[Values],
    ) -> Result<Vec<Values>, StoreError> {
        // BEGIN IMMEDIATE holds the write lock already: no other writer can change these rows.
        self.rows_now(table, keys)
    }

    async fn referenced(
        &mut self,
        table: &'static TableMeta,
        keys: &[Values],
    ) -> Result<Vec<Values>, StoreError> {
        self.rows_now(table, keys)
    }

    async fn insert(
        &mut self,
        table: &'static TableMeta,
        columns: &[&'static str],
        rows: &[Values],
    ) -> Result<Written, StoreError> {
        self.insert_now(table, columns, rows)
    }

    async fn update(
        &mut self,
        table: &'static TableMeta,
        columns: &[&'static str],
        rows: &[Values],
    ) -> Result<Vec<RefusedRow>, StoreError> {
        self.update_now(table, columns, rows)
    }

    async fn delete(
        &mut self,
        table: &'static TableMeta,
        keys: &[Values],
    ) -> Result<Vec<RefusedRow>, StoreError> {
        let plan = self.store.plan(table)?;
        let doing = format!("deleting from `{}`", table.name);
        let mut statement =
            self.conn.prepare_cached(&plan.delete_sql()).map_err(|e| sqlite(&doing, e))?;
        let mut refused = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            let params = plan.key_params(key)?;
            // SQLite undoes a refused statement alone: the other deletes go on.
            if let Err(e) = statement.execute(params_from_iter(params.iter())) {
                let doing =
                    format!("deleting from `{}` the row with key {}", table.name, json(key));
                let mut why = write(&doing, e)?;
                if why.by == RefusedBy::ForeignKey {
                    why.constraint =
                        restrict::blame(&self.conn, &plan.restrictors, &params)?.map(str::to_owned);
                }
                refused.push(RefusedRow { index, why });
            }
        }
        Ok(refused)
    }

    async fn pull(
        &mut self,
        user: &str,
        cursor: Option<&str>,
        limit: PageLimit,
    ) -> Result<Page, StoreError> {
        let page = pull::page(&self.conn, self.store, user, cursor, limit, self.snapshot)?;
        super::retention::check(&self.conn, cursor)?;
        Ok(page)
    }

    async fn announce(&mut self, poke: &Poke) -> Result<(), StoreError> {
        self.announced = Some(poke.clone());
        Ok(())
    }

    async fn commit(mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(|e| sqlite("committing", e))?;
        self.open = false;
        if let Some(poke) = self.announced.take() {
            // No subscriber is no error: nobody is listening.
            let _ = self.store.pokes.send(poke);
        }
        Ok(())
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            // Nothing to report to: the next `begin` rolls back what is still open.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn json(values: &Values) -> Value {
    Value::Object(values.clone())
}
