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
//! A page is bounded: each source is asked for at most `limit + 1` changes after the cursor's
//! position, so a page reads at most `(tables + 1) * (limit + 1)` rows. In READ COMMITTED each
//! query sees its own snapshot, which is safe here: a row served from a later snapshot than the
//! horizon's is still below the horizon, and a row rewritten meanwhile moves above the horizon
//! and comes with its new version in a later pull.

use deadpool_postgres::Object;
use futures_util::future::try_join_all;
use futures_util::{TryStreamExt, pin_mut};
use serde_json::Value;
use tokio_postgres::types::{ToSql, Type};

use super::encode;
use super::sql::{PgTable, literal};
use super::store_error;
use crate::protocol::{PulledChange, PulledDelete, PulledRow, Row, True};
use crate::schema::SchemaMeta;
use crate::store::{Page, StoreError};

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

/// A change read from one source, with its position (`key` as JSON text, parsed only for the
/// last change of a page).
struct Entry {
    xid: u64,
    source: usize,
    key: String,
    change: PulledChange,
}

pub(super) async fn page(
    client: &Object,
    schema: &SchemaMeta,
    tables: &[PgTable],
    user: &str,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page, StoreError> {
    let from = match cursor {
        Some(cursor) => Position::parse(cursor, tables.len())?,
        None => Position { xid: 0, after: None },
    };
    let row = client
        .query_typed_one(
            "SELECT horizon::text, pg_snapshot_xmax(pg_current_snapshot())::text \
             FROM _sync_horizon()",
            &[],
        )
        .await
        .map_err(store_error)?;
    let xid = |i: usize| {
        row.get::<_, String>(i)
            .parse::<u64>()
            .map_err(|_| StoreError::Database("xid8 as text".into()))
    };
    let (horizon, next_xid) = (xid(0)?, xid(1)?);
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
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
    // Every source's query is sent at once: the connection pipelines them.
    let user_is_uuid = uuid::Uuid::try_parse(user).is_ok();
    let sources = tables.iter().filter_map(|table| {
        let readable = table.readable(schema, tables, user_is_uuid)?;
        Some(rows(client, table, readable, user, &from, horizon, fetch))
    });
    let (deleted, written) = tokio::try_join!(
        tombstones(client, schema, tables, user, &from, horizon, fetch),
        try_join_all(sources)
    )?;
    let mut entries = deleted;
    entries.extend(written.into_iter().flatten());
    // Each source came sorted by (xid, key); a stable sort on (xid, source) keeps that.
    entries.sort_by_key(|e| (e.xid, e.source));
    let has_more = entries.len() > limit;
    entries.truncate(limit);
    let cursor = match entries.last() {
        Some(last) if has_more => {
            let key = serde_json::from_str(&last.key)
                .map_err(|e| StoreError::Database(format!("a pull position's key: {e}")))?;
            Position { xid: last.xid, after: Some((last.source, key)) }
        }
        _ => Position { xid: horizon, after: None },
    };
    Ok(Page {
        changes: entries.into_iter().map(|e| e.change).collect(),
        cursor: cursor.render(),
        has_more,
    })
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

async fn rows(
    client: &Object,
    table: &PgTable,
    (joins, readable): (String, String),
    user: &str,
    from: &Position,
    horizon: u64,
    fetch: i64,
) -> Result<Vec<Entry>, StoreError> {
    let (key_columns, key_values) = table.position_key();
    let sql = format!(
        "SELECT t._sync_xid::text, {key}, {row} FROM {name} AS t{joins} \
         WHERE {readable} AND {after} AND t._sync_xid < $3::text::xid8 \
         ORDER BY t._sync_xid, {key_columns} LIMIT $5",
        key = table.select_key,
        row = table.select_row,
        name = super::sql::quote(table.meta.name),
        after = after(from, table.index, "t._sync_xid", &key_columns, &key_values),
    );
    let (xid_from, xid_to, key) = (from.xid.to_string(), horizon.to_string(), cursor_key(from));
    let params: [(&(dyn ToSql + Sync), Type); 5] = [
        (&user, Type::TEXT),
        (&xid_from, Type::TEXT),
        (&xid_to, Type::TEXT),
        (&key, Type::JSONB),
        (&fetch, Type::INT8),
    ];
    // The cursor's key is cast to the types of the key columns: a value that does not fit them
    // (a data exception) comes from a cursor this store did not make.
    let error = |e: tokio_postgres::Error| match (&from.after, e.code()) {
        (Some((at, _)), Some(code)) if *at == table.index && code.code().starts_with("22") => {
            StoreError::BadCursor(from.render())
        }
        _ => store_error(e),
    };
    // Rows are encoded as they arrive, while Postgres is still sending the rest.
    let stream = client.query_typed_raw(&sql, params).await.map_err(error)?;
    pin_mut!(stream);
    let mut entries = Vec::new();
    while let Some(r) = stream.try_next().await.map_err(error)? {
        let row = encode::object(&r, 1 + table.key.len(), &table.columns)?;
        let row = Row::from_json(row).map_err(|e| StoreError::Database(e.to_string()))?;
        entries.push(Entry {
            xid: xid(r.get(0))?,
            source: table.index,
            key: encode::array(&r, 1, &table.key)?,
            change: PulledChange::PulledRow(PulledRow { table: table.meta.name.to_owned(), row }),
        });
    }
    Ok(entries)
}

async fn tombstones(
    client: &Object,
    schema: &SchemaMeta,
    tables: &[PgTable],
    user: &str,
    from: &Position,
    horizon: u64,
    fetch: i64,
) -> Result<Vec<Entry>, StoreError> {
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
    let sql = format!(
        "SELECT _sync_xid::text, json_build_array(table_name, key)::text, table_name, key::text \
         FROM _sync_tombstone WHERE {readable} AND table_name IN ({names}) \
         AND {after} AND _sync_xid < $3::text::xid8 ORDER BY _sync_xid, table_name, key LIMIT $5",
        names = names.join(", "),
        after = after(from, 0, "_sync_xid", "table_name, key", "$4::jsonb->>0, $4::jsonb->1"),
    );
    let result = client
        .query_typed(
            &sql,
            &[
                (&user, Type::TEXT),
                (&from.xid.to_string(), Type::TEXT),
                (&horizon.to_string(), Type::TEXT),
                (&cursor_key(from), Type::JSONB),
                (&fetch, Type::INT8),
            ],
        )
        .await
        .map_err(store_error)?;
    result
        .iter()
        .map(|r| {
            let parse = |i| {
                serde_json::from_str::<Value>(r.get(i))
                    .map_err(|e| StoreError::Database(e.to_string()))
            };
            let Value::Object(key) = parse(3)? else {
                return Err(StoreError::Database("a tombstone key is not a JSON object".into()));
            };
            Ok(Entry {
                xid: xid(r.get(0))?,
                source: 0,
                key: r.get(1),
                change: PulledChange::PulledDelete(PulledDelete {
                    table: r.get(2),
                    key,
                    deleted: True,
                }),
            })
        })
        .collect()
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
