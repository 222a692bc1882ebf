//! Several `sync-server` processes on one Postgres, for the scale-out tests (docs/server.md,
//! Several instances): each [`Instance`] on a free
//! loopback port and stopped with SIGTERM as a container runtime stops it, and a round-robin
//! [`Balancer`] in front of them that moves a request to the next instance when one refuses the
//! connection, as a load balancer's connect-failure retry does.

use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

use crate::server::SECRET;
use crate::server_process::sync_server_binary;

/// How long an instance may take to answer `/healthz` after it starts.
const START_WITHIN: Duration = Duration::from_secs(30);

/// How long an instance may take to exit after SIGTERM: its 30 s grace, and a little more.
const STOP_WITHIN: Duration = Duration::from_secs(40);

/// A `sync-server` process over `database_url`, verifying tokens signed with [`SECRET`].
pub struct Instance {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Instance {
    /// Start an instance on a free loopback port and wait until it answers `/healthz`.
    pub async fn start(database_url: &str) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr: SocketAddr| addr.port())
            .expect("a free loopback port");
        let root = crate::workspace_root();
        let secret = std::str::from_utf8(SECRET).expect("the test secret is text");
        let child = Command::new(sync_server_binary())
            .current_dir(&root)
            .args(["--database-url", database_url, "--jwt-secret", secret])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--schema")
            .arg(root.join("schema.toml"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .expect("start sync-server");
        let instance = Instance { child, base: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let health = http.get(format!("{}/healthz", instance.base)).send().await;
            if health.is_ok_and(|answer| answer.status().is_success()) {
                return instance;
            }
            assert!(started.elapsed() < START_WITHIN, "{} did not start", instance.base);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Send SIGTERM and wait for the process to exit (it drains requests in flight first).
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for sync-server") {
                return status;
            }
            assert!(started.elapsed() < STOP_WITHIN, "{} did not stop after SIGTERM", self.base);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// An instance a test did not stop (it failed first) is killed with it.
impl Drop for Instance {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A round-robin loopback load balancer: each request goes to the next instance; when that one
/// refuses the connection (stopped, or not started yet), to the one after, so a request is
/// answered 502 only when no instance takes it. A new connection per request, so that no request
/// rides a kept-alive connection to an instance that has gone.
pub struct Balancer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    http: reqwest::Client,
    upstreams: Mutex<Vec<String>>,
    next: AtomicUsize,
}

impl Balancer {
    /// Start balancing over `upstreams` (base URLs).
    pub async fn start(upstreams: Vec<String>) -> Balancer {
        let http =
            reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("an HTTP client");
        let shared =
            Arc::new(Shared { http, upstreams: Mutex::new(upstreams), next: AtomicUsize::new(0) });
        let router = Router::new().fallback(forward).with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("a bound address");
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("the balancer serves");
        });
        Balancer { addr, shared, task }
    }

    /// The balancer's base URL, for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Balance over `upstreams` from now on (an instance replaced by a new one).
    pub fn set_upstreams(&self, upstreams: Vec<String>) {
        *self.shared.upstreams.lock().unwrap_or_else(|p| p.into_inner()) = upstreams;
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let upstreams = shared.upstreams.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::BAD_REQUEST, "balancer: cannot read the request").into_response();
    };
    let mut headers = parts.headers;
    headers.remove(header::HOST);
    let first = shared.next.fetch_add(1, Ordering::Relaxed);
    let mut refused = Vec::new();
    for n in 0..upstreams.len() {
        let url = format!("{}{path}", upstreams[(first + n) % upstreams.len()]);
        let sent = shared
            .http
            .request(parts.method.clone(), &url)
            .headers(headers.clone())
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(upstream) => {
                let status = upstream.status();
                let mut headers = upstream.headers().clone();
                for name in [header::CONNECTION, header::CONTENT_LENGTH, header::TRANSFER_ENCODING]
                {
                    headers.remove(name);
                }
                let mut response = Response::new(Body::from_stream(upstream.bytes_stream()));
                *response.status_mut() = status;
                *response.headers_mut() = headers;
                return response;
            }
            // Nothing was sent: the next instance may take it.
            Err(error) if error.is_connect() => refused.push(format!("{url}: {error}")),
            Err(error) => {
                return (StatusCode::BAD_GATEWAY, format!("balancer: {url}: {error}"))
                    .into_response();
            }
        }
    }
    (StatusCode::BAD_GATEWAY, format!("balancer: no instance took it: {}", refused.join("; ")))
        .into_response()
}
