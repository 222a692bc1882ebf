//! The generated Postgres sync machinery on a real server (docs/sync.md): the cursor column
//! follows commit order, so a pull bounded by the horizon never skips a row, not even under many
//! concurrent writers; every write path stamps it; every delete path (plain SQL, a cascade, a
//! `via:` child) leaves a tombstone for the right owner; the horizon reports what holds it back.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use integration_tests::pg::TestDb;
use integration_tests::{ddl, example_schema};
use postgres::{Client, IsolationLevel};
use serde_json::{Value, json};

const USER: &str = "00000000-0000-4000-8000-000000000001";

/// A database with the example schema and one user.
fn example_db() -> TestDb {
    let mut db = TestDb::new();
    db.batch_execute(&ddl(&example_schema()).1).expect("apply the DDL");
    db.batch_execute(&format!("INSERT INTO user_profile (id) VALUES ('{USER}')")).unwrap();
    db
}

/// One pull of the user's tunes as the engine will do it: the horizon and the rows in one
/// snapshot, rows with `cursor <= _sync_xid < horizon`. Returns `(id, title)` and the next cursor.
fn pull(client: &mut Client, cursor: u64) -> (Vec<(String, String)>, u64) {
    let mut tx =
        client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().unwrap();
    let horizon: String =
        tx.query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", &[]).unwrap().get(0);
    let rows = tx
        .query(
            "SELECT id::text, title FROM tune WHERE user_id = $1::text::uuid \
             AND _sync_xid >= $2::text::xid8 AND _sync_xid < $3::text::xid8 ORDER BY _sync_xid, id",
            &[&USER, &cursor.to_string(), &horizon],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    tx.commit().unwrap();
    (rows, horizon.parse().unwrap())
}

/// The current transaction's id, assigning one if it has none yet.
fn xid(client: &mut impl postgres::GenericClient) -> u64 {
    let xid: String = client.query_one("SELECT pg_current_xact_id()::text", &[]).unwrap().get(0);
    xid.parse().unwrap()
}

fn insert_tune(client: &mut impl postgres::GenericClient, title: &str) -> String {
    client
        .query_one(
            "INSERT INTO tune (user_id, title) VALUES ($1::text::uuid, $2) RETURNING id::text",
            &[&USER, &title],
        )
        .unwrap()
        .get(0)
}

/// Pull until the cursor passes `xid`: a transaction elsewhere in the cluster (another test)
/// may hold the horizon back for a while, which delays rows but must never lose them.
fn pull_past(client: &mut Client, mut cursor: u64, xid: u64) -> (Vec<(String, String)>, u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while cursor <= xid {
        assert!(Instant::now() < deadline, "the horizon stays at {cursor}, below {xid}");
        let (rows, next) = pull(client, cursor);
        seen.extend(rows);
        cursor = next;
        std::thread::sleep(Duration::from_millis(20));
    }
    (seen, cursor)
}

fn titles(rows: &[(String, String)]) -> Vec<&str> {
    rows.iter().map(|(_, title)| title.as_str()).collect()
}

#[test]
fn a_late_commit_is_pulled_after_it_commits_and_never_skipped() {
    let mut db = example_db();
    let (_, cursor) = pull(&mut db, 0);

    // A writes first and stays open; B writes later and commits.
    let mut a = db.connect();
    let mut a_tx = a.transaction().unwrap();
    insert_tune(&mut a_tx, "A");
    let a_xid = xid(&mut a_tx);
    let mut b = db.connect();
    let mut b_tx = b.transaction().unwrap();
    insert_tune(&mut b_tx, "B");
    let b_xid = xid(&mut b_tx);
    b_tx.commit().unwrap();
    assert!(b_xid > a_xid);

    // While A is open the horizon is at or below A's id: B, committed but above it, waits.
    let (rows, held) = pull(&mut db, cursor);
    assert!(held <= a_xid, "horizon {held} passed the open transaction {a_xid}");
    assert_eq!(titles(&rows), Vec::<&str>::new());

    a_tx.commit().unwrap();
    let (rows, _) = pull_past(&mut db, held, b_xid);
    assert_eq!(titles(&rows), ["A", "B"], "both, in commit-safe cursor order");
}

#[test]
fn a_commit_below_an_open_transaction_is_pulled_at_once() {
    let mut db = example_db();
    let (_, cursor) = pull(&mut db, 0);

    // B takes its id first, A writes after and stays open, B commits: B is below the horizon.
    let mut b = db.connect();
    let mut b_tx = b.transaction().unwrap();
    insert_tune(&mut b_tx, "B");
    let b_xid = xid(&mut b_tx);
    let mut a = db.connect();
    let mut a_tx = a.transaction().unwrap();
    insert_tune(&mut a_tx, "A");
    let a_xid = xid(&mut a_tx);
    b_tx.commit().unwrap();

    let (rows, held) = pull_past(&mut db, cursor, b_xid);
    assert!(held <= a_xid, "horizon {held} passed the open transaction {a_xid}");
    assert_eq!(titles(&rows), ["B"]);

    a_tx.commit().unwrap();
    let (rows, _) = pull_past(&mut db, held, a_xid);
    assert_eq!(titles(&rows), ["A"], "A comes next, from the cursor of the last pull");
}

/// A small deterministic generator (xorshift), so runs differ only by scheduling.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const WRITERS: u64 = 8;
const TRANSACTIONS: u64 = 200;
const PULLERS: usize = 3;

/// One writer: small transactions of inserts and updates of its own tunes, one in ten rolled
/// back. Returns the committed final title of each of its tunes.
fn write(mut client: Client, writer: u64) -> HashMap<String, String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (writer + 1));
    let mut committed: HashMap<String, String> = HashMap::new();
    for n in 0..TRANSACTIONS {
        let mut tx = client.transaction().unwrap();
        let mut pending = committed.clone();
        for op in 0..1 + rng.below(5) {
            let title = format!("w{writer} t{n} op{op}");
            let existing: Vec<String> = pending.keys().cloned().collect();
            if existing.is_empty() || rng.below(2) == 0 {
                pending.insert(insert_tune(&mut tx, &title), title);
            } else {
                let id = &existing[rng.below(existing.len() as u64) as usize];
                tx.execute("UPDATE tune SET title = $2 WHERE id = $1::text::uuid", &[id, &title])
                    .unwrap();
                pending.insert(id.clone(), title);
            }
        }
        if rng.below(10) == 0 {
            tx.rollback().unwrap();
        } else {
            tx.commit().unwrap();
            committed = pending;
        }
        if rng.below(4) == 0 {
            std::thread::sleep(Duration::from_millis(rng.below(3)));
        }
    }
    committed
}

