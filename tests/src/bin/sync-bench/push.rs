//! `push_vs_raw` and `push_vs_naive`: pushing rows through the endpoint, against one raw upsert
//! statement and against the seed plan's row-by-row loop.

use serde_json::{Value, json};

use crate::fixture::{Error, Fixture, Paired, User, median_ms, request, timed};
use crate::{Sizes, figure, figure_spread};

/// The columns of the pushed practice records, with their Postgres types.
const COLUMNS: &[(&str, &str)] = &[
    ("id", "uuid"),
    ("user_id", "uuid"),
    ("tune_id", "uuid"),
    ("practiced", "timestamptz"),
    ("quality", "integer"),
    ("easiness", "double precision"),
    ("interval", "integer"),
    ("repetitions", "integer"),
    ("elapsed_ms", "bigint"),
    ("due", "timestamptz"),
    ("deleted", "boolean"),
    ("last_modified_at", "timestamptz"),
];

pub async fn run(fixture: &Fixture, sizes: &Sizes) -> Result<(), Error> {
    let user = fixture.user(1).await?;
    let body = request(None, 1, upserts(&user, sizes.push_rows));
    let rows = Value::Array(user.records(sizes.push_rows));
    let paired = Paired::measure(
        sizes.repetitions,
        async || fixture.clear_records().await,
        async || fixture.sync(&user, body.clone()).await.map(drop),
        async || raw_upsert(fixture, &rows).await,
    )
    .await?;
    let (ours_ms, raw_ms) = paired.median_ms();
    figure("push_rows", sizes.push_rows as f64);
    figure("push_ms", ours_ms);
    figure("push_raw_ms", raw_ms);
    figure_spread("push_vs_raw", &paired.ratios());

    // The naive push takes seconds: one run, against the median of ours at its size.
    let ours_naive_size_ms = if sizes.naive_rows == sizes.push_rows {
        ours_ms
    } else {
        let body = request(None, 1, upserts(&user, sizes.naive_rows));
        let mut times = Vec::with_capacity(sizes.repetitions);
        for _ in 0..sizes.repetitions {
            fixture.clear_records().await?;
            times.push(
                timed(&mut async || fixture.sync(&user, body.clone()).await.map(drop)).await?,
            );
        }
        median_ms(&times)
    };
    let records = user.records(sizes.naive_rows);
    fixture.clear_records().await?;
    let naive = timed(&mut async || naive_push(fixture, &records).await).await?;
    let naive_ms = naive.as_secs_f64() * 1e3;
    figure("push_naive_ms", naive_ms);
    figure("push_vs_naive", naive_ms / ours_naive_size_ms);
    fixture.clear_records().await
}

fn upserts(user: &User, rows: usize) -> Vec<Value> {
    user.records(rows)
        .into_iter()
        .map(|row| json!({ "table": "practice_record", "op": "upsert", "row": row }))
        .collect()
}

/// The same rows upserted by one statement, last write wins in its `WHERE`: the fastest a push
/// can be, with nothing checked.
async fn raw_upsert(fixture: &Fixture, rows: &Value) -> Result<(), Error> {
    let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    let defs: Vec<String> = COLUMNS.iter().map(|(name, ty)| format!("{name} {ty}")).collect();
    let sets: Vec<String> = names.iter().map(|n| format!("{n} = EXCLUDED.{n}")).collect();
    let sql = format!(
        "INSERT INTO practice_record AS t ({cols}) SELECT {cols} FROM jsonb_to_recordset($1) AS r({defs}) \
         ON CONFLICT (id) DO UPDATE SET {sets} WHERE t.last_modified_at < EXCLUDED.last_modified_at",
        cols = names.join(", "),
        defs = defs.join(", "),
        sets = sets.join(", "),
    );
    fixture.sql.execute(&sql, &[rows]).await?;
    Ok(())
}

/// The seed plan's push, faithfully: in one transaction, for each row, fetch the server's row
/// (locked), and write the client's when it is newer. Two round trips per row, with prepared
/// statements (the kindest form of it).
async fn naive_push(fixture: &Fixture, records: &[Value]) -> Result<(), Error> {
    let sql = &fixture.sql;
    let select = sql
        .prepare(
            "SELECT to_char(last_modified_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') \
             FROM practice_record WHERE id = $1::text::uuid FOR UPDATE",
        )
        .await?;
    let params: Vec<String> =
        COLUMNS.iter().enumerate().map(|(i, (_, ty))| format!("${}::text::{ty}", i + 1)).collect();
    let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    let sets: Vec<String> = names.iter().map(|n| format!("{n} = EXCLUDED.{n}")).collect();
    let write = sql
        .prepare(&format!(
            "INSERT INTO practice_record ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
            names.join(", "),
            params.join(", "),
            sets.join(", ")
        ))
        .await?;
    sql.batch_execute("BEGIN").await?;
    for record in records {
        let values: Vec<Option<String>> = names
            .iter()
            .map(|n| match &record[*n] {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            })
            .collect();
        let server: Option<String> = sql.query_opt(&select, &[&values[0]]).await?.map(|r| r.get(0));
        let client_time = values[names.len() - 1].as_deref().unwrap_or_default();
        if server.is_none_or(|server| client_time > server.as_str()) {
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                values.iter().map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
            sql.execute(&write, &params).await?;
        }
    }
    sql.batch_execute("COMMIT").await?;
    Ok(())
}
