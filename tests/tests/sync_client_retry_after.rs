//! The Rust client honours `Retry-After` (docs/sync.md), on both stores: after a 429
//! `rate_limited` or a 503 `overloaded` that carries it, the background loop sends its next sync
//! no sooner than the answer asked, however short its own backoff, and then syncs as usual.

use std::time::Duration;

use integration_tests::client::TestClient;
use integration_tests::proxy::Proxy;
use integration_tests::server::{Options, Served};
use integration_tests::sync::{TestStore, user};
use reqwest::StatusCode;
use sync_runtime::client::RunOptions;

integration_tests::for_each_store!(the_background_loop_waits_as_long_as_retry_after_asks);

fn the_background_loop_waits_as_long_as_retry_after_asks<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let proxy = served.block_on(Proxy::start(&served.server.url("")));
    let device = TestClient::open(&proxy.url(), &user(1));
    proxy.refuse_next(StatusCode::TOO_MANY_REQUESTS, "rate_limited", 2);
    let options = RunOptions {
        debounce: Duration::from_millis(10),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        pokes: false,
    };
    let handle = served.block_on(async { device.client.start(options) });
    let status = handle.status();
    eventually("the loop's first sync fails", || status.borrow().failures == 1);
    proxy.refuse_next(StatusCode::SERVICE_UNAVAILABLE, "overloaded", 1);
    eventually("the loop syncs", || status.borrow().syncs >= 1);
    served.block_on(handle.stop());

    let arrivals = proxy.sync_arrivals();
    assert!(arrivals.len() >= 3, "a refused sync, another, then one served: {arrivals:?}");
    let waits = [arrivals[1] - arrivals[0], arrivals[2] - arrivals[1]];
    assert!(waits[0] >= Duration::from_secs(2), "retried {:?} after Retry-After: 2", waits[0]);
    assert!(waits[1] >= Duration::from_secs(1), "retried {:?} after Retry-After: 1", waits[1]);
    drop(proxy);
    served.stop();
}

/// Wait up to 20 s for `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}: not within 20 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}