#[test]
fn concurrent_writers_and_pullers_miss_nothing() {
    let mut db = example_db();
    let done = Arc::new(AtomicBool::new(false));
    let pullers: Vec<_> = (0..PULLERS)
        .map(|_| {
            let (mut client, done) = (db.connect(), done.clone());
            std::thread::spawn(move || {
                let (mut seen, mut cursor, mut pulls) = (HashMap::new(), 0, 0);
                while !done.load(Ordering::Acquire) {
                    let (rows, next) = pull(&mut client, cursor);
                    seen.extend(rows);
                    cursor = next;
                    pulls += 1;
                }
                (client, seen, cursor, pulls)
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let client = db.connect();
            std::thread::spawn(move || write(client, w))
        })
        .collect();
    let mut expected: HashMap<String, String> = HashMap::new();
    for writer in writers {
        expected.extend(writer.join().unwrap());
    }
    // Every writer's transaction has ended, so all of them are below this id.
    let end: String =
        db.query_one("SELECT pg_snapshot_xmax(pg_current_snapshot())::text", &[]).unwrap().get(0);
    let end: u64 = end.parse().unwrap();
    done.store(true, Ordering::Release);
    assert!(expected.len() > 1000, "{} rows written", expected.len());

    for puller in pullers {
        let (mut client, mut seen, cursor, pulls) = puller.join().unwrap();
        assert!(pulls > 1, "the puller ran while writers wrote");
        let (rows, _) = pull_past(&mut client, cursor, end - 1);
        seen.extend(rows);
        let missing: Vec<_> = expected.iter().filter(|(id, t)| seen.get(*id) != Some(t)).collect();
        assert!(missing.is_empty(), "{} of {} rows missed or stale", missing.len(), expected.len());
        assert_eq!(seen.len(), expected.len(), "only committed rows are pulled");
    }
}

/// The cursor of one tune.
fn cursor_of(db: &mut TestDb, id: &str) -> u64 {
    let xid: String = db
        .query_one("SELECT _sync_xid::text FROM tune WHERE id = $1::text::uuid", &[&id])
        .unwrap()
        .get(0);
    xid.parse().unwrap()
}

/// The tombstones of one transaction: `(table, key, owner)`, sorted.
fn tombstones(db: &mut TestDb, xid: u64) -> Vec<(String, Value, Option<String>)> {
    let mut rows: Vec<(String, Value, Option<String>)> = db
        .query(
            "SELECT table_name, key::text, owner FROM _sync_tombstone \
             WHERE _sync_xid = $1::text::xid8",
            &[&xid.to_string()],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), serde_json::from_str(r.get(1)).unwrap(), r.get(2)))
        .collect();
    rows.sort_by_key(|(table, key, _)| (table.clone(), key.to_string()));
    rows
}

