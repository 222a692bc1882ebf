//! What every figure needs: a database with the example schema, a raw SQL connection to it, the
//! `sync-server` binary serving it on loopback (its own process, built like a deployment's), and
//! users with tokens.

use std::fmt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::pg::{self, TestDb};
use integration_tests::server_process::peak_kib;
use serde_json::{Value, json};

pub type Error = Box<dyn std::error::Error>;

/// The HS256 secret the bench server and its tokens share.
pub const SECRET: &str = "sync-bench-secret-of-at-least-32-bytes";

/// How long seeded rows may wait behind the pull horizon before the bench gives up.
const HORIZON_WAIT: Duration = Duration::from_secs(120);

pub struct Fixture {
    pub url: String,
    pub sql: tokio_postgres::Client,
    pub base: String,
    pub http: reqwest::Client,
    /// Kept so the server lives as long as the fixture.
    _server: Server,
}

impl Fixture {
    /// Apply the generated DDL to `db` and serve it with the `sync-server` at `binary`.
    pub async fn start(db: &TestDb, binary: &Path) -> Result<Self, Error> {
        let url = db.url();
        let sql = pg::connect_async(&url).await?;
        let ddl = std::fs::read_to_string(
            integration_tests::workspace_root().join("generated/sql/postgres.sql"),
        )?;
        sql.batch_execute(&ddl).await?;
        let server = Server::start(binary, &url).await?;
        let base = server.base.clone();
        Ok(Fixture { url, sql, base, http: reqwest::Client::new(), _server: server })
    }

    /// A user with a profile and one tune, ready to own practice records; returns its id.
    pub async fn user(&self, n: u32) -> Result<User, Error> {
        let user = User::new(n);
        let (id, tune) = (&user.id, &user.tune);
        self.sql
            .batch_execute(&format!(
                "INSERT INTO user_profile (id) VALUES ('{id}');
                 INSERT INTO tune (id, user_id, title) VALUES ('{tune}', '{id}', 'Tune {n}');"
            ))
            .await?;
        Ok(user)
    }

    /// `POST /api/sync` with `body`; the response body, which must be a 200.
    pub async fn sync(&self, user: &User, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        self.sync_at(&self.base, user, body).await
    }

    /// [`Fixture::sync`] on the server at `base` (`http://host:port`).
    pub async fn sync_at(&self, base: &str, user: &User, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        let response = self
            .http
            .post(format!("{base}/api/sync"))
            .bearer_auth(&user.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            return Err(
                format!("sync answered {status}: {}", String::from_utf8_lossy(&body)).into()
            );
        }
        Ok(body.to_vec())
    }

    /// `n` practice records of `user` written by plain SQL, as a server's data would be.
    pub async fn seed_records(&self, user: &User, n: usize) -> Result<(), Error> {
        let n = i64::try_from(n)?;
        self.sql
            .execute(
                "INSERT INTO practice_record (id, user_id, tune_id, practiced, quality, elapsed_ms, \
                 device_id, last_modified_at) \
                 SELECT gen_random_uuid(), $1::text::uuid, $2::text::uuid, now(), g % 6, g, 'seed', now() \
                 FROM generate_series(1, $3::int8) AS g",
                &[&user.id, &user.tune, &n],
            )
            .await?;
        // What autovacuum would do soon after a bulk load; without it the planner believes
        // the table is nearly empty and pages through it with a sort instead of the index.
        self.sql.batch_execute("ANALYZE practice_record").await?;
        self.await_horizon().await
    }

    /// Where the pull horizon stands now.
    pub async fn horizon(&self) -> Result<Horizon, Error> {
        let row = self
            .sql
            .query_one(
                "SELECT horizon::text, xid_age, extract(epoch FROM oldest_xact_age)::float8, \
                 oldest_xact_pid FROM _sync_horizon()",
                &[],
            )
            .await?;
        Ok(Horizon {
            xid: row.get::<_, &str>(0).parse()?,
            waiting_transactions: row.get(1),
            oldest_age_secs: row.get(2),
            oldest_pid: row.get(3),
        })
    }

