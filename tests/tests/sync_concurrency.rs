//! Conformance under concurrency, on both stores: eight writers (two devices for each of four
//! users, so that devices of one user race on the same rows), an admin deleting rows by SQL, and
//! one puller per user, all at once; thousands of changes. At the end every puller holds exactly
//! the rows its user may read as the database has them (nothing missed, nothing stale), and
//! every row is the last write of all that were accepted, by `(modified, device)`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use integration_tests::sync::*;
use serde_json::{Value, json};
use sync_runtime::engine::{Engine, Refusal};

integration_tests::for_each_store!(
    many_writers_and_pullers_converge,
    racing_inserts_of_one_row_tie_break_by_device,
);

const USERS: u32 = 4;
const WRITERS: u32 = 8;
const REQUESTS: u32 = 30;
const BATCH: u32 = 20;
/// Tunes per user, all written before the race so that notes can reference any of them.
const TUNES: u32 = 200;
/// Notes per user, inserted during the race by both devices of the user.
const NOTES: u32 = 100;

fn tune_id(user: u32, i: u32) -> String {
    id(user * 10_000 + i)
}

fn note_id(user: u32, i: u32) -> String {
    id(user * 10_000 + 5_000 + i)
}

/// The last write to one tune as a writer sent it: its conflict time, device and title (`None`
/// for a delete).
type Write = (String, String, Option<String>);

/// Writer `w`: `REQUESTS` requests of `BATCH` changes to distinct rows of its user, on a shared
/// clock that ticks every three changes (so different devices tie on the time). Returns the
/// tune writes of every request the server accepted, by tune id. A request the server answers
/// with 503 (it kept conflicting) is sent again, as a client would.
async fn writer<S: TestStore>(
    engine: Arc<Engine<S>>,
    w: u32,
    clock: Arc<AtomicI64>,
) -> BTreeMap<String, Vec<Write>> {
    let u = 1 + w % USERS;
    let device = Device::new(&user(u), 100 + w);
    let mut accepted: BTreeMap<String, Vec<Write>> = BTreeMap::new();
    for r in 0..REQUESTS {
        let start = (w * 31 + r * 17) % TUNES;
        let mut changes = Vec::new();
        let mut writes = Vec::new();
        for k in 0..BATCH {
            // A stride coprime with TUNES: distinct rows within a request.
            let i = (start + k * 7) % TUNES;
            let time = at(10 + clock.fetch_add(1, Ordering::Relaxed) / 3);
            match k % 10 {
                2 | 7 => {
                    let key = note_id(u, i % NOTES);
                    changes.push(note(
                        &key,
                        &device.user,
                        &tune_id(u, i),
                        &format!("w{w} r{r}"),
                        &time,
                    ));
                }
                9 => {
                    changes.push(delete("tune", json!({ "id": tune_id(u, i) }), &time));
                    writes.push((tune_id(u, i), (time, device.client_id.clone(), None)));
                }
                _ => {
                    let title = format!("w{w} r{r} k{k}");
                    changes.push(tune(&tune_id(u, i), &device.user, &title, &time));
                    writes.push((tune_id(u, i), (time, device.client_id.clone(), Some(title))));
                }
            }
        }
        loop {
            match push(&engine, &device, changes.clone()).await {
                Ok(response) => {
                    for rejected in &response.rejected {
                        assert_eq!(rejected.reason, sync_runtime::protocol::RejectReason::Stale);
                    }
                    break;
                }
                Err(Refusal::Busy) => tokio::task::yield_now().await,
                Err(refusal) => panic!("writer {w}, request {r} refused: {refusal}"),
            }
        }
        for (key, write) in writes {
            accepted.entry(key).or_default().push(write);
        }
    }
    accepted
}

