//! The convergence property of the sync client (docs/sync.md), on both stores: four devices (three
//! of one user, one of another) make random creates, edits, soft deletes and SQL deletes of
//! tunes, notes, repertoires, their tunes and practice records, and sync at random moments
//! through a proxy that sometimes loses an answer or holds it while the device goes on editing;
//! devices restart, sometimes with a request in flight; now and then an admin deletes a row on the
//! server by SQL (a parent too, with its cascade), which reaches devices as a removal, while
//! devices may still write under it; devices of one user give repertoires names from a small set,
//! so names collide. Devices push and pull in small batches, so that a sync takes several
//! requests. After a final quiet sync, every device holds exactly what the server lets its user
//! read, row for row, with nothing left to push, and every change the server refused for good is
//! in its device's quarantine.
//!
//! Each seed is a new pair of users on one shared server, so seeds do not see each other. A
//! failing seed prints its operations; `SYNC_CONVERGENCE_SEED=<n>` runs that seed alone.
//!
//! The mixed seeds give half the devices the TypeScript client (`sync-runtime/ts`, driven through
//! [`TsDevices`]): Rust and TypeScript devices of the same users converge together.

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use integration_tests::client::{Limits, TestClient, expected_on_device};
use integration_tests::proxy::{Fault, Proxy};
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;
use integration_tests::ts_devices::TsDevices;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sync_runtime::client::SyncReport;

integration_tests::for_each_store!(seeds_0_to_24, seeds_25_to_49, mixed_seeds_50_to_69);

/// Random steps per seed before the final sync.
const STEPS: usize = 60;
/// Devices per seed: the first three belong to one user, the last to another.
const DEVICES: usize = 4;

fn seeds_0_to_24<S: TestStore>() {
    run_seeds::<S>(0..25, None);
}

fn seeds_25_to_49<S: TestStore>() {
    run_seeds::<S>(25..50, None);
}

fn mixed_seeds_50_to_69<S: TestStore>() {
    run_seeds::<S>(50..70, Some(&TsDevices::start()));
}

/// Run `seeds`; with `typescript`, devices whose number plus the seed is odd are TypeScript ones.
fn run_seeds<S: TestStore>(seeds: Range<u64>, typescript: Option<&TsDevices>) {
    let only = std::env::var("SYNC_CONVERGENCE_SEED")
        .ok()
        .map(|seed| seed.parse::<u64>().expect("SYNC_CONVERGENCE_SEED is a seed number"));
    let served = Served::start::<S>(Options::default());
    let proxy = served.block_on(Proxy::start(&served.server.url("")));
    let mut tally = Tally::default();
    // Every seed runs, so that a failure shows how many seeds it takes and which.
    let mut failed = Vec::new();
    for seed in seeds.filter(|seed| only.is_none_or(|only| only == *seed)) {
        proxy.set_fault(Fault::Pass);
        let mut world = World::new(&served, &proxy, seed, &mut tally, typescript);
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| world.run())) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic")
                .to_owned();
            eprintln!("seed {seed} failed after these operations:\n{}", world.log.join("\n"));
            failed.push(format!("seed {seed}: {message}"));
        }
    }
    drop(proxy);
    served.stop();
    assert!(failed.is_empty(), "{} seeds failed:\n{}", failed.len(), failed.join("\n"));
    eprintln!("the seeds met {tally:?}");
    if only.is_none() {
        tally.assert_each_met();
    }
}

/// One seed: its devices, its random source, its clock and what it did.
struct World<'a> {
    served: &'a Served,
    /// The driver of the TypeScript devices, and which devices are.
    typescript: Option<&'a TsDevices>,
    on_typescript: Vec<bool>,
    proxy: &'a Proxy,
    seed: u64,
    rng: StdRng,
    /// `None` only while a device restarts.
    devices: Vec<Option<TestClient>>,
    /// The logical clock of conflict times, shared by every device.
    clock: i64,
    /// The last row id handed out.
    ids: u32,
    log: Vec<String>,
    /// Changes the devices' syncs reported quarantined.
    quarantined: usize,
    tally: &'a mut Tally,
}

/// How often the seeds met each situation the property is about: a run that met none of one
/// proves less than it claims.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    lost: usize,
    held: usize,
    killed: usize,
    restarts: usize,
    rejected: usize,
    quarantined: usize,
    kept_local: usize,
    soft_deletes: usize,
    sql_deletes: usize,
}

impl Tally {
    fn met(&mut self, report: &SyncReport) {
        self.rejected += report.rejected;
        self.quarantined += report.applied.quarantined;
        self.kept_local += report.applied.kept_local;
    }