/// Run `sql` in one transaction and return that transaction's id.
fn in_transaction(db: &mut TestDb, sql: &str) -> u64 {
    let mut tx = db.transaction().unwrap();
    tx.batch_execute(sql).unwrap();
    let id = xid(&mut tx);
    tx.commit().unwrap();
    id
}

#[test]
fn every_write_path_stamps_and_every_delete_leaves_a_tombstone() {
    let mut db = example_db();
    let tune = insert_tune(&mut *db, "Kept");
    let gone = insert_tune(&mut *db, "Removed by hand");
    let (repertoire, public) =
        ("00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000b1");
    db.batch_execute(&format!(
        "INSERT INTO repertoire (id, user_id, name) VALUES ('{repertoire}', '{USER}', 'Session');
         INSERT INTO repertoire_tune (repertoire_id, tune_id) VALUES ('{repertoire}', '{tune}');
         INSERT INTO tune (id, user_id, title) VALUES ('{public}', NULL, 'Public');"
    ))
    .unwrap();

    // A plain UPDATE and a soft delete move the cursor to their transaction and leave no
    // tombstone: a soft delete is an ordinary update.
    let before = cursor_of(&mut db, &tune);
    let update =
        in_transaction(&mut db, &format!("UPDATE tune SET title = 'T' WHERE id = '{tune}'"));
    assert!(update > before);
    assert_eq!(cursor_of(&mut db, &tune), update);
    let soft =
        in_transaction(&mut db, &format!("UPDATE tune SET deleted = true WHERE id = '{tune}'"));
    assert_eq!(cursor_of(&mut db, &tune), soft);
    assert_eq!(tombstones(&mut db, soft), []);

    // A DELETE by hand, of an owned row and of a public one (no owner).
    let delete = in_transaction(
        &mut db,
        &format!("DELETE FROM tune WHERE id = '{gone}'; DELETE FROM tune WHERE id = '{public}'"),
    );
    assert_eq!(
        tombstones(&mut db, delete),
        [
            ("tune".into(), json!({ "id": public }), None),
            ("tune".into(), json!({ "id": gone }), Some(USER.into())),
        ]
    );

    // Deleting the user cascades to its tunes, its repertoire and the repertoire's `via:` row,
    // which finds its owner in the tombstone of the repertoire that went before it.
    let cascade = in_transaction(&mut db, &format!("DELETE FROM user_profile WHERE id = '{USER}'"));
    let owner = Some(USER.to_owned());
    assert_eq!(
        tombstones(&mut db, cascade),
        [
            ("repertoire".into(), json!({ "id": repertoire }), owner.clone()),
            (
                "repertoire_tune".into(),
                json!({ "repertoire_id": repertoire, "tune_id": tune }),
                owner.clone()
            ),
            ("tune".into(), json!({ "id": tune }), owner.clone()),
            ("user_profile".into(), json!({ "id": USER }), owner),
        ]
    );
}

