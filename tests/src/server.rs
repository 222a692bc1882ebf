//! A real sync server on 127.0.0.1 for end-to-end tests and benchmarks: start one over a store
//! with an HS256 secret, mint a token for a user, POST a sync, stop it gracefully.
//!
//! `TestServer::start(store, Options::default())`, then [`TestServer::sync`] as a user, then
//! [`TestServer::stop`]. [`Served`] is a server over a fresh store of either kind together with
//! the database behind it, for tests that compare snapshots around their requests.
//!
//! The schema is the example application's (`generated::SCHEMA`). Postgres stores come from a
//! [`TestDb`](crate::pg::TestDb), whose client is blocking: create it (and let it drop) outside the
//! async runtime, as `#[test]` functions that call [`runtime`] do.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};
use sync_runtime::auth::{AuthConfig, Authenticator};
use sync_runtime::engine::{self, Engine};
use sync_runtime::protocol::{SyncError, SyncErrorResponse, SyncResponse};
use sync_runtime::schema::SchemaMeta;
use sync_runtime::server::{self, AppState, HttpConfig};
use sync_runtime::store::postgres::PgStore;
use sync_runtime::store::sqlite::SqliteStore;
use sync_runtime::store::{Store, StoreError};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::sync::{Database, Ddl, Schema, Snapshot, TestStore};

/// The HS256 secret every test server verifies tokens with.
pub const SECRET: &[u8] = b"integration-tests-hs256-secret-0123456789";

/// The schema every test server serves.
pub static SCHEMA: &SchemaMeta = &generated::SCHEMA;

/// The limits of a test server; the defaults are the production defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub engine: engine::Config,
    pub http: HttpConfig,
    /// How tokens are verified; `None` is HS256 with [`SECRET`] only.
    pub auth: Option<AuthConfig>,
}

