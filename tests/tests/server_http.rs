//! The sync server over real HTTP on 127.0.0.1 (docs/server.md): one sync per store shows
//! the wiring, then the mechanics of HTTP: a chunked body over the limit, content types, unknown
//! paths and methods in the protocol's error shape, CORS, request ids, health checks and graceful
//! shutdown. Bad tokens and bad input, each with a snapshot showing it wrote nothing, are in
//! `sync_refusals_auth` and `sync_refusals_input`.

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use integration_tests::pg::{self, TestDb};
use integration_tests::server::{
    Options, TestServer, pg_store, request, runtime, sqlite_store, token,
};
use integration_tests::{ddl, example_schema};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};
use sync_meta::database_url::PostgresUrl;
use sync_runtime::server::HttpConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const USER: &str = "00000000-0000-4000-8000-000000000001";

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A push of the user's own profile row.
fn profile_push(name: &str) -> Value {
    request(
        None,
        json!([{ "table": "user_profile", "op": "upsert",
                 "row": { "id": USER, "display_name": name, "last_modified_at": now() } }]),
    )
}

/// A server on a fresh SQLite file; the directory must outlive it.
async fn sqlite_server(options: Options) -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let server = TestServer::start(sqlite_store(dir.path()), options).await;
    (dir, server)
}

/// Push a row, then pull it from another device; and `/healthz` answers with the horizon.
async fn push_then_pull(server: &TestServer) {
    let pushed = server.sync(USER, &profile_push("Ada")).await.expect("the push is accepted");
    assert!(pushed.rejected.is_empty(), "{:?}", pushed.rejected);
    // On Postgres, a transaction open elsewhere in the cluster (another test's) holds the pull
    // horizon back until it ends (docs/sync.md), so the row may take a few pulls to show.
    let deadline = Instant::now() + Duration::from_secs(30);
    let profile = loop {
        let pulled =
            server.sync(USER, &request(None, json!([]))).await.expect("the pull is accepted");
        let rows = serde_json::to_value(&pulled.changes).unwrap();
        if let Some(profile) =
            rows.as_array().unwrap().iter().find(|c| c["table"] == "user_profile")
        {
            break profile.clone();
        }
        assert!(Instant::now() < deadline, "the pushed row is never pulled: {rows}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(profile["row"]["id"], USER);
    assert_eq!(profile["row"]["display_name"], "Ada");

    let health = server.client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["schema"], "tunes");
    assert!(health["pull_horizon"]["waiting_transactions"].is_i64(), "{health}");
    assert!(health["pull_horizon"].get("oldest_transaction_age_secs").is_some(), "{health}");
}

#[tokio::test]
async fn a_sync_goes_through_http_on_sqlite() {
    let (_dir, server) = sqlite_server(Options::default()).await;
    push_then_pull(&server).await;
    server.stop().await;
}

#[test]
fn a_sync_goes_through_http_on_postgres() {
    let db = TestDb::new();
    let mut admin = db.connect();
    admin.batch_execute(&ddl(&example_schema()).1).expect("apply the Postgres DDL");
    let url = db.url();
    runtime().block_on(async {
        let server = TestServer::start(pg_store(&url).await, Options::default()).await;
        push_then_pull(&server).await;
        server.stop().await;
    });
}

/// When the database goes away, `/healthz` says so with a 503 in the error shape.
#[test]
fn healthz_is_503_when_postgres_is_gone() {
    let db = TestDb::new();
    let mut admin = db.connect();
    admin.batch_execute(&ddl(&example_schema()).1).expect("apply the Postgres DDL");
    let name: String = admin.query_one("SELECT current_database()", &[]).unwrap().get(0);
    let url = db.url();
    let rt = runtime();
    let server =
        rt.block_on(async { TestServer::start(pg_store(&url).await, Options::default()).await });
    let health = |server: &TestServer| {
        rt.block_on(async { server.client().get(server.url("/healthz")).send().await.unwrap() })
    };
    assert_eq!(health(&server).status(), StatusCode::OK);

    let root = PostgresUrl::parse(&std::env::var("TEST_DATABASE_URL").unwrap()).unwrap();
    let mut root = pg::connect(&root).unwrap();
    root.batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).unwrap();
    let response = health(&server);
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = rt.block_on(response.json()).unwrap();
    assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
    rt.block_on(server.stop());
}

async fn error_of(response: reqwest::Response) -> (StatusCode, HeaderMap, Value) {
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.expect("every error answer is JSON");
    assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string(), "{body}");
    (status, headers, body["error"].clone())
}

async fn post_raw(
    server: &TestServer,
    content_type: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut post = server
        .client()
        .post(server.url("/api/sync"))
        .bearer_auth(token(USER))
        .body(body.to_owned());
    if let Some(content_type) = content_type {
        post = post.header(header::CONTENT_TYPE, content_type);
    }
    post.send().await.unwrap()
}

