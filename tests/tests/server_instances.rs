//! Several `sync-server` processes on one Postgres (docs/server.md, Several instances): a device
//! listening on instance B is poked by a push through instance A, and a rolling restart of both
//! instances (SIGTERM, a new process, the next) under clients syncing without pause through a
//! round-robin balancer loses no change, and no client meets an error other than a 503 with
//! `Retry-After`, which its sync loop waits out and retries.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use integration_tests::client::TestClient;
use integration_tests::instances::{Balancer, Instance};
use integration_tests::pg::TestDb;
use integration_tests::server::{SCHEMA, runtime, token};
use integration_tests::sync::{Ddl, at, id, profile, tune, user};
use reqwest::StatusCode;
use serde_json::json;
use sync_runtime::client::ClientError;
use sync_runtime::pokes::PokeStream;

/// How long a poke may take to cross from one instance to another (through Postgres' NOTIFY).
const POKE_WITHIN: Duration = Duration::from_secs(2);

/// A fresh database holding the example schema's tables.
fn database() -> TestDb {
    let mut db = TestDb::new();
    let ddl = Ddl::of(&integration_tests::example_schema());
    db.batch_execute(&ddl.postgres).expect("apply the Postgres DDL");
    db
}

#[test]
fn a_push_through_one_instance_pokes_a_device_on_another() {
    let db = database();
    let rt = runtime();
    let me = user(1);
    rt.block_on(async {
        let (a, b) = (Instance::start(&db.url()).await, Instance::start(&db.url()).await);
        let http = reqwest::Client::new();
        let events = format!("{}/api/events", b.base);
        let mut stream = PokeStream::connect(&http, &events, &token(&me)).await.expect("subscribe");
        let body = json!({
            "schema_version": SCHEMA.version,
            "client_id": uuid::Uuid::new_v4(),
            "cursor": null,
            "changes": [profile(&me, &at(0)), tune(&id(1), &me, "The Kesh", &at(1))],
        });
        let pushed = http
            .post(format!("{}/api/sync", a.base))
            .bearer_auth(token(&me))
            .json(&body)
            .send()
            .await
            .expect("instance A answers");
        assert_eq!(pushed.status(), StatusCode::OK);
        match tokio::time::timeout(POKE_WITHIN, stream.next()).await {
            Ok(Some(Ok(_))) => {}
            other => panic!("no poke on instance B within {POKE_WITHIN:?}: {other:?}"),
        }
        assert!(a.terminate().success(), "instance A stops cleanly on SIGTERM");
        assert!(b.terminate().success(), "instance B stops cleanly with a stream open");
    });
}

/// What one device did while the instances restarted.
#[derive(Debug, Default)]
struct Record {
    /// The ids of the tunes it wrote.
    written: Vec<String>,
    /// Syncs that completed.
    syncs: usize,
    /// 503 answers with `Retry-After`, waited out and retried.
    retried: usize,
    /// Any other failure: none is allowed.
    failures: Vec<String>,
}

#[test]
fn a_rolling_restart_loses_no_change() {
    let mut db = database();
    let rt = runtime();
    let users = [user(1), user(2)];
    rt.block_on(async {
        let a = Instance::start(&db.url()).await;
        let b = Instance::start(&db.url()).await;
        let balancer = Balancer::start(vec![a.base.clone(), b.base.clone()]).await;
        let devices: Vec<TestClient> =
            (0..4).map(|n| TestClient::open(&balancer.url(), &users[n % 2])).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = devices
            .into_iter()
            .enumerate()
            .map(|(n, device)| tokio::spawn(keep_syncing(n, device, Arc::clone(&stop))))
            .collect();

        // Each instance in turn: SIGTERM while the balancer still sends to it, its successor
        // started on another port, the balancer told.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(a.terminate().success(), "instance A stops cleanly under load");
        let a2 = Instance::start(&db.url()).await;
        balancer.set_upstreams(vec![a2.base.clone(), b.base.clone()]);
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(b.terminate().success(), "instance B stops cleanly under load");
        let b2 = Instance::start(&db.url()).await;
        balancer.set_upstreams(vec![a2.base.clone(), b2.base.clone()]);
        tokio::time::sleep(Duration::from_millis(800)).await;
        stop.store(true, Ordering::Relaxed);

        let mut done = Vec::new();
        for task in tasks {
            done.push(task.await.expect("a device's task"));
        }
        for (n, (_, record)) in done.iter().enumerate() {
            assert_eq!(record.failures, Vec::<String>::new(), "device {n}'s failures");
            assert!(record.syncs > 3, "device {n} kept syncing: {record:?}");
        }
        // Two quiet rounds: every device pushes what it has left, then pulls everything.
        for _ in 0..2 {
            for (device, _) in &done {
                device.client.sync_once().await.expect("a quiet sync");
            }
        }
        for (n, (device, record)) in done.iter().enumerate() {
            assert_eq!(device.outbox_len(), 0, "device {n} has pushed everything");
            let holds = tune_ids(device);
            for (m, (other, theirs)) in done.iter().enumerate() {
                if other.user == device.user {
                    let missing: Vec<&String> =
                        theirs.written.iter().filter(|t| !holds.contains(*t)).collect();
                    assert!(
                        missing.is_empty(),
                        "device {n} lacks tunes of device {m}: {missing:?}"
                    );
                }
            }
            eprintln!(
                "device {n}: {} tunes, {} syncs, {} retried",
                record.written.len(),
                record.syncs,
                record.retried
            );
        }
        assert!(a2.terminate().success());
        assert!(b2.terminate().success());
    });
    let stored: i64 = db.query_one("SELECT count(*) FROM tune", &[]).expect("count").get(0);
    assert!(stored > 0, "tunes were written");
}

/// Write a tune and sync, again and again until `stop`; a 503 with `Retry-After` is waited out
/// as the client's sync loop does, anything else is recorded as a failure.
async fn keep_syncing(n: usize, device: TestClient, stop: Arc<AtomicBool>) -> (TestClient, Record) {
    let mut record = Record::default();
    let user = device.user.clone();
    device.execute(&format!(
        "INSERT OR IGNORE INTO user_profile (id, last_modified_at) VALUES ('{user}', '{}')",
        at(0)
    ));
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let tune = uuid::Uuid::new_v4().to_string();
        device.execute(&format!(
            "INSERT INTO tune (id, user_id, title, last_modified_at) \
             VALUES ('{tune}', '{user}', 'tune {n}.{i}', '{}')",
            at(i)
        ));
        record.written.push(tune);
        i += 1;
        match device.client.sync_once().await {
            Ok(_) => record.syncs += 1,
            Err(ClientError::Refused { status: 503, retry_after: Some(wait), .. }) => {
                record.retried += 1;
                tokio::time::sleep(wait).await;
            }
            Err(error) => record.failures.push(error.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (device, record)
}

/// The ids of the tunes `device` holds.
fn tune_ids(device: &TestClient) -> BTreeSet<String> {
    device.client.with_db(|conn| {
        let mut statement = conn.prepare("SELECT id FROM tune").expect("select tunes");
        let ids = statement.query_map([], |row| row.get::<_, String>(0)).expect("read tunes");
        ids.collect::<Result<_, _>>().expect("tune ids")
    })
}
