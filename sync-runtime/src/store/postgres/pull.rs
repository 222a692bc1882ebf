//! Pull on Postgres: changes in commit order, never one missed (docs/sync.md).
//!
//! Every row carries `_sync_xid`, the id of the transaction that wrote it last, and every
//! deleted row leaves a tombstone with the id of the deleting transaction. A pull first reads the
//! horizon, `_sync_horizon()` of the generated DDL: the oldest transaction still in progress that
//! could write this database (one open in another database of the cluster never can, and is
//! passed over), so every transaction below it that wrote here has ended, and no row can appear
//! below it later. It serves what lies between the cursor and the horizon, in the
//! order (transaction id, source, key) where the source is 0 for tombstones and then the tables
//! in schema order, and returns the horizon as the next cursor once everything below it is served.
//!
//! Tombstones first within a transaction is what makes rows that change hands safe (docs/sync.md):
//! the transaction that gives a row to another owner writes its new version and a tombstone for
//! whoever lost it with one transaction id. The tombstone never names a reader of the new version
//! (it names the old owner, or for a public row that became private everyone but `kept_by`, the
//! new owner); and should a user lose the row and get it back within that one transaction, the
//! tombstone is served before the row, so the device ends with the row.
//!
//! A page is bounded in changes and in bytes ([`crate::store::page`]). The sources (the
//! tombstones, then each table) are read one after the other, each in batches from the last row
//! it gave, and each only below the page's ceiling: what an earlier source showed cannot be in
//! the page. A batch asks for about as many rows as the bytes left in the page hold, from the
//! size of the table's rows in earlier pulls, so large rows are not sent by Postgres only to be
//! dropped; rows are encoded into the response's JSON as they arrive. In READ COMMITTED each
//! query sees its own snapshot, which is safe here: a row served from a later snapshot than the
//! horizon's is still below the horizon, and a row rewritten meanwhile moves above the horizon
//! and comes with its new version in a later pull.

use std::sync::atomic::{AtomicUsize, Ordering};

use deadpool_postgres::Object;
use futures_util::{TryStreamExt, pin_mut};
use serde_json::{Value, json};
use tokio_postgres::Row;
use tokio_postgres::types::{ToSql, Type};

use super::encode;
use super::sql::{PgTable, literal, quote};
use super::store_error;
use crate::schema::SchemaMeta;
use crate::store::page::{Builder, Changes, PageLimit, Source as Taken};
use crate::store::retention;
use crate::store::{Page, StoreError};

/// A change's place in the pull's order, as far as sources are merged: its transaction, then
/// its source (0 for tombstones, then the tables). Within one source, the query's order.
type At = (u64, usize);

/// The rows a source's first batch asks for when none of its rows has been seen yet.
const FIRST_BATCH: usize = 64;

/// The size a tombstone is taken to have in JSON, for its first batch.
const TOMBSTONE_BYTES: usize = 128;

/// Where a pull stands: after `key` of `source` in transaction `xid`, or (`source` None) at the
/// start of transaction `xid`.
#[derive(Debug, Clone, PartialEq)]
struct Position {
    xid: u64,
    after: Option<(usize, Value)>,
}

impl Position {
    /// `<xid>` or `<xid>:<source>:<key as a JSON array>`.
    fn parse(cursor: &str, sources: usize) -> Result<Self, StoreError> {
        let bad = || StoreError::BadCursor(cursor.to_owned());
        let mut parts = cursor.splitn(3, ':');
        let xid = parts.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        let after = match (parts.next(), parts.next()) {
            (None, _) => None,
            (Some(source), Some(key)) => {
                let source: usize = source.parse().map_err(|_| bad())?;
                let key: Value = serde_json::from_str(key).map_err(|_| bad())?;
                if source > sources || !key.is_array() {
                    return Err(bad());
                }
                Some((source, key))
            }
            (Some(_), None) => return Err(bad()),
        };
        Ok(Position { xid, after })
    }

    fn render(&self) -> String {
        match &self.after {
            None => self.xid.to_string(),
            Some((source, key)) => format!("{}:{source}:{key}", self.xid),
        }
    }
}