/// A body over the limit with a declared length is refused unread (with the other bad input in
/// `sync_refusals_input`); without a declared length the limit holds too: a chunked body is cut
/// off at the limit.
#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_in_the_error_shape() {
    let options = Options {
        http: HttpConfig { max_body_bytes: 1024, ..Default::default() },
        ..Default::default()
    };
    let (_dir, server) = sqlite_server(options).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let chunk = "x".repeat(1500);
    let raw = format!(
        "POST /api/sync HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n\
         {:x}\r\n{chunk}\r\n0\r\n\r\n",
        token(USER),
        chunk.len()
    );
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""code":"body_too_large""#), "{answer}");

    // And nothing was written.
    let pulled = server.sync(USER, &request(None, json!([]))).await.unwrap();
    assert!(pulled.changes.is_empty(), "{:?}", pulled.changes);
    server.stop().await;
}

#[tokio::test]
async fn only_json_bodies_are_read() {
    let (_dir, server) = sqlite_server(Options::default()).await;
    let body = profile_push("Ada").to_string();
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let (status, _, error) = error_of(post_raw(&server, content_type, &body).await).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
        assert_eq!(error["code"], "unsupported_media_type");
        assert!(error["message"].as_str().unwrap().contains("application/json"), "{error}");
    }
    let accepted = post_raw(&server, Some("Application/JSON; charset=utf-8"), &body).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    server.stop().await;
}

fn preflight(server: &TestServer, origin: &str) -> reqwest::RequestBuilder {
    server
        .client()
        .request(reqwest::Method::OPTIONS, server.url("/api/sync"))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,content-type")
}

#[tokio::test]
async fn cors_allows_listed_origins_only() {
    let app = "https://app.example";
    let http = HttpConfig { cors_origins: vec![app.parse().unwrap()], ..Default::default() };
    let (_dir, server) = sqlite_server(Options { http, ..Default::default() }).await;

    let allowed = preflight(&server, app).send().await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], app);
    assert!(headers[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap().contains("POST"));
    let allowed_headers = headers[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap();
    assert!(allowed_headers.contains("authorization") && allowed_headers.contains("content-type"));

    let other = preflight(&server, "https://evil.example").send().await.unwrap();
    assert!(other.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // An error answer carries CORS headers too, so the browser app can read why.
    let refused = server
        .client()
        .post(server.url("/api/sync"))
        .header(header::ORIGIN, app)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], app);
    server.stop().await;

    // Without any origin configured, no CORS header at all.
    let (_dir, server) = sqlite_server(Options::default()).await;
    let response = preflight(&server, app).send().await.unwrap();
    assert!(response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    server.stop().await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let (_dir, server) = sqlite_server(Options::default()).await;
    let given = server
        .client()
        .get(server.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");

    let made = server.post_sync(None, &json!({})).await;
    let id = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "a generated id is a UUID: {id}");
    server.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_error_shape() {
    let (_dir, server) = sqlite_server(Options::default()).await;
    let missing = server.client().get(server.url("/api/nope")).send().await.unwrap();
    let (status, _, error) = error_of(missing).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let wrong = server.client().get(server.url("/api/sync")).send().await.unwrap();
    let (status, _, error) = error_of(wrong).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error["code"], "method_not_allowed");
    server.stop().await;
}

/// A request whose body is still arriving when shutdown starts is served to the end; new
/// connections are refused meanwhile.
#[tokio::test]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let (_dir, server) = sqlite_server(Options::default()).await;
    let addr = server.addr;
    let body = profile_push("Ada").to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/sync HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        token(USER),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first.as_bytes()).await.unwrap();
    // Let the server read the head and start on the body before it is told to stop.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(TcpStream::connect(addr).await.is_err(), "no new connection once stopping");
    assert!(!stopping.is_finished(), "the server waits for the request in flight");

    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""rejected":[]"#), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the server stops once the request is answered")
        .unwrap();
}

/// A connection the kernel completed but the server had not accepted yet when shutdown began is
/// served, not reset: a balancer in front of a stopping instance could not tell its request from
/// one that failed half-way. This runtime has one thread, so the server task runs only at the
/// `await` of `stop`, after the request was sent and shutdown asked for.
#[tokio::test]
async fn a_connection_waiting_to_be_accepted_at_shutdown_is_served() {
    let (_dir, server) = sqlite_server(Options::default()).await;
    let body = profile_push("Ada").to_string();
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    let head = format!(
        "POST /api/sync HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        token(USER),
        body.len()
    );
    std::io::Write::write_all(&mut stream, format!("{head}{body}").as_bytes()).unwrap();
    server.stop().await;
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    let read = std::io::Read::read_to_string(&mut stream, &mut answer);
    assert!(read.is_ok(), "the request was not answered: {read:?}");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
