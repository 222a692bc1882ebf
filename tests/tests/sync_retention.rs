//! Tombstone retention on both stores (docs/server.md): tombstones are pruned in batches, a
//! request whose cursor is older than the history kept is answered 410 `resync_required` and
//! writes nothing, and the Rust client then pulls everything again: it keeps its pending edits,
//! drops the rows deleted on the server meanwhile, and converges (its background loop's status
//! counting the resync); a device that synced after the deletions is not affected. A pull from
//! a null cursor pages through rows older than the pruned point unless a prune happens between
//! its pages (cursors carry the prune count).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use integration_tests::client::{Limits, TestClient, assert_converged, sync};
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;
use sync_runtime::client::RunOptions;

integration_tests::for_each_store!(
    tombstones_are_pruned_in_batches_of_the_size_asked,
    an_old_cursor_is_answered_410_and_nothing_of_the_request_is_written,
    a_device_behind_the_pruned_history_resyncs_keeping_its_pending_edits,
    a_resync_of_many_small_pages_below_the_pruned_point_converges,
    a_prune_between_two_pages_of_a_pull_answers_the_next_page_410,
);

/// The user's profile and tunes `1..=n`, as the admin writes them.
fn tunes(served: &Served, me: &str, n: u32) {
    let at1 = at(1);
    let mut sql =
        format!("INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{at1}')");
    for i in 1..=n {
        sql += &format!(
            "; INSERT INTO tune (id, user_id, title, last_modified_at) \
               VALUES ('{}', '{me}', 'tune {i}', '{at1}')",
            id(i)
        );
    }
    served.database().execute(&sql);
}

/// Remove tunes `ids` by an admin's SQL, which leaves a tombstone each, and let time pass so
/// that a prune of everything older than now takes them (the embedded store's clock counts
/// milliseconds).
fn remove(served: &Served, ids: &[u32]) {
    let list: Vec<String> = ids.iter().map(|&n| format!("'{}'", id(n))).collect();
    served.database().execute(&format!("DELETE FROM tune WHERE id IN ({})", list.join(", ")));
    std::thread::sleep(Duration::from_millis(5));
    served.settle();
}

fn tombstones_are_pruned_in_batches_of_the_size_asked<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    tunes(&served, &user(1), 5);
    remove(&served, &[1, 2, 3, 4, 5]);
    assert_eq!(served.prune(Duration::from_secs(3600), 2), 0, "none is an hour old");
    let batches: Vec<usize> = (0..4).map(|_| served.prune(Duration::ZERO, 2)).collect();
    assert_eq!(batches, [2, 2, 1, 0]);
    served.stop();
}

fn an_old_cursor_is_answered_410_and_nothing_of_the_request_is_written<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    tunes(&served, &me, 2);
    let (_, old) = served.pull_as(&me, &device_id(1), Value::Null);
    remove(&served, &[1]);
    let (_, current) = served.pull_as(&me, &device_id(2), old.clone());
    assert_eq!(served.prune(Duration::ZERO, 100), 1);

    let before = served.snapshot();
    let edit = json!({ "table": "tune", "op": "upsert", "row": {
        "id": id(2), "user_id": me, "title": "edited", "last_modified_at": at(2) } });
    let answer = served.sync_as(&me, &device_id(1), &old, vec![edit.clone()]);
    assert_eq!(answer.status, StatusCode::GONE, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "resync_required", "{}", answer.body);
    served.assert_unchanged(&before, "a request refused with resync_required");

    // A device whose cursor is past the pruned deletions syncs as before; a full pull works.
    let answer = served.sync_as(&me, &device_id(2), &current, vec![edit]);
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let (changes, _) = served.pull_as(&me, &device_id(1), Value::Null);
    assert!(changes.iter().all(|c| c["row"]["id"] != json!(id(1))), "tune 1 is gone");
    served.stop();
}

fn has(device: &TestClient, n: u32) -> Option<Value> {
    device
        .rows()
        .into_iter()
        .find(|((t, _), row)| t == "tune" && row["id"] == id(n))
        .map(|(_, row)| row["title"].clone())
}