pub(super) async fn page(
    client: &Object,
    schema: &SchemaMeta,
    tables: &[PgTable],
    user: &str,
    cursor: Option<&str>,
    limit: PageLimit,
) -> Result<Page, StoreError> {
    let from = match cursor {
        Some(cursor) => Position::parse(retention::untag(cursor).0, tables.len())
            .map_err(|_| StoreError::BadCursor(cursor.to_owned()))?,
        None => Position { xid: 0, after: None },
    };
    // The prune count the next cursor carries, read before any row of the page
    // ([`super::retention`]): in READ COMMITTED, a statement before the sources' queries.
    let row = client
        .query_typed_one(
            "SELECT horizon::text, pg_snapshot_xmax(pg_current_snapshot())::text, \
             coalesce((SELECT prunes FROM _sync_pruned), 0) FROM _sync_horizon()",
            &[],
        )
        .await
        .map_err(store_error)?;
    let xid_at = |i: usize| xid(row.get::<_, &str>(i));
    let (horizon, next_xid, prunes) = (xid_at(0)?, xid_at(1)?, row.get::<_, i64>(2));
    // No transaction id at or above the next one to be assigned exists yet, so a cursor there
    // was not made by this cluster (it was restored from a backup, or is another one); following
    // it would skip the rows below it.
    if let Some(cursor) = cursor.filter(|_| from.xid > next_xid) {
        return Err(StoreError::BadCursor(cursor.to_owned()));
    }
    // The horizon may stand below a cursor it made: an xid of another database that it passed
    // over is held back again when its backend could not be seen this time. Nothing below the
    // cursor is served twice for that; the page is empty until the horizon passes it again.
    let horizon = horizon.max(from.xid);
    let user_is_uuid = uuid::Uuid::try_parse(user).is_ok();
    let mut builder = Builder::new(limit);
    // A page serves changes at or after the cursor's transaction and below the horizon: when
    // the two meet (nothing has committed since the cursor was made, the idle device's case), no
    // source can hold one, and none is asked.
    if horizon > from.xid {
        let read = Read { client, user, from: &from, horizon, limit };
        read.source(&Source::tombstones(schema, tables), &mut builder).await?;
        for table in tables {
            if let Some(readable) = table.readable(schema, tables, user_is_uuid) {
                read.source(&Source::rows(table, readable), &mut builder).await?;
            }
        }
    }
    let (entries, has_more) = builder.finish();
    let cursor = match entries.last() {
        Some(last) if has_more => {
            let (xid, source) = last.at;
            Position { xid, after: Some((source, resume_key(tables, source, &last.json)?)) }
        }
        _ => Position { xid: horizon, after: None },
    };
    Ok(Page {
        changes: Changes::new(entries.into_iter().map(|e| e.json).collect()),
        cursor: retention::tag(&cursor.render(), prunes),
        has_more,
    })
}

/// The key a pull resumes after, from the JSON of the last change of a page: `[table, key]` for
/// a tombstone, the key columns' values for a row (as [`encode::array`] writes them).
fn resume_key(tables: &[PgTable], source: usize, json: &str) -> Result<Value, StoreError> {
    let bad = |why: &str| StoreError::Database(format!("a pull position from {json}: {why}"));
    let change: Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    if source == 0 {
        return Ok(json!([change["table"], change["key"]]));
    }
    let table = tables.iter().find(|t| t.index == source).ok_or_else(|| bad("no such source"))?;
    Ok(table.key.iter().map(|c| change["row"][c.name].clone()).collect())
}

/// One source of a pull: the tombstones, or the rows of a table.
struct Source<'a> {
    index: usize,
    /// `SELECT ... WHERE <readable> AND`, to which the position conditions are added.
    head: String,
    /// The transaction id and key columns (and the cursor's key values) the order follows.
    xid_column: &'static str,
    key_columns: String,
    key_values: String,
    /// A row of the table, or a tombstone.
    table: Option<&'a PgTable>,
    /// `{"table":"<name>","row":`, for rows.
    prefix: String,
}