#[test]
fn a_via_row_deleted_by_hand_is_recorded_for_its_parents_owner() {
    let mut db = example_db();
    let tune = insert_tune(&mut *db, "Tune");
    let repertoire = "00000000-0000-4000-8000-0000000000a1";
    db.batch_execute(&format!(
        "INSERT INTO repertoire (id, user_id, name) VALUES ('{repertoire}', '{USER}', 'Session');
         INSERT INTO repertoire_tune (repertoire_id, tune_id) VALUES ('{repertoire}', '{tune}');"
    ))
    .unwrap();
    let delete = in_transaction(&mut db, "DELETE FROM repertoire_tune");
    assert_eq!(
        tombstones(&mut db, delete),
        [(
            "repertoire_tune".into(),
            json!({ "repertoire_id": repertoire, "tune_id": tune }),
            Some(USER.into())
        )]
    );
}

#[test]
fn the_horizon_reports_an_open_transaction() {
    let mut db = example_db();
    let mut open = db.connect();
    let mut tx = open.transaction().unwrap();
    tx.batch_execute("INSERT INTO genre (id, name) VALUES ('irish', 'Irish')").unwrap();
    let open_xid = xid(&mut tx);
    // A write that commits after it waits behind it.
    db.batch_execute("INSERT INTO genre (id, name) VALUES ('scottish', 'Scottish')").unwrap();
    std::thread::sleep(Duration::from_millis(1200));

    let row = db
        .query_one(
            "SELECT horizon::text, xid_age, extract(epoch FROM oldest_xact_age)::float8, \
             oldest_xact_pid FROM _sync_horizon()",
            &[],
        )
        .unwrap();
    let horizon: u64 = row.get::<_, String>(0).parse().unwrap();
    let (xid_age, age, pid): (i64, Option<f64>, Option<i32>) = (row.get(1), row.get(2), row.get(3));
    assert!(horizon <= open_xid, "horizon {horizon} passed the open transaction {open_xid}");
    assert!(xid_age >= 1, "a finished transaction waits behind the horizon: {xid_age}");
    // Another test's transaction may be older still; then the age is larger.
    assert!(age.is_some_and(|a| a >= 1.0), "oldest transaction age {age:?}");
    assert!(pid.is_some());
    tx.rollback().unwrap();
}

/// The store refuses to start on a database whose machinery is incomplete: without the stamp
/// trigger, updates would silently never reach a pull.
#[test]
fn the_store_refuses_a_table_without_its_triggers() {
    let mut db = example_db();
    let url = db.url();
    let connect_error = || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let connect = sync_runtime::store::postgres::PgStore::connect(&url, &generated::SCHEMA);
        runtime.block_on(connect).expect_err("the store must refuse").to_string()
    };
    db.batch_execute(
        "ALTER TABLE tune DISABLE TRIGGER _sync_stamp; DROP TRIGGER _sync_rekey ON note",
    )
    .unwrap();
    let error = connect_error();
    assert!(error.contains("table `tune` lacks the sync trigger(s) _sync_stamp"), "{error}");
    db.batch_execute("ALTER TABLE tune ENABLE TRIGGER _sync_stamp").unwrap();
    let error = connect_error();
    assert!(error.contains("table `note` lacks the sync trigger(s) _sync_rekey"), "{error}");
}

/// The team's own objects beside the machinery (what `[extra_sql]` adds: a view, a function, a
/// trigger on a synced table) do not stop the store from starting.
#[test]
fn the_store_starts_beside_the_teams_own_objects() {
    let mut db = example_db();
    db.batch_execute(
        "CREATE VIEW tune_titles AS SELECT id, title FROM tune;
         CREATE FUNCTION tune_checked() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RETURN NEW; END $$;
         CREATE TRIGGER tune_checked BEFORE INSERT ON tune
           FOR EACH ROW EXECUTE FUNCTION tune_checked();",
    )
    .unwrap();
    let url = db.url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let connect = sync_runtime::store::postgres::PgStore::connect(&url, &generated::SCHEMA);
    if let Err(error) = runtime.block_on(connect) {
        panic!("the store refused the database: {error}");
    }
}