fn a_device_behind_the_pruned_history_resyncs_keeping_its_pending_edits<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    tunes(&served, &me, 4);
    // B pulls a page at a time, so its resync spans several requests.
    let small = Limits { page_size: Some(3), ..Limits::default() };
    let (a, b) = (TestClient::open(&served.server.url(""), &me), {
        TestClient::open_with(&served.server.url(""), &me, small)
    });
    // C syncs only through the background loop, from the deletions' pruning on.
    let c = TestClient::open(&served.server.url(""), &me);
    sync(&served, &a);
    sync(&served, &b);
    sync(&served, &c);

    // B edits offline: tune 2 retitled, tune 5 new. Meanwhile the admin removes tune 3, A hears
    // of it, and the server prunes the tombstone.
    b.execute(&format!(
        "UPDATE tune SET title = 'edited by B', last_modified_at = '{}' WHERE id = '{}'; \
         INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{me}', 'new on B', '{}')",
        at(2),
        id(2),
        id(5),
        at(2)
    ));
    remove(&served, &[3]);
    assert_eq!(sync(&served, &a).resyncs, 0);
    assert_eq!(has(&a, 3), None, "A pulled the deletion");
    assert_eq!(served.prune(Duration::ZERO, 100), 1);

    let report = sync(&served, &b);
    assert_eq!(report.resyncs, 1, "{report:?}");
    assert_eq!(report.pushed, 4, "the refused push of two changes, then again: {report:?}");
    assert_eq!(has(&b, 3), None, "the row deleted on the server is gone from B");
    assert_eq!(has(&b, 2), Some(json!("edited by B")), "B's pending edit was kept and pushed");
    assert_eq!(has(&b, 5), Some(json!("new on B")));
    assert_eq!(has(&b, 4), Some(json!("tune 4")), "rows the server served stay");
    b.client.with_db(|conn| {
        let left: i64 = conn
            .query_row("SELECT count(*) FROM _sync_resync", [], |row| row.get(0))
            .expect("count the resync list");
        assert_eq!(left, 0, "the resync ended");
    });

    let options = RunOptions { pokes: false, ..RunOptions::default() };
    let handle = served.block_on(async { c.client.start(options) });
    let mut status = handle.status();
    let status = served.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), status.wait_for(|s| s.syncs >= 1))
            .await
            .expect("C syncs within 10 s")
            .expect("the loop runs")
            .clone()
    });
    assert_eq!(status.resyncs, 1, "{status:?}");
    served.block_on(handle.stop());
    assert_eq!(has(&c, 3), None);

    // A device that synced after the deletion is not affected, and all converge.
    let report = sync(&served, &a);
    assert_eq!(report.resyncs, 0);
    assert_eq!(has(&a, 2), Some(json!("edited by B")));
    assert_converged(&served, &[&a, &b, &c]);
    served.stop();
}

/// Sync `device` to the end as [`sync`] does, failing instead of looping for ever on 410s.
fn sync_within_10_s(served: &Served, device: &TestClient) -> sync_runtime::client::SyncReport {
    served.settle();
    served.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), device.client.sync_once())
            .await
            .expect("the sync ends within 10 s")
            .unwrap_or_else(|e| panic!("the sync fails: {e}"))
    })
}

fn a_resync_of_many_small_pages_below_the_pruned_point_converges<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    tunes(&served, &me, 12);
    // Two changes a page: the profile and eleven tunes left take six pages, every cursor but
    // the last one below the pruned deletions.
    let small = Limits { page_size: Some(2), ..Limits::default() };
    let behind = TestClient::open_with(&served.server.url(""), &me, small);
    assert_eq!(sync_within_10_s(&served, &behind).resyncs, 0);
    remove(&served, &[1]);
    assert_eq!(served.prune(Duration::ZERO, 100), 1);

    let report = sync_within_10_s(&served, &behind);
    assert_eq!(report.resyncs, 1, "one 410, then a resync of six pages: {report:?}");
    assert!(report.requests >= 7, "{report:?}");
    assert_eq!(has(&behind, 1), None, "the pruned deletion reached the device by the resync");
    // A new device pages through the same history with no 410 at all.
    let new = TestClient::open_with(&served.server.url(""), &me, small);
    assert_eq!(sync_within_10_s(&served, &new).resyncs, 0);
    assert_eq!(has(&new, 12), Some(json!("tune 12")));
    assert_converged(&served, &[&behind, &new]);
    served.stop();
}

/// One page of at most two changes for `me` from `cursor`: the answer's status and cursor.
fn page_of_two(served: &Served, me: &str, cursor: &Value) -> (StatusCode, Value) {
    let answer = served.sync_paged_as(me, &device_id(1), cursor, vec![], 2);
    (answer.status, answer.body["cursor"].clone())
}

fn a_prune_between_two_pages_of_a_pull_answers_the_next_page_410<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    tunes(&served, &me, 6);
    remove(&served, &[1]);
    assert_eq!(served.prune(Duration::ZERO, 100), 1);
    remove(&served, &[2]);

    // Below the pruned point, and no prune since the cursors were issued: served.
    let (status, first) = page_of_two(&served, &me, &Value::Null);
    assert_eq!(status, StatusCode::OK);
    let (status, second) = page_of_two(&served, &me, &first);
    assert_eq!(status, StatusCode::OK, "{first}");
    // The deletion of tune 2 is pruned now: a page from a cursor issued before may miss it.
    assert_eq!(served.prune(Duration::ZERO, 100), 1);
    let (status, _) = page_of_two(&served, &me, &second);
    assert_eq!(status, StatusCode::GONE, "{second}");
    // The pull from the start again pages through to the end.
    let (changes, _) = served.pull_as(&me, &device_id(1), Value::Null);
    assert!(changes.iter().all(|c| c["row"]["id"] != json!(id(2))), "tune 2 is gone");
    served.stop();
}
