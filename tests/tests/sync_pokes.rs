//! Server pokes end to end (docs/sync.md), on a real server on loopback over both stores: a push
//! that writes pokes the user's devices through `GET /api/events` within a second, one that
//! writes nothing pokes no one, another user hears nothing; on Postgres a push through one server
//! instance pokes a device connected to another, and the listener survives losing its
//! connection; the stream refuses bad tokens like `POST /api/sync`, CORS lets browsers in, and a
//! shutdown ends open streams at once.

use std::time::{Duration, Instant};

use integration_tests::pg::TestDb;
use integration_tests::server::{Options, SCHEMA, Served, TestServer, pg_store, runtime, token};
use integration_tests::sync::{Ddl, Schema, TestStore, at, device_id, id, profile, tune, user};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderValue};
use serde_json::{Value, json};
use sync_runtime::pokes::{PokeError, PokeEvent, PokeStream};
use sync_runtime::server::HttpConfig;
use uuid::Uuid;

integration_tests::for_each_store!(
    a_write_pokes_the_users_devices_and_no_one_else,
    a_push_that_writes_nothing_pokes_no_one,
    events_refuse_missing_and_bad_tokens,
    browsers_may_open_the_stream_from_an_allowed_origin,
    shutdown_ends_open_event_streams,
);

/// How long a poke may take to arrive.
const POKE_WITHIN: Duration = Duration::from_secs(1);

/// How long a test waits to be sure no poke comes.
const QUIET_FOR: Duration = Duration::from_millis(300);

/// A sync request from device `device` pushing `changes`, with no cursor.
fn push(device: u32, changes: Vec<Value>) -> Value {
    json!({
        "schema_version": SCHEMA.version,
        "client_id": device_id(device),
        "cursor": null,
        "changes": changes,
    })
}

fn device(n: u32) -> Uuid {
    device_id(n).parse().expect("a device id is a UUID")
}

/// The event stream of `user` on `server`.
async fn subscribe(server: &TestServer, user: &str) -> PokeStream {
    PokeStream::connect(server.client(), &server.url("/api/events"), &token(user))
        .await
        .unwrap_or_else(|e| panic!("cannot subscribe as {user}: {e}"))
}

/// The next poke of `stream`, which must come within [`POKE_WITHIN`].
async fn poked(stream: &mut PokeStream, what: &str) -> PokeEvent {
    match tokio::time::timeout(POKE_WITHIN, stream.next()).await {
        Ok(Some(Ok(poke))) => poke,
        Ok(Some(Err(error))) => panic!("{what}: the event stream failed: {error}"),
        Ok(None) => panic!("{what}: the event stream ended"),
        Err(_) => panic!("{what}: no poke within {POKE_WITHIN:?}"),
    }
}

/// Fail if `stream` yields anything within [`QUIET_FOR`].
async fn quiet(stream: &mut PokeStream, what: &str) {
    if let Ok(got) = tokio::time::timeout(QUIET_FOR, stream.next()).await {
        panic!("{what}: expected no poke, got {got:?}");
    }
}

fn a_write_pokes_the_users_devices_and_no_one_else<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let server = &served.server;
    let (me, other) = (user(1), user(2));
    served.block_on(async {
        let mut mine = subscribe(server, &me).await;
        let mut own = subscribe(server, &me).await;
        let mut theirs = subscribe(server, &other).await;

        let changes = vec![profile(&me, &at(0)), tune(&id(1), &me, "The Kesh", &at(1))];
        server.sync(&me, &push(1, changes)).await.expect("the push is accepted");
        let poke = poked(&mut mine, "another device of the writer").await;
        assert_eq!(poke, PokeEvent { client_id: Some(device(1)) });
        assert!(poke.concerns(device(2)), "device 2 must sync on device 1's poke");
        // The writing device hears its own poke, and can tell that it is its own.
        let poke = poked(&mut own, "the writing device").await;
        assert!(!poke.concerns(device(1)), "device 1 need not sync on its own poke");

        // An update pokes too.
        server
            .sync(&me, &push(2, vec![tune(&id(1), &me, "The Kesh Jig", &at(2))]))
            .await
            .expect("the update is accepted");
        assert_eq!(poked(&mut mine, "an update").await.client_id, Some(device(2)));
        quiet(&mut theirs, "a subscriber of another user").await;
    });
    served.stop();
}

