//! The server's limits on slow and greedy clients (docs/server.md, "Connections and limits"), on
//! both stores: connections trickling their request heads are cut by the header read timeout
//! while other clients are served, and a server under a low descriptor limit never runs out of
//! descriptors; a body trickled past the body read timeout is refused; a sync over the cap of
//! requests in flight is answered 503 `overloaded`, and a user over the per-user limit 429
//! `rate_limited`, each with `Retry-After`, while other users and `/healthz` are served; a
//! client that stops reading a large pull answer has its connection closed by the write timeout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use integration_tests::server::{Answer, Options, Served, request, runtime, token};
use integration_tests::server_process::{self, ServerProcess};
use integration_tests::sync::{TestStore, device_id, profile, upsert, user};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sync_runtime::server::{HttpConfig, Limits, UserRate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

integration_tests::for_each_store!(
    slow_clients_are_cut_while_others_are_served,
    a_sync_over_the_cap_in_flight_is_answered_overloaded,
    a_user_over_the_limit_waits_while_others_are_served,
    a_client_that_stops_reading_is_cut_by_the_write_timeout,
);

/// The descriptor limit the slow-client test runs the server under.
const DESCRIPTORS: u32 = 256;
/// More connections than the server has descriptors.
const SLOW_CLIENTS: usize = 300;
/// The header read timeout of that test, in seconds.
const HEADER_TIMEOUT: u64 = 2;

fn slow_clients_are_cut_while_others_are_served<S: TestStore>() {
    let rt = runtime();
    let (_db, url) = server_process::database::<S>(&rt);
    let timeout = HEADER_TIMEOUT.to_string();
    let args = ["--header-read-timeout", &timeout];
    let mut server = ServerProcess::start(&url, &args, Some(DESCRIPTORS));
    let addr = server.addr;
    let (served, cuts) = rt.block_on(async {
        let slow: Vec<_> = (0..SLOW_CLIENTS).map(|_| tokio::spawn(trickle(addr))).collect();
        // Every connection slot is taken by now, and more slow clients wait in the backlog.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let http = reqwest::Client::new();
        let health = http.get(server.url("/healthz")).send();
        let sync = http
            .post(server.url("/api/sync"))
            .bearer_auth(token(&user(1)))
            .json(&request(None, json!([])))
            .send();
        let started = Instant::now();
        let (health, sync) = tokio::join!(health, sync);
        let served = (health.map(|r| r.status()), sync.map(|r| r.status()), started.elapsed());
        let mut cuts = Vec::new();
        for client in slow {
            cuts.push(client.await.expect("a slow client's task ends"));
        }
        (served, cuts)
    });
    let log = server.log();
    let (health, sync, waited) = served;
    assert_eq!(health.expect("/healthz answers"), StatusCode::OK, "{log}");
    assert_eq!(sync.expect("the sync answers"), StatusCode::OK, "{log}");
    let timeout = Duration::from_secs(HEADER_TIMEOUT);
    // They waited in the backlog behind the slow clients until the first were cut.
    assert!(waited < 3 * timeout, "served after {waited:?}");
    let slowest = cuts.iter().max().expect("slow clients");
    let fastest = cuts.iter().min().expect("slow clients");
    assert!(*fastest >= timeout - Duration::from_millis(200), "cut after {fastest:?} already");
    assert!(*slowest < 4 * timeout, "a slow client was held {slowest:?}");
    assert!(server.is_running(), "{log}");
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(log.contains(&format!("the descriptor limit (ulimit -n) is {DESCRIPTORS}")), "{log}");
    let http = reqwest::Client::new();
    let health = rt.block_on(http.get(server.url("/healthz")).send()).expect("/healthz answers");
    assert_eq!(health.status(), StatusCode::OK);
}

/// Open a connection and send a request head a byte at a time, never finishing it; how long
/// the server kept the connection open. Fails after 30 s.
async fn trickle(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect to the server");
    let head = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ");
    stream.write_all(head.as_bytes()).await.expect("send the start of a head");
    let mut buffer = [0; 1024];
    loop {
        assert!(started.elapsed() < Duration::from_secs(30), "not cut within 30 s");
        tokio::select! {
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            },
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if stream.write_all(b"x").await.is_err() {
                    return started.elapsed();
                }
            }
        }
    }
}

/// A server of store `S` with `limits`.
fn served<S: TestStore>(limits: Limits) -> Served {
    Served::start::<S>(Options {
        http: HttpConfig { limits, ..Default::default() },
        ..Default::default()
    })
}