/// A server running in this process on a free loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    client: reqwest::Client,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Start serving `store` with `options`, authenticating HS256 tokens signed with [`SECRET`]
    /// unless the options say otherwise.
    pub async fn start<S: Store>(store: S, options: Options) -> TestServer {
        TestServer::start_with(SCHEMA, store, options).await
    }

    /// Start serving `store`, which holds `schema`, like [`TestServer::start`].
    pub async fn start_with<S: Store>(
        schema: &'static SchemaMeta,
        store: S,
        options: Options,
    ) -> TestServer {
        let config = options.auth.unwrap_or_else(|| AuthConfig {
            hs256_secret: Some(SECRET.to_vec()),
            ..AuthConfig::default()
        });
        let auth = Authenticator::new(config).await.expect("a valid auth configuration");
        let engine = Engine::new(schema, store, options.engine);
        let limits = options.http.limits.clone();
        let router = server::router(Arc::new(AppState { engine, auth, http: options.http }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("a bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task =
            tokio::spawn(
                async move { server::serve_with(listener, router, &limits, shutdown).await },
            );
        TestServer { addr, client: reqwest::Client::new(), stop, task }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// An HTTP client for requests this module has no helper for.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `POST /api/sync` with `body` as JSON and `token` (if any) as the bearer token.
    pub async fn post_sync(&self, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.client.post(self.url("/api/sync")).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the test server answers")
    }

    /// Sync as `user` (with a fresh token): the response, or the status and error body.
    pub async fn sync(
        &self,
        user: &str,
        request: &Value,
    ) -> Result<SyncResponse, (StatusCode, SyncError)> {
        let response = self.post_sync(Some(&token(user)), request).await;
        let status = response.status();
        let body = response.bytes().await.expect("read the answer");
        if status.is_success() {
            Ok(serde_json::from_slice(&body).unwrap_or_else(|e| {
                panic!(
                    "a {status} answer is not a SyncResponse ({e}): {}",
                    String::from_utf8_lossy(&body)
                )
            }))
        } else {
            let error: SyncErrorResponse = serde_json::from_slice(&body).unwrap_or_else(|e| {
                panic!(
                    "a {status} answer is not a SyncErrorResponse ({e}): {}",
                    String::from_utf8_lossy(&body)
                )
            });
            Err((status, error.error))
        }
    }

    /// Stop accepting connections, let requests in flight finish, and wait until the server has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the server task ends").expect("the server stops cleanly");
    }
}

/// A [`TestServer`] over a fresh store of either kind, with the database behind the store so that
/// a test can take [`Snapshot`]s around its requests. It runs on a runtime of its own: build it,
/// call it and drop it outside any async runtime, since the Postgres snapshot client blocks.
pub struct Served {
    pub server: TestServer,
    /// One batch of the store's tombstone pruning, as the server's retention task runs it.
    prune: Pruner,
    rt: Runtime,
    // Dropped after the runtime, whose tasks hold connections to it.
    db: Database,
    schema: Schema,
}

/// A batch of pruning of a store that a [`Served`] shares with its server.
type Pruner = Box<
    dyn Fn(Duration, usize) -> Pin<Box<dyn Future<Output = Result<usize, StoreError>> + Send>>
        + Send
        + Sync,
>;

/// `store` shared between the server and a [`Pruner`].
fn shared<S: Store>(store: S) -> (Arc<S>, Pruner) {
    let store = Arc::new(store);
    let pruned = Arc::clone(&store);
    let prune: Pruner = Box::new(move |older_than, batch| {
        let store = Arc::clone(&pruned);
        Box::pin(async move { store.prune(older_than, batch).await })
    });
    (store, prune)
}

/// An answer of the server: status, headers and the body as JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Served {
    /// A server with `options` over a fresh store of kind `S` holding the example schema.
    pub fn start<S: TestStore>(options: Options) -> Served {
        let rt = runtime();
        let ir = crate::example_schema();
        let ddl = Ddl::of(&ir);
        let schema = Schema { meta: SCHEMA, ir };
        let (store, db) = S::create(&rt, &schema, &ddl);
        let (store, prune) = shared(store);
        let server = rt.block_on(TestServer::start(store, options));
        Served { server, prune, rt, db, schema }
    }

    /// A server with `options` over a fresh store of kind `S` holding `ir`, another schema than
    /// the example's (its metadata is built from the IR, as the generator builds it).
    pub fn start_with<S: TestStore>(ir: codegen::ir::Schema, options: Options) -> Served {
        let rt = runtime();
        let ddl = Ddl::of(&ir);
        let schema = Schema { meta: codegen::meta::schema_meta(&ir), ir };
        let (store, db) = S::create(&rt, &schema, &ddl);
        let (store, prune) = shared(store);
        let server = rt.block_on(TestServer::start_with(schema.meta, store, options));
        Served { server, prune, rt, db, schema }
    }

    /// Prune at most `batch` of the store's tombstones older than `older_than`, as the server's
    /// retention task does (docs/server.md); how many were pruned.
    pub fn prune(&self, older_than: Duration, batch: usize) -> usize {
        self.rt.block_on((self.prune)(older_than, batch)).expect("the prune succeeds")
    }

    /// Run `future` (a request to the server, say) to completion.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    /// `POST /api/sync` with `body` as given, declared JSON, and `authorization` (if any) as the
    /// whole `Authorization` header. The answer's body must be JSON.
    pub fn post(&self, authorization: Option<&str>, body: impl Into<reqwest::Body>) -> Answer {
        let mut request = self
            .server
            .client
            .post(self.server.url("/api/sync"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        self.rt.block_on(async {
            let response = request.send().await.expect("the test server answers");
            let status = response.status();
            let headers = response.headers().clone();
            let text = response.text().await.expect("read the answer");
            let body = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("a {status} answer is not JSON ({e}): {text}"));
            Answer { status, headers, body }
        })
    }

    /// `POST /api/sync` as `user` from device `client_id` at `cursor`, pushing `changes`, asking
    /// for the largest page.
    pub fn sync_as(
        &self,
        user: &str,
        client_id: &str,
        cursor: &Value,
        changes: Vec<Value>,
    ) -> Answer {
        self.sync_paged_as(user, client_id, cursor, changes, 10_000)
    }

    /// As [`Served::sync_as`], asking for pages of at most `page_size` changes.
    pub fn sync_paged_as(
        &self,
        user: &str,
        client_id: &str,
        cursor: &Value,
        changes: Vec<Value>,
        page_size: i64,
    ) -> Answer {
        let body = json!({
            "schema_version": self.schema.meta.version, "client_id": client_id,
            "cursor": cursor, "page_size": page_size, "changes": changes,
        });
        self.post(Some(&format!("Bearer {}", token(user))), body.to_string())
    }

    /// Push `changes` as `user` from device `client_id`: accepted, and none rejected.
    pub fn push_as(&self, user: &str, client_id: &str, changes: Vec<Value>) {
        let answer = self.sync_as(user, client_id, &Value::Null, changes);
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["rejected"], json!([]), "{}", answer.body);
    }

    /// Every change `user`'s device `client_id` pulls after `cursor`, page after page until
    /// `has_more` is false, once every transaction already started has ended; and the cursor
    /// to pull from next.
    pub fn pull_as(&self, user: &str, client_id: &str, mut cursor: Value) -> (Vec<Value>, Value) {
        self.settle();
        let mut changes = Vec::new();
        loop {
            let answer = self.sync_as(user, client_id, &cursor, vec![]);
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            changes.extend(answer.body["changes"].as_array().expect("changes").iter().cloned());
            cursor = answer.body["cursor"].clone();
            if answer.body["has_more"] == json!(false) {
                return (changes, cursor);
            }
        }
    }

    /// Wait until a pull serves every transaction committed so far (see [`Database::settle`]).
    pub fn settle(&self) {
        self.db.settle();
    }

    /// The database under the store: for an admin's SQL, or another server over the same data.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Every synced row and tombstone of the database, as they are now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::read(&self.db, &self.schema)
    }

    /// Fail, naming `case` and what differs, unless the database is as it was in `before`.
    pub fn assert_unchanged(&self, before: &Snapshot, case: &str) {
        let after = self.snapshot();
        if after == *before {
            return;
        }
        let mut differences: Vec<String> = Vec::new();
        for (place, row) in &after.rows {
            match before.rows.get(place) {
                None => differences.push(format!("added {place:?}: {row:?}")),
                Some(old) if old != row => {
                    differences.push(format!("changed {place:?}: {old:?} -> {row:?}"))
                }
                Some(_) => {}
            }
        }
        for place in before.rows.keys().filter(|place| !after.rows.contains_key(*place)) {
            differences.push(format!("removed {place:?}"));
        }
        if after.tombstones != before.tombstones {
            differences
                .push(format!("tombstones {:?} -> {:?}", before.tombstones, after.tombstones));
        }
        panic!("{case}: the refused request wrote something:\n{}", differences.join("\n"));
    }

    /// Stop the server gracefully, then drop the database.
    pub fn stop(self) {
        let Served { server, prune, rt, db, .. } = self;
        rt.block_on(server.stop());
        // The pruner shares the store, whose connections must close before the database goes.
        drop(prune);
        drop(rt);
        drop(db);
    }
}

/// A token for `user` signed with [`SECRET`], valid for an hour, for the default audience.
pub fn token(user: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let claims = json!({ "sub": user, "aud": "authenticated", "iat": now, "exp": now + 3600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .expect("sign a test token")
}

/// A sync request of the example schema's version, from a fresh device, pushing `changes`.
pub fn request(cursor: Option<&str>, changes: Value) -> Value {
    json!({
        "schema_version": SCHEMA.version,
        "client_id": uuid::Uuid::new_v4(),
        "cursor": cursor,
        "changes": changes,
    })
}

/// The embedded store in a new file `sync.db` of `dir`, with the example schema's tables.
pub fn sqlite_store(dir: &Path) -> SqliteStore {
    let ddl = Ddl::of(&crate::example_schema());
    SqliteStore::open(&dir.join("sync.db"), SCHEMA, &ddl.sqlite_server)
        .expect("open the SQLite store")
}

/// The Postgres store over `url`, a database the example schema's DDL was applied to.
pub async fn pg_store(url: &str) -> PgStore {
    PgStore::connect(url, SCHEMA).await.expect("connect the Postgres store")
}

/// A multi-threaded runtime for a `#[test]` that also holds blocking Postgres clients.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime")
}