    fn assert_each_met(&self) {
        let Tally {
            lost,
            held,
            killed,
            restarts,
            rejected,
            quarantined,
            kept_local,
            soft_deletes,
            sql_deletes,
        } = *self;
        let met = [
            ("lost answers", lost),
            ("answers delivered after writes in flight", held),
            ("devices killed with a sync in flight", killed),
            ("restarts", restarts),
            ("pushed changes rejected", rejected),
            ("refused changes quarantined", quarantined),
            ("pulled rows kept out by a newer pending write", kept_local),
            ("soft deletes", soft_deletes),
            ("SQL deletes", sql_deletes),
        ];
        for (what, count) in met {
            assert!(count > 0, "no seed met {what}: {self:?}");
        }
    }
}

impl<'a> World<'a> {
    fn new(
        served: &'a Served,
        proxy: &'a Proxy,
        seed: u64,
        tally: &'a mut Tally,
        typescript: Option<&'a TsDevices>,
    ) -> Self {
        let on_typescript =
            (0..DEVICES).map(|d| typescript.is_some() && (d as u64 + seed) % 2 == 1).collect();
        let mut world = World {
            served,
            typescript,
            on_typescript,
            proxy,
            seed,
            rng: StdRng::seed_from_u64(seed),
            devices: Vec::new(),
            clock: 0,
            ids: u32::try_from(seed).expect("a small seed") * 100_000,
            log: Vec::new(),
            quarantined: 0,
            tally,
        };
        for d in 0..DEVICES {
            // Small pushes and pages make syncs of several requests, each applied on its own.
            let limits = Limits {
                push_batch: *[2, 1000].choose(&mut world.rng).expect("a size"),
                page_size: *[Some(3), None].choose(&mut world.rng).expect("a size"),
            };
            let client = if world.on_typescript[d] { "TypeScript" } else { "Rust" };
            world.log.push(format!("device {d} ({client}): {limits:?}"));
            let device = TestClient::open_with(&proxy.url(), &world.user_of(d), limits);
            let client_id = device_id(world.ids / 100 + d as u32 + 1);
            device.execute(&format!("UPDATE _sync_client SET client_id = '{client_id}'"));
            world.devices.push(Some(device.reopen()));
        }
        world
    }

    /// Users are numbered by seed, so that seeds sharing a server never share data.
    fn user_of(&self, d: usize) -> String {
        let first = u32::try_from(self.seed).expect("a small seed") * 2 + 1;
        user(if d + 1 < DEVICES { first } else { first + 1 })
    }

    fn device(&self, d: usize) -> &TestClient {
        self.devices[d].as_ref().expect("the device is open")
    }

    fn run(&mut self) {
        for step in 0..STEPS {
            let d = self.rng.gen_range(0..DEVICES);
            self.log.push(format!("-- step {step}, device {d}"));
            match self.rng.gen_range(0..100) {
                0..65 => self.write(d),
                65..94 => self.sync(d),
                94..97 => self.remove_on_server(),
                _ => self.restart(d),
            }
        }
        self.log.push("-- final quiet syncs".into());
        for _ in 0..2 {
            for d in 0..DEVICES {
                let report = self.sync_once(d).unwrap_or_else(|e| panic!("device {d}: {e}"));
                self.quarantined += report.applied.quarantined;
                self.log.push(format!("device {d} synced: {}", summary(&report)));
            }
        }
        self.check();
    }

    /// The next conflict time: mostly later than the last, sometimes equal to it (a tie).
    fn tick(&mut self) -> String {
        if self.clock == 0 || self.rng.gen_bool(0.85) {
            self.clock += 1;
        }
        at(self.clock)
    }

    fn next_id(&mut self) -> String {
        self.ids += 1;
        id(self.ids)
    }

    /// One random local write on device `d`, as its app would make it.
    fn write(&mut self, d: usize) {
        let at = self.tick();
        // Edits of rows other devices hold are what make conflicts, so they are the most common.
        let sql = match self.rng.gen_range(0..24) {
            3..=7 => self.edit_tune(d, &at),
            8..=9 => self.create_child(d, "note", &at),
            10..=12 => self.edit(d, "note", &at),
            0 | 13 => self.create_repertoire(d, &at),
            14 => self.edit(d, "repertoire", &at),
            15..=16 => self.add_to_repertoire(d, &at),
            17 => self.edit(d, "repertoire_tune", &at),
            18 => self.create_child(d, "practice_record", &at),
            19 => self.edit(d, "practice_record", &at),
            20..=21 => self.remove(d, &at, true),
            22 => self.remove(d, &at, false),
            23 => self.edit(d, "repertoire_tune", &at),
            _ => None,
        };
        let sql = sql.unwrap_or_else(|| self.create_tune(d, &at));
        self.log.push(sql.clone());
        self.device(d).execute(&sql);
    }

