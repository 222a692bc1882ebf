//! The verdict on each row of a write. A Postgres statement is all or nothing, so a batch runs
//! under a savepoint, and when the database refuses it, halves of it do, down to the single rows
//! it refuses (docs/sync.md): a clean batch costs two more statements, a refused row a few per
//! halving. An insert skips rows that conflict with any unique key instead of failing, so the
//! common refusal (a name taken) costs no halving: each skipped row is tried alone, which tells a
//! key inserted concurrently (skipped, the engine looks again) from a unique key's refusal.

use std::collections::HashSet;

use super::PgTx;
use super::sql::{PgTable, Skip};
use crate::schema::ColumnMeta;
use crate::store::{Refused, RefusedRow, StoreError, Values, Written, key_text};

/// Insert `rows` with exactly `columns`.
pub(super) async fn insert(
    tx: &PgTx<'_>,
    table: &PgTable,
    columns: &[&str],
    rows: &[Values],
) -> Result<Written, StoreError> {
    let any = table.insert(columns, Skip::AnyConflict);
    let (inserted, mut refused) = halving(tx, &any, rows, &table.key).await?;
    let done: HashSet<String> = inserted
        .iter()
        .map(|k| key_text(table.meta, k))
        .chain(refused.iter().map(|r| key_text(table.meta, &rows[r.index])))
        .collect();
    let mut written = Written { inserted, refused: Vec::new() };
    let key_only = table.insert(columns, Skip::KeyConflict);
    for (index, row) in rows.iter().enumerate() {
        if done.contains(&key_text(table.meta, row)) {
            continue;
        }
        match attempt(tx, &key_only, std::slice::from_ref(row), &table.key).await? {
            Ok(keys) => written.inserted.extend(keys),
            Err(why) => refused.push(RefusedRow { index, why }),
        }
    }
    refused.sort_by_key(|r| r.index);
    written.refused = refused;
    Ok(written)
}

/// Run `sql`, an update or a delete that returns nothing, over `rows` (or keys); the rows it
/// refuses.
pub(super) async fn each(
    tx: &PgTx<'_>,
    sql: &str,
    rows: &[Values],
) -> Result<Vec<RefusedRow>, StoreError> {
    Ok(halving(tx, sql, rows, &[]).await?.1)
}

/// Run `sql` over `rows`, and over halves of them where the database refuses: what the
/// statements returned (as `returning` columns), and the rows refused alone.
async fn halving(
    tx: &PgTx<'_>,
    sql: &str,
    rows: &[Values],
    returning: &[&ColumnMeta],
) -> Result<(Vec<Values>, Vec<RefusedRow>), StoreError> {
    let (mut returned, mut refused) = (Vec::new(), Vec::new());
    // Left halves first, so that of two rows of the batch that conflict, the first is written.
    let mut ranges = vec![(0, rows.len())];
    while let Some((start, end)) = ranges.pop() {
        if start == end {
            continue;
        }
        match attempt(tx, sql, &rows[start..end], returning).await? {
            Ok(rows) => returned.extend(rows),
            Err(why) if end - start == 1 => refused.push(RefusedRow { index: start, why }),
            Err(_) => {
                let middle = start + (end - start) / 2;
                ranges.push((middle, end));
                ranges.push((start, middle));
            }
        }
    }
    Ok((returned, refused))
}

/// Run `sql` over `rows` under a savepoint: what it returned, or why the database refused it
/// (and nothing of it is written).
async fn attempt(
    tx: &PgTx<'_>,
    sql: &str,
    rows: &[Values],
    returning: &[&ColumnMeta],
) -> Result<Result<Vec<Values>, Refused>, StoreError> {
    let client = tx.client();
    client.batch_execute("SAVEPOINT verdict").await.map_err(super::store_error)?;
    match tx.with_rows(sql, rows, returning).await {
        Ok(returned) => {
            client.batch_execute("RELEASE SAVEPOINT verdict").await.map_err(super::store_error)?;
            Ok(Ok(returned))
        }
        Err(StoreError::Refused(why)) => {
            client
                .batch_execute("ROLLBACK TO SAVEPOINT verdict; RELEASE SAVEPOINT verdict")
                .await
                .map_err(super::store_error)?;
            Ok(Err(why))
        }
        Err(other) => Err(other),
    }
}
