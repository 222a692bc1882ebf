//! Conformance, paging (docs/sync.md), on both stores: a pull of more rows than a page comes
//! in bounded pages that resume at the cursor, with no row missed or served twice, also when rows
//! are written between pages; a cursor the server did not make and a page size below one are
//! refused with 400 and write nothing.

use std::collections::{BTreeMap, BTreeSet};

use integration_tests::sync::*;
use serde_json::json;
use sync_runtime::engine::Config;
use sync_runtime::protocol::{ErrorCode, PulledChange};

integration_tests::for_each_store!(
    a_large_pull_comes_in_bounded_pages,
    rows_written_between_pages_are_neither_missed_nor_repeated,
    a_page_is_never_larger_than_the_servers_limit,
    small_pages_walk_every_table_and_tombstone,
    an_invalid_cursor_or_page_size_is_refused,
);

/// Pull pages of `size` until `has_more` is false; every page is checked to be bounded.
fn pages<S: TestStore>(
    server: &Server<S>,
    device: &mut Device,
    size: i64,
) -> Vec<Vec<PulledChange>> {
    let mut pages = Vec::new();
    loop {
        let page = server.pull_page(device, Some(size));
        assert!(page.changes.len() <= size as usize, "a page of {} changes", page.changes.len());
        pages.push(page.changes);
        if !page.has_more {
            return pages;
        }
    }
}

/// How often each `(table, key)` came in `changes`.
fn counts(
    schema: &sync_runtime::schema::SchemaMeta,
    changes: &[PulledChange],
) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for (key, _) in pulled_keys(schema, changes) {
        *counts.entry(key).or_default() += 1;
    }
    counts
}

/// `n` tunes of `device`'s user with ids from `first`, at `time`.
fn tunes(device: &Device, first: u32, n: u32, title: &str, time: i64) -> Vec<serde_json::Value> {
    (first..first + n).map(|i| tune(&id(i), &device.user, title, &at(time))).collect()
}

fn a_large_pull_comes_in_bounded_pages<S: TestStore>() {
    let server = Server::<S>::new();
    let (a, other) = (Device::new(&user(1), 1), Device::new(&user(2), 2));
    let mut changes = vec![profile(&a.user, &at(0))];
    changes.extend(tunes(&a, 1, 250, "mine", 1));
    server.push(&a, changes);
    let mut changes = vec![profile(&other.user, &at(0))];
    changes.extend(tunes(&other, 1000, 30, "theirs", 1));
    server.push(&other, changes);

    let mut b = Device::new(&a.user, 3);
    server.db.settle();
    let pages = pages(&server, &mut b, 40);
    assert!(pages.len() >= 7, "251 rows in pages of 40 came in {} pages", pages.len());
    let all: Vec<PulledChange> = pages.into_iter().flatten().collect();
    let counts = counts(server.schema.meta, &all);
    assert!(counts.values().all(|&n| n == 1), "a row came twice: {counts:?}");
    let mut replica = Rows::new();
    apply(server.schema.meta, &mut replica, &all);
    assert_eq!(replica.len(), 251);
    assert_eq!(replica, server.snapshot().readable_by(&a.user));
}

fn rows_written_between_pages_are_neither_missed_nor_repeated<S: TestStore>() {
    let server = Server::<S>::new();
    let a = Device::new(&user(1), 1);
    let mut changes = vec![profile(&a.user, &at(0))];
    changes.extend(tunes(&a, 1, 100, "first", 1));
    server.push(&a, changes);

    let mut b = Device::new(&a.user, 2);
    server.db.settle();
    let mut pulled = Vec::new();
    for _ in 0..2 {
        let page = server.pull_page(&mut b, Some(30));
        assert!(page.has_more && page.changes.len() == 30, "{} changes", page.changes.len());
        pulled.extend(page.changes);
    }
    // Between pages: new rows; updates of rows already pulled and of rows not yet pulled; and
    // removals by SQL of both kinds.
    let seen: BTreeSet<(String, String)> =
        pulled_keys(server.schema.meta, &pulled).into_iter().map(|(key, _)| key).collect();
    let key_of = |i: u32| ("tune".to_owned(), format!("[\"{}\"]", id(i)));
    let (seen_ids, unseen_ids): (Vec<u32>, Vec<u32>) =
        (1..=100).partition(|&i| seen.contains(&key_of(i)));
    let (updated_seen, removed_seen) = (&seen_ids[..10], &seen_ids[10..15]);
    let (updated_unseen, removed_unseen) = (&unseen_ids[..10], &unseen_ids[10..15]);
    let mut changes = tunes(&a, 101, 20, "new", 2);
    for &i in updated_seen.iter().chain(updated_unseen) {
        changes.push(tune(&id(i), &a.user, "updated", &at(2)));
    }
    server.push(&a, changes);
    let removed: Vec<String> =
        removed_seen.iter().chain(removed_unseen).map(|&i| format!("'{}'", id(i))).collect();
    server.sql(&format!("DELETE FROM tune WHERE id IN ({})", removed.join(", ")));

    server.db.settle();
    for page in pages(&server, &mut b, 30) {
        pulled.extend(page);
    }
    // A row pulled before it changed comes again (updated, or as a removal); any other once.
    let counts = counts(server.schema.meta, &pulled);
    for (key, n) in &counts {
        let twice = updated_seen.iter().chain(removed_seen).any(|&i| key_of(i) == *key);
        assert_eq!(*n, if twice { 2 } else { 1 }, "{key:?} came {n} times");
    }
    assert_eq!(counts.len(), 121);
    let mut replica = Rows::new();
    apply(server.schema.meta, &mut replica, &pulled);
    assert_eq!(replica.len(), 111);
    assert_eq!(replica, server.snapshot().readable_by(&a.user));
}