    /// The live (not soft-deleted) rows of `table` on device `d`.
    fn live(&self, d: usize, table: &str) -> Vec<Values> {
        let rows = self.device(d).client.rows(table).expect("read the device's rows");
        rows.into_iter().filter(|row| row["deleted"] == Value::Bool(false)).collect()
    }

    fn pick(&mut self, d: usize, table: &str) -> Option<Values> {
        self.live(d, table).choose(&mut self.rng).cloned()
    }

    /// The user's profile, made by the first write of a device that has none.
    fn profile(&self, d: usize, at: &str) -> String {
        format!(
            "INSERT OR IGNORE INTO user_profile (id, last_modified_at) VALUES ('{}', '{at}'); ",
            self.user_of(d)
        )
    }

    fn create_tune(&mut self, d: usize, at: &str) -> String {
        let (id, user) = (self.next_id(), self.user_of(d));
        format!(
            "{}INSERT INTO tune (id, user_id, title, last_modified_at) \
             VALUES ('{id}', '{user}', 'tune {}', '{at}')",
            self.profile(d, at),
            self.ids
        )
    }

    fn edit_tune(&mut self, d: usize, at: &str) -> Option<String> {
        let tune = self.pick(d, "tune")?;
        let kind = ["reel", "jig", "hornpipe", "polka"].choose(&mut self.rng).expect("a kind");
        Some(format!(
            "UPDATE tune SET title = 'edit {}', type = '{kind}', last_modified_at = '{at}' \
             WHERE id = '{}'",
            self.clock,
            text(&tune["id"])
        ))
    }

    /// A note or a practice record of a live tune.
    fn create_child(&mut self, d: usize, table: &str, at: &str) -> Option<String> {
        let tune = self.pick(d, "tune")?;
        let (tune, id, user) = (text(&tune["id"]), self.next_id(), self.user_of(d));
        let profile = self.profile(d, at);
        Some(match table {
            "note" => format!(
                "{profile}INSERT INTO note (id, user_id, tune_id, body, last_modified_at) \
                 VALUES ('{id}', '{user}', '{tune}', 'note {}', '{at}')",
                self.ids
            ),
            _ => format!(
                "{profile}INSERT INTO practice_record (id, user_id, tune_id, practiced, quality, \
                 easiness, elapsed_ms, due, last_modified_at) VALUES ('{id}', '{user}', '{tune}', \
                 '{at}', {}, 2.6, {}, '{}', '{at}')",
                self.rng.gen_range(0..=5),
                self.rng.gen_range(1_000..9_000_000_000_i64),
                integration_tests::sync::at(self.clock + 86_400)
            ),
        })
    }

    /// A repertoire named from a small set, so that devices of one user take one name offline.
    /// A name live on this device is not taken again here: the device's own unique key refuses
    /// it, as the app would.
    fn create_repertoire(&mut self, d: usize, at: &str) -> Option<String> {
        let name = *["session", "gig"].choose(&mut self.rng).expect("a name");
        if self.live(d, "repertoire").iter().any(|row| row["name"] == name) {
            return None;
        }
        let (id, user) = (self.next_id(), self.user_of(d));
        Some(format!(
            "{}INSERT INTO repertoire (id, user_id, name, last_modified_at) \
             VALUES ('{id}', '{user}', '{name}', '{at}')",
            self.profile(d, at),
        ))
    }

    /// A live tune into a live repertoire it is not in on this device.
    fn add_to_repertoire(&mut self, d: usize, at: &str) -> Option<String> {
        let repertoire = text(&self.pick(d, "repertoire")?["id"]);
        let tune = text(&self.pick(d, "tune")?["id"]);
        let rows = self.device(d).client.rows("repertoire_tune").expect("read the device's rows");
        let there = |row: &Values| {
            text(&row["repertoire_id"]) == repertoire && text(&row["tune_id"]) == tune
        };
        if rows.iter().any(there) {
            return None;
        }
        Some(format!(
            "INSERT INTO repertoire_tune (repertoire_id, tune_id, position, goal, \
             last_modified_at) VALUES ('{repertoire}', '{tune}', {}, 'learn', '{at}')",
            self.rng.gen_range(0..100)
        ))
    }

