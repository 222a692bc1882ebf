//! A pull's memory on the server is bounded by the page's byte budget (docs/sync.md, paging), on
//! both stores: a `sync-server` process serving about 200 MB of rows in pages of at most 4 MiB
//! grows its peak resident memory (VmHWM) by less than a stated bound over its peak before the
//! pull, while the same pull with a budget larger than the data, one page for everything, grows
//! it past that bound, so the bound would catch pages that are not cut at the budget.

use integration_tests::server::{request, runtime, token};
use integration_tests::server_process::{self, ServerProcess};
use integration_tests::sync::{Database, TestStore, id, user};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;
use tokio::runtime::Runtime;

integration_tests::for_each_store!(a_large_pull_stays_within_the_page_budget);

/// The seeded notes, and the size of each one's body: about 200 MB in all.
const ROWS: usize = 1000;
const ROW_BYTES: usize = 200_000;

/// The byte budget of a page, the server's default.
const BUDGET: usize = 4 * 1024 * 1024;

/// A budget larger than all the rows: the whole pull in one page.
const NO_BUDGET: usize = 1024 * 1024 * 1024;

/// How much the server's peak memory may grow during the bounded pull: the page, the body
/// pieces in flight and the store's read batch, with room for the allocator's slack.
const BOUND_KIB: u64 = 64 * 1024;

/// The most changes a request may ask for: only the byte budget cuts the pages.
const PAGE_SIZE: usize = 10_000;

fn a_large_pull_stays_within_the_page_budget<S: TestStore>() {
    let rt = runtime();
    let (db, url) = server_process::database::<S>(&rt);
    seed(&db);
    db.settle();

    let bounded = pull_through(&rt, &url, BUDGET);
    assert_eq!(bounded.changes, ROWS + 2, "every note, the profile and the tune");
    assert!(bounded.pages >= ROWS * ROW_BYTES / BUDGET, "{} pages", bounded.pages);
    let one_row_over = BUDGET + ROW_BYTES + 1024;
    assert!(bounded.largest <= one_row_over, "a page body of {} bytes", bounded.largest);
    assert!(
        bounded.growth_kib < BOUND_KIB,
        "the server's peak memory grew by {} KiB pulling in pages of {BUDGET} bytes (from {} KiB)",
        bounded.growth_kib,
        bounded.baseline_kib,
    );

    let unbounded = pull_through(&rt, &url, NO_BUDGET);
    assert_eq!((unbounded.changes, unbounded.pages), (ROWS + 2, 1));
    assert!(
        unbounded.growth_kib > BOUND_KIB,
        "one page of every row grew the server's peak memory by only {} KiB: the bound of \
         {BOUND_KIB} KiB shows nothing",
        unbounded.growth_kib,
    );
}

/// User 1 with a profile, a tune and [`ROWS`] notes of [`ROW_BYTES`] each, in one transaction.
fn seed(db: &Database) {
    let (owner, tune) = (user(1), id(1));
    let (body, series) = match db {
        Database::Postgres(_) => {
            (format!("repeat('x', {ROW_BYTES})"), format!("generate_series(1, {ROWS})"))
        }
        // `hex` of a blob of zeros is twice as many `0` characters.
        Database::Sqlite { .. } => (
            format!("hex(zeroblob({}))", ROW_BYTES / 2),
            format!(
                "(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {ROWS}) \
                 SELECT n FROM g)"
            ),
        ),
    };
    db.execute(&format!(
        "INSERT INTO user_profile (id) VALUES ('{owner}');
         INSERT INTO tune (id, user_id, title) VALUES ('{tune}', '{owner}', 'Tune');
         INSERT INTO note (user_id, tune_id, body) SELECT '{owner}', '{tune}', {body} FROM {series}"
    ));
}

/// What one pull from start to end showed.
struct Pulled {
    changes: usize,
    pages: usize,
    /// The largest page's body, in bytes.
    largest: usize,
    /// The server's peak memory once it had served a first small page, and how much the whole
    /// pull added to it.
    baseline_kib: u64,
    growth_kib: u64,
}

/// A response as far as this test reads it.
#[derive(Deserialize)]
struct Page {
    changes: Vec<IgnoredAny>,
    cursor: String,
    has_more: bool,
}

/// Start a server with a page budget of `budget` bytes, let it serve one small page, then pull
/// user 1's rows from the start to the end.
fn pull_through(rt: &Runtime, url: &str, budget: usize) -> Pulled {
    let server = ServerProcess::start(url, &["--max-page-bytes", &budget.to_string()], None);
    let http = reqwest::Client::new();
    let token = token(&user(1));
    let sync = async |cursor: Option<&str>, page_size: usize| {
        let mut body = request(cursor, json!([]));
        body["page_size"] = json!(page_size);
        let answer = http
            .post(server.url("/api/sync"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("the server answers");
        assert!(answer.status().is_success(), "{}:\n{}", answer.status(), server.log());
        answer.bytes().await.expect("the body arrives")
    };
    rt.block_on(async {
        // The first request opens the store's connections and the server's buffers.
        sync(None, 1).await;
        let baseline_kib = server.peak_kib();
        let mut pulled = Pulled { changes: 0, pages: 0, largest: 0, baseline_kib, growth_kib: 0 };
        let mut cursor: Option<String> = None;
        loop {
            let body = sync(cursor.as_deref(), PAGE_SIZE).await;
            let page: Page = serde_json::from_slice(&body).expect("a sync response");
            pulled.changes += page.changes.len();
            pulled.pages += 1;
            pulled.largest = pulled.largest.max(body.len());
            cursor = Some(page.cursor);
            if !page.has_more {
                break;
            }
        }
        pulled.growth_kib = server.peak_kib() - baseline_kib;
        pulled
    })
}