fn a_sync_over_the_cap_in_flight_is_answered_overloaded<S: TestStore>() {
    let limits = Limits {
        max_in_flight: 1,
        body_read_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let served = served::<S>(limits);
    // A sync whose body trickles in holds the one slot.
    let mut slow = TcpStream::connect(served.server.addr).expect("connect to the server");
    write!(
        slow,
        "POST /api/sync HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{",
        token(&user(1))
    )
    .expect("send the head and a byte");
    std::thread::sleep(Duration::from_millis(300));

    let answer = served.sync_as(&user(2), &device_id(2), &Value::Null, vec![]);
    assert_refused(&answer, StatusCode::SERVICE_UNAVAILABLE, "overloaded", "1");
    let health = served.block_on(served.server.client().get(served.server.url("/healthz")).send());
    assert_eq!(health.expect("/healthz answers").status(), StatusCode::OK);

    // The trickled body is refused at the body read timeout, which frees the slot.
    slow.set_read_timeout(Some(Duration::from_secs(10))).expect("a read timeout");
    let mut refusal = String::new();
    let _ = slow.read_to_string(&mut refusal);
    assert!(refusal.starts_with("HTTP/1.1 400"), "{refusal}");
    assert!(refusal.contains("body_unreadable") && refusal.contains("within 2 s"), "{refusal}");
    let answer = served.sync_as(&user(2), &device_id(2), &Value::Null, vec![]);
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    served.stop();
}

fn a_user_over_the_limit_waits_while_others_are_served<S: TestStore>() {
    let rate = UserRate { per_second: NonZeroU32::MIN, burst: NonZeroU32::new(2).unwrap() };
    let served = served::<S>(Limits { per_user: Some(rate), ..Default::default() });
    let sync = |n| served.sync_as(&user(n), &device_id(n), &Value::Null, vec![]);
    for _ in 0..2 {
        assert_eq!(sync(1).status, StatusCode::OK);
    }
    let refused = sync(1);
    assert_refused(&refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited", "1");
    assert_eq!(sync(2).status, StatusCode::OK, "another user is served");
    for _ in 0..5 {
        let health =
            served.block_on(served.server.client().get(served.server.url("/healthz")).send());
        assert_eq!(health.expect("/healthz answers").status(), StatusCode::OK);
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(sync(1).status, StatusCode::OK, "served again after Retry-After");
    served.stop();
}

/// `answer` is a refusal with `status`, `code` and `Retry-After: <retry_after>`.
fn assert_refused(answer: &Answer, status: StatusCode, code: &str, retry_after: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], code, "{}", answer.body);
    let header = answer.headers.get(reqwest::header::RETRY_AFTER).map(|v| v.to_str().unwrap());
    assert_eq!(header, Some(retry_after), "{}", answer.body);
}

/// The write timeout of that test.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

fn a_client_that_stops_reading_is_cut_by_the_write_timeout<S: TestStore>() {
    let served = Served::start::<S>(Options {
        // One page for the whole pull, larger than any socket buffers can hold.
        engine: sync_runtime::engine::Config { max_page_bytes: 1 << 30, ..Default::default() },
        http: HttpConfig {
            limits: Limits { write_timeout: WRITE_TIMEOUT, ..Default::default() },
            ..Default::default()
        },
        ..Default::default()
    });
    let me = user(1);
    let at = "2026-01-01T00:00:00Z";
    served.push_as(&me, &device_id(1), vec![profile(&me, at)]);
    // 40 tunes of 400 KB: a 16 MB answer.
    let long = "x".repeat(400_000);
    for batch in 0..4 {
        let tunes = (0..10).map(|n| {
            let id = format!("00000000-0000-4000-a000-{:012}", batch * 10 + n);
            upsert("tune", json!({ "id": id, "user_id": me, "title": "t", "incipit": long, "last_modified_at": at }))
        });
        served.push_as(&me, &device_id(1), tunes.collect());
    }
    served.settle();
    let body = request(None, json!([])).to_string();
    let addr = served.server.addr;
    let (taken, took) = served.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("a small receive buffer");
        let mut stream = socket.connect(addr).await.expect("connect to the server");
        let head = format!(
            "POST /api/sync HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            token(&me),
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("send the pull");
        // Once the answer has begun, take nothing for a while: the server's writes stall.
        let mut first = [0; 1];
        stream.peek(&mut first).await.expect("the answer begins");
        let stalled = Instant::now();
        tokio::time::sleep(3 * WRITE_TIMEOUT).await;
        // Then read what the buffers hold, up to the close.
        let mut taken = Vec::new();
        let mut buffer = vec![0; 1 << 16];
        loop {
            let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer));
            match read.await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => taken.extend_from_slice(&buffer[..n]),
                Err(_) => panic!(
                    "the connection stays open after {} bytes, ending {:?}",
                    taken.len(),
                    String::from_utf8_lossy(&taken[taken.len().saturating_sub(40)..])
                ),
            }
        }
        (taken, stalled.elapsed())
    });
    assert!(taken.starts_with(b"HTTP/1.1 200"), "the answer began");
    assert!(taken.len() < 16_000_000, "the whole answer was not sent: {} bytes", taken.len());
    assert!(!taken.ends_with(b"0\r\n\r\n"), "the chunked answer did not end");
    assert!(took < Duration::from_secs(15), "closed after {took:?}");
    // The server goes on serving.
    served.push_as(&me, &device_id(1), vec![]);
    served.stop();
}