fn small_pages_walk_every_table_and_tombstone<S: TestStore>() {
    let server = Server::<S>::new();
    let a = Device::new(&user(1), 1);
    let me = &a.user;
    let [t1, t2, t3, r1, r2, n1, n2, g1, g2, p1] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(id);
    server.sql(&format!(
        "INSERT INTO genre (id, name, last_modified_at) VALUES ('irish', 'Irish', '{t}'), \
         ('scottish', 'Scottish', '{t}'); \
         INSERT INTO tune (id, title, last_modified_at) VALUES ('{}', 'Public', '{t}')",
        id(99),
        t = at(0)
    ));
    server.push(&a, vec![profile(me, &at(0)), tune(&t1, me, "one", &at(0))]);
    server.push(
        &a,
        vec![
            tune(&t2, me, "two", &at(0)),
            tune(&t3, me, "three", &at(0)),
            repertoire(&r1, me, "One", &at(0)),
            repertoire(&r2, me, "Two", &at(0)),
            repertoire_tune(&r1, &t1, &at(0)),
            repertoire_tune(&r1, &t2, &at(0)),
            repertoire_tune(&r2, &t3, &at(0)),
        ],
    );
    server.push(
        &a,
        vec![
            note(&n1, me, &t1, "a", &at(0)),
            note(&n2, me, &t1, "b", &at(0)),
            tag(&g1, me, &t2, "fast", &at(0)),
            tag(&g2, me, &t2, "slow", &at(0)),
            upsert(
                "practice_record",
                json!({ "id": p1, "user_id": me, "tune_id": t3, "practiced": at(0), "quality": 4,
                    "easiness": 2.5, "elapsed_ms": 90_000, "last_modified_at": at(0) }),
            ),
        ],
    );
    server.sql(&format!(
        "DELETE FROM note WHERE id = '{n1}'; DELETE FROM repertoire WHERE id = '{r2}'"
    ));
    server.push(&a, vec![tune(&t1, me, "one, again", &at(1))]);

    let expected = server.snapshot().readable_by(me);
    for size in [1, 2, 3, 5] {
        let mut b = Device::new(me, 10 + size as u32);
        server.db.settle();
        let pages = pages(&server, &mut b, size);
        let last = pages.len() - 1;
        for (i, page) in pages.iter().enumerate() {
            assert!(i == last || page.len() == size as usize, "page {i} of {size}: {}", page.len());
        }
        let all: Vec<PulledChange> = pages.into_iter().flatten().collect();
        let counts = counts(server.schema.meta, &all);
        assert!(counts.values().all(|&n| n == 1), "pages of {size}: {counts:?}");
        let mut replica = Rows::new();
        apply(server.schema.meta, &mut replica, &all);
        assert_eq!(replica, expected, "pages of {size}");
    }
}

fn a_page_is_never_larger_than_the_servers_limit<S: TestStore>() {
    let server = Server::<S>::with_config(Config { max_page_size: 25, ..Config::default() });
    let a = Device::new(&user(1), 1);
    let mut changes = vec![profile(&a.user, &at(0))];
    changes.extend(tunes(&a, 1, 60, "mine", 1));
    server.push(&a, changes);
    let mut b = Device::new(&a.user, 2);
    server.db.settle();
    let mut all = Vec::new();
    loop {
        let page = server.pull_page(&mut b, Some(1000));
        assert!(page.changes.len() <= 25, "a page of {} changes", page.changes.len());
        all.extend(page.changes);
        if !page.has_more {
            break;
        }
    }
    assert_eq!(all.len(), 61);
}

fn an_invalid_cursor_or_page_size_is_refused<S: TestStore>() {
    let server = Server::<S>::new();
    let a = Device::new(&user(1), 1);
    server.push(&a, vec![profile(&a.user, &at(0)), tune(&id(1), &a.user, "x", &at(0))]);
    let before = server.snapshot();
    // Each request also carries a valid change, which must not be written either.
    let valid = || vec![profile(&a.user, &at(5))];
    // Beyond any horizon; a key that does not fit the key of the table it names.
    let made_up = ["18446744073709551615", r#"5:1:["not a uuid"]"#, r#"5:3:[{"id":1}]"#];
    for cursor in ["garbage", "", "-1", "1:2", "{}", "12:1:[1"].into_iter().chain(made_up) {
        let mut device = a.clone();
        device.cursor = Some(cursor.to_owned());
        let request = server.request(&device, valid());
        let refusal = server.sync(&device, request).expect_err(cursor);
        assert_eq!(refusal.code(), ErrorCode::BadCursor, "{cursor:?}");
        assert_eq!(server.snapshot(), before, "a request with cursor {cursor:?} wrote something");
    }
    for size in [0, -1] {
        let request = a.request(server.schema.meta, valid(), Some(size));
        let refusal = server.sync(&a, request).expect_err("page size below 1");
        assert_eq!(refusal.code(), ErrorCode::InvalidPageSize);
    }
    assert_eq!(server.snapshot(), before);
}