fn a_push_that_writes_nothing_pokes_no_one<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let server = &served.server;
    let me = user(1);
    served.block_on(async {
        let mut stream = subscribe(server, &me).await;
        let changes = vec![profile(&me, &at(0)), tune(&id(1), &me, "The Kesh", &at(5))];
        server.sync(&me, &push(1, changes.clone())).await.expect("the push is accepted");
        // Pokes travel on their own, after the answer: take this push's before going on.
        poked(&mut stream, "the first push").await;

        // A lost acknowledgement: the same changes again change nothing.
        server.sync(&me, &push(1, changes)).await.expect("the resend is accepted");
        // A pull, and a stale change the server rejects, write nothing either.
        server.sync(&me, &push(2, vec![])).await.expect("the pull is accepted");
        let stale = server
            .sync(&me, &push(2, vec![tune(&id(1), &me, "older", &at(4))]))
            .await
            .expect("the stale push is answered");
        assert_eq!(stale.rejected.len(), 1, "{:?}", stale.rejected);
        quiet(&mut stream, "pushes that wrote nothing").await;
    });
    served.stop();
}

fn events_refuse_missing_and_bad_tokens<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let server = &served.server;
    let url = server.url("/api/events");
    served.block_on(async {
        let response = server.client().get(&url).send().await.expect("the server answers");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let body: Value = response.json().await.expect("a JSON error body");
        assert_eq!(body["error"]["code"], "missing_authorization", "{body}");

        for bad in ["not-a-jwt", &token(&user(1))[..40]] {
            let error = PokeStream::connect(server.client(), &url, bad)
                .await
                .expect_err("a bad token is refused");
            let PokeError::Status { status, body, .. } = &error else {
                panic!("expected a refusal, got {error}");
            };
            assert_eq!(*status, StatusCode::UNAUTHORIZED, "{error}");
            assert!(body.contains("\"error\""), "{error}");
            assert!(error.to_string().contains("401"), "the message names the status: {error}");
        }
        let error = PokeStream::connect(server.client(), &server.url("/healthz"), "any")
            .await
            .expect_err("not an event stream");
        assert!(matches!(error, PokeError::NotEventStream { .. }), "{error}");
        assert!(error.to_string().contains("application/json"), "{error}");
    });
    served.stop();
}

fn browsers_may_open_the_stream_from_an_allowed_origin<S: TestStore>() {
    let origin = "http://localhost:5173";
    let http =
        HttpConfig { cors_origins: vec![HeaderValue::from_static(origin)], ..Default::default() };
    let served = Served::start::<S>(Options { http, ..Options::default() });
    let server = &served.server;
    let url = server.url("/api/events");
    served.block_on(async {
        let preflight = server
            .client()
            .request(reqwest::Method::OPTIONS, &url)
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .send()
            .await
            .expect("the server answers the preflight");
        assert!(preflight.status().is_success(), "{}", preflight.status());
        let headers = preflight.headers();
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], origin);
        assert!(headers[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap().contains("GET"));

        let response = server
            .client()
            .get(&url)
            .bearer_auth(token(&user(1)))
            .header(header::ORIGIN, origin)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], origin);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .contains("text/event-stream")
        );
    });
    served.stop();
}