    /// Wait until pulls serve every transaction committed so far (a transaction open elsewhere
    /// in the cluster may hold them back, docs/sync.md), saying so when that took a while; an
    /// error naming the horizon when it does not move on within [`HORIZON_WAIT`].
    async fn await_horizon(&self) -> Result<(), Error> {
        let row =
            self.sql.query_one("SELECT pg_snapshot_xmax(pg_current_snapshot())::text", &[]).await?;
        let committed: u64 = row.get::<_, &str>(0).parse()?;
        let started = Instant::now();
        // The horizon as first seen behind the rows: what the wait was for.
        let mut held: Option<Horizon> = None;
        loop {
            let horizon = self.horizon().await?;
            let waited = started.elapsed();
            if horizon.xid >= committed {
                if let Some(held) = held.filter(|_| waited > Duration::from_secs(1)) {
                    eprintln!("sync-bench: waited {:.1} s for {held}", waited.as_secs_f64());
                }
                return Ok(());
            }
            if waited > HORIZON_WAIT {
                return Err(format!(
                    "the seeded rows (below transaction {committed}) were still not served after \
                     {} s: {horizon}",
                    HORIZON_WAIT.as_secs()
                )
                .into());
            }
            held.get_or_insert(horizon);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Empty the practice records, and the deletion records that leaves (TRUNCATE is refused
    /// on synced tables), for a measurement to start from the same state as its baseline.
    pub async fn clear_records(&self) -> Result<(), Error> {
        self.sql.batch_execute("DELETE FROM practice_record; DELETE FROM _sync_tombstone").await?;
        self.sql.batch_execute("VACUUM ANALYZE practice_record, _sync_tombstone").await?;
        Ok(())
    }
}

/// Where pulls stand (`_sync_horizon()` of the generated DDL, docs/server.md "The pull horizon").
pub struct Horizon {
    /// Pulls serve the transactions below this one.
    pub xid: u64,
    /// Transactions that ended but wait behind the horizon.
    pub waiting_transactions: i64,
    /// How long the oldest open writing transaction of the database has been open, and its
    /// backend (none for a prepared transaction); `None` when none is seen.
    pub oldest_age_secs: Option<f64>,
    pub oldest_pid: Option<i32>,
}

impl fmt::Display for Horizon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the pull horizon at transaction {}, {} transactions waiting behind it, ",
            self.xid, self.waiting_transactions
        )?;
        match (self.oldest_age_secs, self.oldest_pid) {
            (Some(age), Some(pid)) => write!(f, "the oldest open one {age:.1} s old (pid {pid})"),
            (Some(age), None) => write!(f, "the oldest open one {age:.1} s old (prepared)"),
            (None, _) => write!(f, "no open one of this database seen"),
        }
    }
}

pub struct User {
    n: u32,
    pub id: String,
    pub tune: String,
    pub token: String,
}

impl User {
    /// User `n`'s ids and token; its rows exist nowhere yet.
    pub fn new(n: u32) -> Self {
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let tune = format!("00000000-0000-4000-9000-{n:012}");
        User { n, token: token(&id), id, tune }
    }

    /// `n` practice records of this user in wire form, all written at the same time.
    pub fn records(&self, n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| {
                json!({
                    "id": format!("{:08x}-0000-4000-a000-{:012}", self.n, i + 1),
                    "user_id": self.id,
                    "tune_id": self.tune,
                    "practiced": "2026-11-24T10:00:00.000Z",
                    "quality": i % 6,
                    "easiness": 2.5,
                    "interval": 1,
                    "repetitions": 0,
                    "elapsed_ms": i,
                    "due": null,
                    "deleted": false,
                    "last_modified_at": "2026-11-24T10:00:00.000Z",
                })
            })
            .collect()
    }
}