    /// A new value in a live row of `table`.
    fn edit(&mut self, d: usize, table: &str, at: &str) -> Option<String> {
        let row = self.pick(d, table)?;
        let n = self.rng.gen_range(0..1000);
        let set = match table {
            "note" => format!("body = 'edit {n}', pinned = {}", n % 2),
            "repertoire" => format!("instrument = 'instrument {n}'"),
            "repertoire_tune" => {
                let goal = ["learn", "recall", "fluency", "perform"][n % 4];
                format!("position = {n}, goal = '{goal}'")
            }
            _ => format!("quality = {}, interval = {n}, repetitions = {}", n % 6, n % 7),
        };
        Some(format!(
            "UPDATE {table} SET {set}, last_modified_at = '{at}' WHERE {}",
            key(table, &row)
        ))
    }

    /// A soft delete (at the logical clock) or an SQL delete (at the device's real clock, which
    /// is later than any logical time) of a live row of a random table.
    fn remove(&mut self, d: usize, at: &str, soft: bool) -> Option<String> {
        let tables = ["tune", "note", "repertoire", "repertoire_tune", "practice_record"];
        let table = *tables.choose(&mut self.rng).expect("a table");
        let row = self.pick(d, table)?;
        let key = key(table, &row);
        Some(if soft {
            self.tally.soft_deletes += 1;
            format!("UPDATE {table} SET deleted = 1, last_modified_at = '{at}' WHERE {key}")
        } else {
            self.tally.sql_deletes += 1;
            format!("DELETE FROM {table} WHERE {key}")
        })
    }

    /// A sync of device `d`: mostly a plain one; sometimes its answer is lost; sometimes it is
    /// held while the device writes more, then delivered, lost, or the device is killed.
    fn sync(&mut self, d: usize) {
        match self.rng.gen_range(0..20) {
            0..14 => {
                let report = self.sync_once(d).unwrap_or_else(|e| panic!("device {d}: {e}"));
                self.met(&report);
                self.log.push(format!("sync: {}", summary(&report)));
            }
            14..17 => {
                self.proxy.set_fault(Fault::Cut);
                let lost = self.sync_once(d);
                self.proxy.set_fault(Fault::Pass);
                let error = lost.expect_err("a sync whose answer is lost fails");
                self.tally.lost += 1;
                self.log.push(format!("sync, answer lost: {error}"));
            }
            outcome => self.sync_in_flight(d, outcome),
        }
    }

    fn met(&mut self, report: &SyncReport) {
        self.tally.met(report);
        self.quarantined += report.applied.quarantined;
    }

    fn sync_once(&self, d: usize) -> Result<SyncReport, String> {
        self.served.settle();
        if let Some(ts) = self.ts(d) {
            return ts.sync(self.device(d)).wait();
        }
        self.served.block_on(self.device(d).client.sync_once()).map_err(|e| e.to_string())
    }

