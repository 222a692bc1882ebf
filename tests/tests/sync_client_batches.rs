//! Syncs that take several requests, on both stores (docs/sync.md): an outbox larger than one push
//! reaches the server parents first, a pull of many pages converges, and a failure between two
//! pages keeps the pages applied before it and misses nothing after it; a change refused for a
//! clock too far ahead waits in the outbox without keeping the sync going.

use std::time::Duration;

use integration_tests::client::{Limits, TestClient, assert_converged, expected_on_device, sync};
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;

integration_tests::for_each_store!(
    an_outbox_larger_than_one_push_reaches_the_server_parents_first,
    a_pull_of_many_pages_converges,
    a_failure_between_pages_keeps_the_pages_before_it,
    a_change_too_far_ahead_waits_and_the_sync_ends,
);

fn insert_tunes(device: &TestClient, tunes: std::ops::RangeInclusive<u32>) {
    let user = &device.user;
    let mut sql = format!(
        "INSERT OR IGNORE INTO user_profile (id, last_modified_at) VALUES ('{user}', '{}')",
        at(1)
    );
    for n in tunes {
        sql += &format!(
            "; INSERT INTO tune (id, user_id, title, last_modified_at) \
             VALUES ('{}', '{user}', 'tune {n}', '{}')",
            id(n),
            at(1)
        );
    }
    device.execute(&sql);
}

fn an_outbox_larger_than_one_push_reaches_the_server_parents_first<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let url = served.server.url("");
    let small = Limits { push_batch: 2, ..Limits::default() };
    let (a, b) = (TestClient::open_with(&url, &me, small), TestClient::open(&url, &me));
    // Each child is written before its parent's last edit, so in write order alone a push of two
    // entries would send a child whose parent the server does not have yet.
    insert_tunes(&a, 1..=1);
    let (tune, repertoire) = (id(1), id(2));
    a.execute(&format!(
        "INSERT INTO note (id, user_id, tune_id, body, last_modified_at) \
           VALUES ('{}', '{me}', '{tune}', 'a note', '{at1}');
         INSERT INTO practice_record (id, user_id, tune_id, practiced, quality, last_modified_at) \
           VALUES ('{}', '{me}', '{tune}', '{at1}', 4, '{at1}');
         INSERT INTO repertoire (id, user_id, name, last_modified_at) \
           VALUES ('{repertoire}', '{me}', 'session', '{at1}');
         INSERT INTO repertoire_tune (repertoire_id, tune_id, last_modified_at) \
           VALUES ('{repertoire}', '{tune}', '{at1}');
         UPDATE tune SET title = 'renamed', last_modified_at = '{at2}';
         UPDATE repertoire SET instrument = 'fiddle', last_modified_at = '{at2}';
         UPDATE user_profile SET display_name = 'Player', last_modified_at = '{at2}'",
        id(3),
        id(4),
        at1 = at(1),
        at2 = at(2)
    ));
    assert_eq!(a.outbox_len(), 6);
    let report = sync(&served, &a);
    assert_eq!((report.pushed, report.rejected), (6, 0));
    assert!(report.requests >= 3, "two entries per request: {report:?}");
    sync(&served, &b);
    assert_converged(&served, &[&a, &b]);
    served.stop();
}

fn a_pull_of_many_pages_converges<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let url = served.server.url("");
    let small = Limits { page_size: Some(4), ..Limits::default() };
    let (a, b) = (TestClient::open(&url, &me), TestClient::open_with(&url, &me, small));
    insert_tunes(&a, 1..=25);
    sync(&served, &a);
    let report = sync(&served, &b);
    assert!(report.requests >= 7, "26 rows in pages of 4: {report:?}");
    assert_eq!(report.applied.stored, 26, "every row of A, once");
    assert_converged(&served, &[&a, &b]);
    served.stop();
}

fn a_failure_between_pages_keeps_the_pages_before_it<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let url = served.server.url("");
    let small = Limits { page_size: Some(4), ..Limits::default() };
    let (a, b) = (TestClient::open(&url, &me), TestClient::open_with(&url, &me, small));
    insert_tunes(&a, 1..=25);
    sync(&served, &a);
    // The third page fails where its cursor is stored, as a crash there would.
    b.client.with_db(|conn| {
        conn.execute_batch(
            "CREATE TEMP TABLE pages (n INTEGER);
             CREATE TEMP TRIGGER count_pages AFTER UPDATE OF cursor ON main._sync_client
             BEGIN INSERT INTO pages VALUES (1); END;
             CREATE TEMP TRIGGER crash_at_third_page BEFORE UPDATE OF cursor ON main._sync_client
             WHEN (SELECT count(*) FROM pages) = 2
             BEGIN SELECT RAISE(ABORT, 'crashed at the third page'); END",
        )
        .expect("install the failing trigger")
    });
    served.settle();
    let failed = served.block_on(b.client.sync_once()).expect_err("the third page fails");
    assert!(failed.to_string().contains("crashed at the third page"), "{failed}");
    let held = b.rows();
    assert_eq!(held.len(), 8, "the rows of two pages: {held:?}");
    let expected = expected_on_device(served.snapshot().readable_by(&me));
    for (place, row) in &held {
        assert_eq!(expected.get(place), Some(row), "{place:?} as the server has it");
    }

    let b = b.reopen();
    let report = sync(&served, &b);
    assert_eq!(report.applied.stored, 26 - 8, "the pages after the failure");
    assert_converged(&served, &[&a, &b]);
    served.stop();
}

fn a_change_too_far_ahead_waits_and_the_sync_ends<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let small = Limits { push_batch: 2, ..Limits::default() };
    let a = TestClient::open_with(&served.server.url(""), &me, small);
    insert_tunes(&a, 1..=2);
    sync(&served, &a);
    // Tune 1's time is an hour ahead of the server's clock, tune 2's is not.
    let ahead = from_now(chrono::Duration::hours(1));
    for (n, at) in [(1, ahead.as_str()), (2, &at(2))] {
        a.execute(&format!(
            "UPDATE tune SET title = 'edited', last_modified_at = '{at}' WHERE id = '{}'",
            id(n)
        ));
    }
    for _ in 0..2 {
        served.settle();
        let sync =
            async { tokio::time::timeout(Duration::from_secs(10), a.client.sync_once()).await };
        let report = served.block_on(sync).expect("the sync ends").expect("the sync succeeds");
        assert!(report.requests <= 2, "the sync stops pushing tune 1 again: {report:?}");
        assert_eq!(report.rejected, report.requests, "tune 1 is refused for its clock");
        assert_eq!(a.outbox_len(), 1, "and waits to be sent again");
    }
    let title = |n| {
        served.snapshot().row("tune", serde_json::json!({ "id": id(n) })).unwrap()["title"].clone()
    };
    assert_eq!((title(1), title(2)), ("tune 1".into(), "edited".into()));
    served.stop();
}
