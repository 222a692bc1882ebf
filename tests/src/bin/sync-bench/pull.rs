//! `pull_vs_raw`: every row of a user pulled through the endpoint, page by page, against one raw
//! `SELECT` of the same rows.

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_postgres::SimpleQueryMessage;

use crate::fixture::{Error, Fixture, Paired, User, request};
use crate::{Sizes, figure, figure_spread};

/// The page size the bench client asks for: the engine's default maximum.
pub const PAGE_SIZE: usize = 10_000;

/// A response as a client reads it: every change parsed as JSON, nothing more.
#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    changes: Vec<&'a RawValue>,
    cursor: String,
    has_more: bool,
}

pub async fn run(fixture: &Fixture, sizes: &Sizes) -> Result<(), Error> {
    let user = fixture.user(2).await?;
    fixture.seed_records(&user, sizes.pull_rows).await?;
    let expected = sizes.pull_rows + 2; // the user's profile and tune come too
    let paired = Paired::measure(
        sizes.repetitions,
        async || Ok(()),
        async || {
            let pulled = pull_all(fixture, &fixture.base, &user).await?;
            check(fixture, pulled, expected).await
        },
        async || {
            let rows = raw_select(fixture, &user).await?;
            check(fixture, rows, sizes.pull_rows).await
        },
    )
    .await?;
    let (ours_ms, raw_ms) = paired.median_ms();
    figure("pull_rows", sizes.pull_rows as f64);
    figure("pull_ms", ours_ms);
    figure("pull_raw_ms", raw_ms);
    figure_spread("pull_vs_raw", &paired.ratios());
    Ok(())
}

/// `got` rows where `expected` were due; when they differ, an error that says where the pull
/// horizon stands, which holds back rows that a transaction open meanwhile kept from pulls.
pub async fn check(fixture: &Fixture, got: usize, expected: usize) -> Result<(), Error> {
    if got == expected {
        return Ok(());
    }
    let horizon = fixture.horizon().await?;
    Err(format!("pulled {got} rows, expected {expected}; {horizon}").into())
}

/// Pull from the start until nothing is left, from the server at `base`; the number of changes
/// pulled.
pub async fn pull_all(fixture: &Fixture, base: &str, user: &User) -> Result<usize, Error> {
    let mut cursor: Option<String> = None;
    let mut pulled = 0;
    loop {
        let body =
            fixture.sync_at(base, user, request(cursor.as_deref(), PAGE_SIZE, Vec::new())).await?;
        let page: Page<'_> = serde_json::from_slice(&body)?;
        pulled += page.changes.len();
        cursor = Some(page.cursor);
        if !page.has_more {
            return Ok(pulled);
        }
    }
}

/// The user's practice records by one `SELECT *`, every value read; the number of rows.
async fn raw_select(fixture: &Fixture, user: &User) -> Result<usize, Error> {
    let sql = format!("SELECT * FROM practice_record WHERE user_id = '{}'", user.id);
    let mut rows = 0;
    let mut bytes = 0;
    for message in fixture.sql.simple_query(&sql).await? {
        if let SimpleQueryMessage::Row(row) = message {
            rows += 1;
            bytes += (0..row.len()).filter_map(|i| row.get(i)).map(str::len).sum::<usize>();
        }
    }
    std::hint::black_box(bytes);
    Ok(rows)
}