fn token(user: &str) -> String {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock");
    let claims = json!({ "sub": user, "aud": "authenticated", "exp": exp.as_secs() + 3600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("HS256 signing")
}

/// A sync request body.
pub fn request(cursor: Option<&str>, page_size: usize, changes: Vec<Value>) -> Vec<u8> {
    let body = json!({
        "schema_version": generated::SCHEMA.version,
        "client_id": "00000000-0000-4000-8000-00000000c11e",
        "cursor": cursor,
        "page_size": page_size,
        "changes": changes,
    });
    serde_json::to_vec(&body).expect("JSON")
}

/// Wall times of our way and of its baseline, measured in turn, so that a busy moment of the
/// machine weighs on both alike.
#[derive(Debug, Default)]
pub struct Paired {
    pub ours: Vec<Duration>,
    pub raw: Vec<Duration>,
}

impl Paired {
    /// `runs` times `ours` then `raw`, each after `reset`.
    pub async fn measure<R, O, B>(
        runs: usize,
        mut reset: R,
        mut ours: O,
        mut raw: B,
    ) -> Result<Self, Error>
    where
        R: AsyncFnMut() -> Result<(), Error>,
        O: AsyncFnMut() -> Result<(), Error>,
        B: AsyncFnMut() -> Result<(), Error>,
    {
        let mut paired = Paired::default();
        for _ in 0..runs {
            reset().await?;
            paired.ours.push(timed(&mut ours).await?);
            reset().await?;
            paired.raw.push(timed(&mut raw).await?);
        }
        Ok(paired)
    }

    /// The baseline's time over ours, repetition by repetition (higher is better).
    pub fn ratios(&self) -> Vec<f64> {
        self.raw
            .iter()
            .zip(&self.ours)
            .map(|(raw, ours)| raw.as_secs_f64() / ours.as_secs_f64())
            .collect()
    }

    /// The median of our times and of the baseline's, in milliseconds.
    pub fn median_ms(&self) -> (f64, f64) {
        (median_ms(&self.ours), median_ms(&self.raw))
    }
}

/// The wall time of one run of `f`.
pub async fn timed<F>(f: &mut F) -> Result<Duration, Error>
where
    F: AsyncFnMut() -> Result<(), Error>,
{
    let start = Instant::now();
    f().await?;
    Ok(start.elapsed())
}

/// The median of `times` in milliseconds; `times` is not empty.
pub fn median_ms(times: &[Duration]) -> f64 {
    crate::median(&times.iter().map(|t| t.as_secs_f64() * 1e3).collect::<Vec<_>>())
}

/// A `sync-server` process on a free loopback port.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(binary: &Path, database_url: &str) -> Result<Self, Error> {
        Self::start_with(binary, database_url, &[]).await
    }

    /// [`Server::start`] with more flags, `args`.
    pub async fn start_with(
        binary: &Path,
        database_url: &str,
        args: &[&str],
    ) -> Result<Self, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let root = integration_tests::workspace_root();
        let child = Command::new(binary)
            .current_dir(&root)
            .args(["--database-url", database_url, "--jwt-secret", SECRET])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--schema")
            .arg(root.join("schema.toml"))
            // The bench's clients sync back to back, far above the per-user rate meant for
            // devices (tests/tests/server_limits.rs tests the limiter); a 429 is no figure.
            .args(["--user-rate", "0"])
            .args(args)
            .env("RUST_LOG", std::env::var("SYNC_BENCH_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let server = Server { child, base: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        let http = reqwest::Client::new();
        while started.elapsed() < Duration::from_secs(30) {
            if http.get(format!("{}/healthz", server.base)).send().await.is_ok() {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("sync-server did not answer /healthz within 30 s".into())
    }

    /// The process's peak resident memory so far, in KiB.
    pub fn peak_kib(&self) -> Result<u64, Error> {
        Ok(peak_kib(self.child.id())?)
    }
}

/// Stopping the server with the fixture (or the measurement) that started it.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
