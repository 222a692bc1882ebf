//! A lost database (docs/server.md): with Postgres stopped mid-run (a cluster of the test's own,
//! `cluster.rs`, since the shared one must stay up), `POST /api/sync` and `GET /healthz` answer
//! 503 `database_unavailable` with `Retry-After`; once it is back the server serves again by
//! itself, with the rows written before, and its poke listener hears pushes again.

use std::time::{Duration, Instant};

use integration_tests::cluster::{Cluster, Transport};
use integration_tests::server::{Options, SCHEMA, TestServer, request, runtime, token};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sync_runtime::pokes::PokeStream;
use sync_runtime::store::postgres::PgStore;

const USER: &str = "00000000-0000-4000-8000-000000000001";

/// How long the server may take to serve again once the database is back.
const RECOVERS_WITHIN: Duration = Duration::from_secs(30);
/// The poke listener notices a lost session at its next health check (every 30 s, 10 s to
/// answer) and reconnects with a backoff of at most 30 s.
const POKES_RECOVER_WITHIN: Duration = Duration::from_secs(90);

fn profile(name: &str) -> Value {
    request(
        None,
        json!([{ "table": "user_profile", "op": "upsert",
                 "row": { "id": USER, "display_name": name,
                          "last_modified_at": "2026-12-01T10:00:00.000Z" } }]),
    )
}

/// The status, `Retry-After` and error code of an answer.
async fn refusal(response: reqwest::Response) -> (StatusCode, Option<String>, Value) {
    let status = response.status();
    let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.expect("a JSON answer");
    (status, retry, body["error"]["code"].clone())
}

#[test]
fn a_lost_database_answers_503_with_retry_after_and_the_server_reconnects() {
    let cluster = Cluster::start(Transport::Plain);
    let url = cluster.app_database("127.0.0.1", "");
    let rt = runtime();
    let store = rt.block_on(PgStore::connect(&url, SCHEMA)).expect("the store connects");
    let server = rt.block_on(TestServer::start(store, Options::default()));
    rt.block_on(server.sync(USER, &profile("Ada"))).expect("a push before the outage");

    cluster.stop();
    let sync = rt.block_on(server.post_sync(Some(&token(USER)), &request(None, json!([]))));
    let unavailable =
        (StatusCode::SERVICE_UNAVAILABLE, Some("5".to_owned()), json!("database_unavailable"));
    assert_eq!(rt.block_on(refusal(sync)), unavailable, "POST /api/sync");
    let push = rt.block_on(server.post_sync(Some(&token(USER)), &profile("Grace")));
    assert_eq!(rt.block_on(refusal(push)), unavailable, "a push");
    let health = rt.block_on(server.client().get(server.url("/healthz")).send()).unwrap();
    assert_eq!(rt.block_on(refusal(health)), unavailable, "GET /healthz");

    cluster.restart();
    let deadline = Instant::now() + RECOVERS_WITHIN;
    let pulled = loop {
        match rt.block_on(server.sync(USER, &request(None, json!([])))) {
            Ok(pulled) => break pulled,
            Err((status, error)) => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error:?}");
                assert!(Instant::now() < deadline, "still refused after restart: {error:?}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };
    let rows = serde_json::to_value(&pulled.changes).unwrap().to_string();
    assert!(rows.contains("\"Ada\"") && !rows.contains("\"Grace\""), "{rows}");
    let health = rt.block_on(server.client().get(server.url("/healthz")).send()).unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    // The poke listener lost its session too; it reconnects with backoff, so pushes poke again.
    let deadline = Instant::now() + POKES_RECOVER_WITHIN;
    rt.block_on(async {
        let mut events =
            PokeStream::connect(server.client(), &server.url("/api/events"), &token(USER))
                .await
                .expect("subscribe");
        let mut n = 0;
        loop {
            n += 1;
            server.sync(USER, &profile(&format!("Ada {n}"))).await.expect("a push");
            if let Ok(Some(Ok(_poke))) =
                tokio::time::timeout(Duration::from_secs(1), events.next()).await
            {
                break;
            }
            assert!(Instant::now() < deadline, "no poke after the restart");
        }
    });
    rt.block_on(server.stop());
}