    /// The driver, when device `d` is a TypeScript one.
    fn ts(&self, d: usize) -> Option<&'a TsDevices> {
        self.typescript.filter(|_| self.on_typescript[d])
    }

    /// A sync whose answer is held while device `d` writes one to three rows; then `outcome`
    /// decides: 17 or 18 delivers it, 19 kills the device and restarts it.
    fn sync_in_flight(&mut self, d: usize, outcome: u32) {
        if let Some(ts) = self.ts(d) {
            return self.ts_sync_in_flight(ts, d, outcome);
        }
        self.served.settle();
        let mut hold = self.proxy.hold_next();
        let client = Arc::clone(&self.device(d).client);
        let runtime = self.served.block_on(async { tokio::runtime::Handle::current() });
        let sync = runtime.spawn(async move { client.sync_once().await });
        let answered =
            async { tokio::time::timeout(Duration::from_secs(20), hold.answered()).await };
        self.served.block_on(answered).expect("the server answers within 20 s");
        self.log.push("sync held; in flight:".into());
        for _ in 0..self.rng.gen_range(1..=3) {
            self.write(d);
        }
        if outcome < 19 {
            hold.deliver();
            let report = self.served.block_on(sync).expect("the sync task ends");
            let report = report.unwrap_or_else(|e| panic!("device {d}: {e}"));
            self.met(&report);
            self.tally.held += 1;
            self.log.push(format!("sync delivered: {}", summary(&report)));
        } else {
            sync.abort();
            let killed = self.served.block_on(sync);
            assert!(killed.is_err_and(|e| e.is_cancelled()), "the sync was killed");
            hold.cut();
            self.tally.killed += 1;
            self.log.push("device killed with its sync in flight".into());
            self.restart(d);
        }
    }

    /// [`World::sync_in_flight`] of a TypeScript device: killed, its database is closed under
    /// the sync, whose answer is then cut.
    fn ts_sync_in_flight(&mut self, ts: &TsDevices, d: usize, outcome: u32) {
        self.served.settle();
        let mut hold = self.proxy.hold_next();
        let sync = ts.sync(self.device(d));
        let answered =
            async { tokio::time::timeout(Duration::from_secs(20), hold.answered()).await };
        self.served.block_on(answered).expect("the server answers within 20 s");
        self.log.push("sync held; in flight:".into());
        for _ in 0..self.rng.gen_range(1..=3) {
            self.write(d);
        }
        if outcome < 19 {
            hold.deliver();
            let report = sync.wait().unwrap_or_else(|e| panic!("device {d}: {e}"));
            self.met(&report);
            self.tally.held += 1;
            self.log.push(format!("sync delivered: {}", summary(&report)));
        } else {
            ts.kill(self.device(d));
            hold.cut();
            assert!(sync.wait().is_err(), "the sync of a killed device fails");
            self.tally.killed += 1;
            self.log.push("device killed with its sync in flight".into());
            self.restart(d);
        }
    }

    /// An admin's SQL delete on the server of a row this seed created (if it is there), parents
    /// included (their children go with them by cascade): clients receive it as a removal, and
    /// a device that writes under the removed row meanwhile has that change quarantined.
    fn remove_on_server(&mut self) {
        let tables = ["note", "practice_record", "tune", "repertoire", "repertoire_tune"];
        let table = *tables.choose(&mut self.rng).expect("a table");
        let d = self.rng.gen_range(0..DEVICES);
        let Some(row) = self.pick(d, table) else { return };
        let sql = format!("DELETE FROM {table} WHERE {}", key(table, &row));
        self.log.push(format!("on the server: {sql}"));
        self.served.database().execute(&sql);
    }

    fn restart(&mut self, d: usize) {
        if let Some(ts) = self.ts(d) {
            ts.kill(self.device(d));
        }
        let device = self.devices[d].take().expect("the device is open");
        self.devices[d] = Some(device.reopen());
        self.tally.restarts += 1;
        self.log.push("device restarted".into());
    }

    /// Every device holds what the server lets its user read, has nothing to push, and keeps
    /// every change the server refused for good in its quarantine, with the verdict.
    fn check(&self) {
        let snapshot = self.served.snapshot();
        let mut quarantined = 0;
        for d in 0..DEVICES {
            let device = self.device(d);
            for kept in device.client.quarantine().expect("read the quarantine") {
                assert!(kept.constraint.is_some() && kept.kind.is_some(), "device {d}: {kept:?}");
                quarantined += 1;
            }
            let expected = expected_on_device(snapshot.readable_by(&device.user));
            let differences = differences(&expected, &device.rows());
            assert!(differences.is_empty(), "device {d}:\n{}", differences.join("\n"));
            assert_eq!(device.outbox_len(), 0, "device {d} has writes left to push");
        }
        assert_eq!(quarantined, self.quarantined, "every quarantined change is still there");
    }
}

fn text(value: &Value) -> String {
    value.as_str().expect("a text value").to_owned()
}

/// The `WHERE` condition of `row`'s primary key.
fn key(table: &str, row: &Values) -> String {
    match table {
        "repertoire_tune" => format!(
            "repertoire_id = '{}' AND tune_id = '{}'",
            text(&row["repertoire_id"]),
            text(&row["tune_id"])
        ),
        _ => format!("id = '{}'", text(&row["id"])),
    }
}

fn summary(report: &SyncReport) -> String {
    let applied = report.applied;
    format!(
        "{} requests, pushed {}, rejected {}, quarantined {}, acknowledged {}, stored {}, \
         deleted {}, kept {}",
        report.requests,
        report.pushed,
        report.rejected,
        applied.quarantined,
        applied.acknowledged,
        applied.stored,
        applied.deleted,
        applied.kept_local
    )
}

/// What a device holds that it should not, lacks, or holds differently.
fn differences(expected: &Rows, actual: &Rows) -> Vec<String> {
    let mut out = Vec::new();
    for (place, row) in expected {
        match actual.get(place) {
            None => out.push(format!("missing {place:?}: {row:?}")),
            Some(held) if held != row => {
                out.push(format!("differs {place:?}:\n  server {row:?}\n  device {held:?}"))
            }
            Some(_) => {}
        }
    }
    for (place, row) in actual.iter().filter(|(place, _)| !expected.contains_key(*place)) {
        out.push(format!("extra {place:?}: {row:?}"));
    }
    out
}