impl<'a> Source<'a> {
    fn rows(table: &'a PgTable, (joins, readable): (String, String)) -> Self {
        let (key_columns, key_values) = table.position_key();
        let head = format!(
            "SELECT t._sync_xid::text, {key}, {row} FROM {name} AS t{joins} WHERE {readable} AND",
            key = table.select_key,
            row = table.select_row,
            name = quote(table.meta.name),
        );
        let prefix = format!(r#"{{"table":{},"row":"#, json!(table.meta.name));
        Source {
            index: table.index,
            head,
            xid_column: "t._sync_xid",
            key_columns,
            key_values,
            table: Some(table),
            prefix,
        }
    }

    fn tombstones(schema: &SchemaMeta, tables: &[PgTable]) -> Self {
        let names: Vec<String> = tables.iter().map(|t| literal(t.meta.name)).collect();
        // A row with no owner is public only where its scope says so; in an `owner` table nobody
        // could read it, so nobody hears of its removal. A public row that moved to an owner is
        // withdrawn from everyone but that owner (`kept_by`).
        let public: Vec<String> = tables
            .iter()
            .filter(|t| schema.public_when_unowned(t.meta))
            .map(|t| literal(t.meta.name))
            .collect();
        let readable = if public.is_empty() {
            "owner = $1".to_owned()
        } else {
            format!(
                "(owner = $1 OR (owner IS NULL AND table_name IN ({}) \
                 AND kept_by IS DISTINCT FROM $1))",
                public.join(", ")
            )
        };
        let head = format!(
            "SELECT _sync_xid::text, json_build_array(table_name, key)::text, table_name, \
             key::text FROM _sync_tombstone WHERE {readable} AND table_name IN ({names}) AND",
            names = names.join(", "),
        );
        Source {
            index: 0,
            head,
            xid_column: "_sync_xid",
            key_columns: "table_name, key".into(),
            key_values: "$4::jsonb->>0, $4::jsonb->1".into(),
            table: None,
            prefix: String::new(),
        }
    }

    /// The query of the rows after `from` and below transaction `$3`, at most `$5` of them.
    fn sql(&self, from: &Position) -> String {
        let xid = self.xid_column;
        format!(
            "{head} {after} AND {xid} < $3::text::xid8 ORDER BY {xid}, {keys} LIMIT $5",
            head = self.head,
            after = after(from, self.index, xid, &self.key_columns, &self.key_values),
            keys = self.key_columns,
        )
    }

    /// A row of the query as the response's JSON.
    fn encode(&self, row: &Row) -> Result<String, StoreError> {
        match self.table {
            Some(table) => {
                encode::pulled_row(&self.prefix, row, 1 + table.key.len(), &table.columns)
            }
            None => {
                let (table, key): (&str, &str) = (row.get(2), row.get(3));
                if !key.starts_with('{') {
                    return Err(StoreError::Database(format!(
                        "a tombstone of `{table}` has a key that is not a JSON object: {key}"
                    )));
                }
                Ok(format!(r#"{{"table":{},"key":{key},"deleted":true}}"#, json!(table)))
            }
        }
    }

    /// Where a row of the query stands, to read the next batch after it.
    fn position(&self, row: &Row) -> Result<Position, StoreError> {
        let key = match self.table {
            Some(table) => encode::array(row, 1, &table.key)?,
            None => row.get::<_, String>(1),
        };
        let key = serde_json::from_str(&key)
            .map_err(|e| StoreError::Database(format!("a pull position's key: {e}")))?;
        Ok(Position { xid: xid(row.get(0))?, after: Some((self.index, key)) })
    }

    /// What a row of this source is taken to weigh before any has been read in this pull.
    fn estimate(&self) -> &AtomicUsize {
        static TOMBSTONE: AtomicUsize = AtomicUsize::new(TOMBSTONE_BYTES);
        self.table.map_or(&TOMBSTONE, |t| &t.row_bytes)
    }
}

/// What every source of one pull is read with.
struct Read<'a> {
    client: &'a Object,
    user: &'a str,
    from: &'a Position,
    horizon: u64,
    limit: PageLimit,
}

impl Read<'_> {
    /// Read `source` into the page, batch after batch, until it has nothing more below the
    /// page's ceiling or the page is full.
    async fn source(
        &self,
        source: &Source<'_>,
        builder: &mut Builder<At>,
    ) -> Result<(), StoreError> {
        let mut taken = builder.source();
        let mut position = self.from.clone();
        let (mut rows, mut bytes) = (0usize, 0usize);
        let known = source.estimate().load(Ordering::Relaxed);
        loop {
            let below = self.below(&taken, source.index);
            if below <= position.xid {
                break;
            }
            let per_row = bytes.checked_div(rows).unwrap_or(known);
            let room = self.limit.bytes.saturating_sub(bytes);
            let batch = match per_row {
                0 => FIRST_BATCH,
                size => room / size + 2,
            }
            .min(self.limit.changes + 1);
            let (read, last) = self.batch(source, &position, below, batch, &mut taken).await?;
            rows += read.rows;
            bytes += read.bytes;
            match last {
                Some(last) if !read.stopped && read.rows == batch => {
                    position = source.position(&last)?;
                }
                _ => break,
            }
        }
        taken.finish();
        if rows > 0 && source.table.is_some() {
            source.estimate().store(bytes / rows, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The transaction below which `source` is read: the horizon, or the page's ceiling.
    fn below(&self, taken: &Taken<'_, At>, source: usize) -> u64 {
        match taken.ceiling() {
            // A ceiling in a later source still admits its own transaction here.
            Some((xid, at)) if at > source => self.horizon.min(xid.saturating_add(1)),
            Some((xid, _)) => self.horizon.min(xid),
            None => self.horizon,
        }
    }

    /// One batch of at most `batch` rows of `source` after `from`, below transaction `below`;
    /// the last row taken, to go on after it.
    async fn batch(
        &self,
        source: &Source<'_>,
        from: &Position,
        below: u64,
        batch: usize,
        taken: &mut Taken<'_, At>,
    ) -> Result<(Batch, Option<Row>), StoreError> {
        let sql = source.sql(from);
        let (xid_from, xid_to, key) = (from.xid.to_string(), below.to_string(), cursor_key(from));
        let fetch = i64::try_from(batch).unwrap_or(i64::MAX);
        let params: [(&(dyn ToSql + Sync), Type); 5] = [
            (&self.user, Type::TEXT),
            (&xid_from, Type::TEXT),
            (&xid_to, Type::TEXT),
            (&key, Type::JSONB),
            (&fetch, Type::INT8),
        ];
        // The cursor's key is cast to the types of the key columns: a value that does not fit
        // them (a data exception) comes from a cursor this store did not make.
        let error = |e: tokio_postgres::Error| match (&from.after, e.code()) {
            (Some((at, _)), Some(code)) if *at == source.index && code.code().starts_with("22") => {
                StoreError::BadCursor(from.render())
            }
            _ => store_error(e),
        };
        // Rows are encoded as they arrive, while Postgres is still sending the rest; a source
        // that stops drops the rest of its batch.
        let stream = self.client.query_typed_raw(&sql, params).await.map_err(error)?;
        pin_mut!(stream);
        let mut read = Batch { rows: 0, bytes: 0, stopped: false };
        let mut last = None;
        while let Some(row) = stream.try_next().await.map_err(error)? {
            let at = (xid(row.get(0))?, source.index);
            if !taken.wants(at) {
                read.stopped = true;
                break;
            }
            let json = source.encode(&row)?;
            read.rows += 1;
            read.bytes += json.len();
            if !taken.push(at, json) {
                read.stopped = true;
                break;
            }
            last = Some(row);
        }
        Ok((read, last))
    }
}

/// What one batch read.
struct Batch {
    rows: usize,
    bytes: usize,
    /// The page could take no more of the source.
    stopped: bool,
}

/// The position condition for `source`, over `(xid column, key columns)`, given the cursor in
/// `$2` (xid) and `$4` (key).
fn after(from: &Position, source: usize, xid: &str, key_columns: &str, key_values: &str) -> String {
    match &from.after {
        Some((at, _)) if *at == source => {
            format!("({xid}, {key_columns}) > ($2::text::xid8, {key_values})")
        }
        Some((at, _)) if *at > source => format!("{xid} > $2::text::xid8"),
        _ => format!("{xid} >= $2::text::xid8"),
    }
}

fn cursor_key(from: &Position) -> Value {
    from.after.as_ref().map_or(Value::Null, |(_, key)| key.clone())
}

fn xid(text: &str) -> Result<u64, StoreError> {
    text.parse().map_err(|_| StoreError::Database(format!("`{text}` is not a transaction id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        for text in ["0", "1234", r#"77:3:["a",1]"#, r#"9:0:["t",{"id":"x:y"}]"#] {
            assert_eq!(Position::parse(text, 5).unwrap().render(), text);
        }
        for text in ["", "x", "12:", "12:9:[1]", "12:1:{}", "12:1:[1", "-1"] {
            assert!(matches!(Position::parse(text, 5), Err(StoreError::BadCursor(_))), "{text}");
        }
    }
}