fn shutdown_ends_open_event_streams<S: TestStore>() {
    let rt = runtime();
    let ir = integration_tests::example_schema();
    let ddl = Ddl::of(&ir);
    let (store, db) = S::create(&rt, &Schema { meta: SCHEMA, ir }, &ddl);
    rt.block_on(async {
        let server = TestServer::start(store, Options::default()).await;
        let mut stream = subscribe(&server, &user(1)).await;
        let limit = Duration::from_secs(2);
        if tokio::time::timeout(limit, server.stop()).await.is_err() {
            panic!("the shutdown waited more than {limit:?} for an open event stream");
        }
        let end = tokio::time::timeout(POKE_WITHIN, stream.next()).await;
        assert!(
            matches!(end, Ok(None | Some(Err(PokeError::Read { .. })))),
            "the stream should have ended, got {end:?}"
        );
    });
    drop(rt);
    drop(db);
}

/// Two server instances over one Postgres database, like two replicas behind a load balancer.
struct TwoInstances {
    rt: tokio::runtime::Runtime,
    first: TestServer,
    second: TestServer,
    db: TestDb,
}

impl TwoInstances {
    fn start() -> TwoInstances {
        let mut db = TestDb::new();
        let (_, ddl) = integration_tests::ddl(&integration_tests::example_schema());
        db.batch_execute(&ddl).expect("apply the Postgres DDL");
        let rt = runtime();
        let url = db.url();
        let (first, second) = rt.block_on(async {
            let first = TestServer::start(pg_store(&url).await, Options::default()).await;
            let second = TestServer::start(pg_store(&url).await, Options::default()).await;
            (first, second)
        });
        TwoInstances { rt, first, second, db }
    }

    fn stop(self) {
        let TwoInstances { rt, first, second, db } = self;
        rt.block_on(async {
            first.stop().await;
            second.stop().await;
        });
        // The listeners stop with their stores, before the database is dropped.
        drop(rt);
        drop(db);
    }
}

#[test]
fn postgres_a_push_through_one_instance_pokes_devices_on_another() {
    let servers = TwoInstances::start();
    let me = user(1);
    servers.rt.block_on(async {
        let mut on_second = subscribe(&servers.second, &me).await;
        let mut on_first = subscribe(&servers.first, &me).await;
        let changes = vec![profile(&me, &at(0)), tune(&id(1), &me, "The Kesh", &at(1))];
        servers.first.sync(&me, &push(1, changes)).await.expect("the push is accepted");
        assert_eq!(poked(&mut on_second, "the other instance").await.client_id, Some(device(1)));
        assert_eq!(poked(&mut on_first, "the same instance").await.client_id, Some(device(1)));
        // One NOTIFY, heard once by each instance.
        quiet(&mut on_second, "after the one poke").await;
    });
    servers.stop();
}

/// The backend pid of the poke listener of the test's database other than `except`, once it has
/// run LISTEN.
fn listener_pid(db: &mut TestDb, except: Option<i32>) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = db
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = 'sync-poke-listener' AND query = 'LISTEN _sync_poke' \
                 AND state = 'idle'",
                &[],
            )
            .expect("read pg_stat_activity");
        let pids: Vec<i32> = rows.iter().map(|r| r.get(0)).filter(|p| Some(*p) != except).collect();
        if let [pid] = pids.as_slice() {
            return *pid;
        }
        assert!(Instant::now() < deadline, "no poke listener is listening: {pids:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn postgres_the_listener_reconnects_after_losing_its_connection() {
    let mut db = TestDb::new();
    let (_, ddl) = integration_tests::ddl(&integration_tests::example_schema());
    db.batch_execute(&ddl).expect("apply the Postgres DDL");
    let rt = runtime();
    let url = db.url();
    let server =
        rt.block_on(async { TestServer::start(pg_store(&url).await, Options::default()).await });

    let old = listener_pid(&mut db, None);
    db.execute("SELECT pg_terminate_backend($1)", &[&old]).expect("end the listener's session");
    listener_pid(&mut db, Some(old));

    let me = user(1);
    rt.block_on(async {
        let mut stream = subscribe(&server, &me).await;
        server.sync(&me, &push(1, vec![profile(&me, &at(0))])).await.expect("the push is accepted");
        let poke = poked(&mut stream, "after the listener reconnected").await;
        assert_eq!(poke.client_id, Some(device(1)));
        server.stop().await;
    });
    drop(rt);
    drop(db);
}