/// A puller of `user`'s rows with pages of `page_size`, until `done`; returns its device (with
/// its cursor) and what it holds.
async fn puller<S: TestStore>(
    engine: Arc<Engine<S>>,
    mut device: Device,
    page_size: i64,
    done: Arc<AtomicBool>,
) -> (Device, Rows) {
    let mut replica = Rows::new();
    while !done.load(Ordering::Relaxed) {
        let page = pull_page(&engine, &mut device, Some(page_size)).await.expect("a pull");
        assert!(page.changes.len() <= page_size as usize);
        apply(engine.schema(), &mut replica, &page.changes);
        if !page.has_more {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    (device, replica)
}

fn many_writers_and_pullers_converge<S: TestStore>() {
    let server = Server::<S>::new();
    for u in 1..=USERS {
        let device = Device::new(&user(u), u);
        let mut changes = vec![profile(&device.user, &at(0))];
        changes.extend((0..TUNES).map(|i| tune(&tune_id(u, i), &device.user, "seed", &at(0))));
        server.push(&device, changes);
    }
    server.sql(&format!(
        "INSERT INTO tune (id, title, last_modified_at) VALUES ('{}', 'Public', '{}')",
        id(1),
        at(0)
    ));

    let clock = Arc::new(AtomicI64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let pullers: Vec<_> = (1..=USERS)
        .zip([7, 50, 200, 1000])
        .map(|(u, size)| {
            let device = Device::new(&user(u), 200 + u);
            server.rt.spawn(puller(server.engine.clone(), device, size, done.clone()))
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| server.rt.spawn(writer(server.engine.clone(), w, clock.clone())))
        .collect();
    // An admin deletes notes by SQL while the writers run (the writers may bring them back).
    let accepted = std::thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..20 {
                server.sql(
                    "DELETE FROM note WHERE id IN (SELECT id FROM note ORDER BY random() LIMIT 1)",
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        server.rt.block_on(async {
            let mut accepted: BTreeMap<String, Vec<Write>> = BTreeMap::new();
            for writer in writers {
                for (key, writes) in writer.await.expect("a writer") {
                    accepted.entry(key).or_default().extend(writes);
                }
            }
            accepted
        })
    });
    done.store(true, Ordering::Relaxed);
    let pulled: Vec<(Device, Rows)> = server.rt.block_on(async { join_all(pullers).await });

    let snapshot = server.snapshot();
    for (mut device, mut replica) in pulled {
        server.catch_up(&mut device, &mut replica);
        let expected = snapshot.readable_by(&device.user);
        let wrong: Vec<_> = expected
            .iter()
            .filter(|(key, row)| replica.get(*key) != Some(*row))
            .map(|(key, row)| (key, row, replica.get(key)))
            .take(3)
            .collect();
        assert!(wrong.is_empty(), "{}: database row, pulled row: {wrong:#?}", device.user);
        assert_eq!(
            replica.len(),
            expected.len(),
            "{}: rows that are not in the database",
            device.user
        );
    }
    // Every tune was written in the race, and notes were added to the seeded rows.
    assert_eq!(accepted.len(), (USERS * TUNES) as usize);
    assert!(snapshot.rows.len() > (USERS * (TUNES + 1)) as usize, "{} rows", snapshot.rows.len());

    // Every tune is the greatest accepted write by (modified, device).
    for (key, writes) in &accepted {
        let (time, device, title) =
            writes.iter().max_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1))).unwrap();
        let row = snapshot.row("tune", json!({ "id": key })).expect("a tune");
        assert_eq!(
            (&row["last_modified_at"], &row["device_id"]),
            (&json!(time), &json!(device)),
            "{key}"
        );
        match title {
            Some(title) => {
                assert_eq!((&row["title"], &row["deleted"]), (&json!(title), &Value::Bool(false)))
            }
            None => assert_eq!(row["deleted"], true, "{key}"),
        }
    }
}

/// Two devices insert the same new row at the same conflict time at once, many times: whichever
/// commits first, the greater device's row is the one that stays.
fn racing_inserts_of_one_row_tie_break_by_device<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let (low, high) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&low, vec![profile(&me, &at(0))]);
    let rounds = 50;
    server.rt.block_on(async {
        for round in 0..rounds {
            let row = id(round);
            let (a, b) = tokio::join!(
                tokio::spawn({
                    let (engine, low, change) =
                        (server.engine.clone(), low.clone(), tune(&row, &me, "low", &at(1)));
                    async move { push(&engine, &low, vec![change]).await }
                }),
                tokio::spawn({
                    let (engine, high, change) =
                        (server.engine.clone(), high.clone(), tune(&row, &me, "high", &at(1)));
                    async move { push(&engine, &high, vec![change]).await }
                }),
            );
            a.unwrap().expect("low's push");
            let response = b.unwrap().expect("high's push");
            assert!(response.rejected.is_empty(), "high lost round {round}");
        }
    });
    let snapshot = server.snapshot();
    for round in 0..rounds {
        let row = snapshot.row("tune", json!({ "id": id(round) })).unwrap();
        assert_eq!((&row["title"], &row["device_id"]), (&json!("high"), &json!(high.client_id)));
    }
}

/// Await every task, in order.
async fn join_all<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.expect("a task"));
    }
    out
}
