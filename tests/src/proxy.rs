//! A loopback HTTP proxy in front of a test server, with faults a test switches while it runs:
//! the answer of a sync reaches the client, or it is lost (the server answered and committed, the
//! client's connection is cut halfway through the body), or it is held until the test lets it go,
//! so the test can act (edit the device, stop the server) while the request is in flight; or the
//! proxy refuses it itself, as a server at its limits does (429 or 503 with `Retry-After`). It
//! notes when each sync arrived.
//!
//! Faults touch `POST /api/sync` only; any other request (the event stream of pokes) is passed
//! through as it streams. Requests the upstream does not answer get a 502.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What the proxy does with the answers to syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Deliver them.
    Pass,
    /// Cut the connection halfway through each answer's body: the server has committed the sync,
    /// the client never reads its answer.
    Cut,
}

/// A proxy listening on a free loopback port until it is dropped.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    http: reqwest::Client,
    upstream: Mutex<String>,
    fault: Mutex<Fault>,
    hold: Mutex<Option<Holding>>,
    refusal: Mutex<Option<Response>>,
    arrivals: Mutex<Vec<Instant>>,
}

/// The proxy's side of a [`Hold`].
struct Holding {
    answered: oneshot::Sender<()>,
    release: oneshot::Receiver<Release>,
}

enum Release {
    Deliver,
    Cut,
}

/// The next sync answer, held by the proxy once the server has given it.
pub struct Hold {
    answered: Option<oneshot::Receiver<()>>,
    release: oneshot::Sender<Release>,
}

impl Hold {
    /// Wait until the server has answered the held sync (it has committed it by then).
    pub async fn answered(&mut self) {
        if let Some(answered) = self.answered.take() {
            answered.await.expect("the proxy holds a sync answer");
        }
    }

    /// Let the answer reach the client (after a [`Fault::Cut`] switched on meanwhile, it is cut).
    pub fn deliver(self) {
        let _ = self.release.send(Release::Deliver);
    }

    /// Cut the connection instead of answering. Dropping the hold does the same.
    pub fn cut(self) {
        let _ = self.release.send(Release::Cut);
    }
}

impl Proxy {
    /// Start a proxy to `upstream` (a base URL such as `http://127.0.0.1:8787`), passing
    /// everything.
    pub async fn start(upstream: &str) -> Proxy {
        let shared = Arc::new(Shared {
            http: reqwest::Client::new(),
            upstream: Mutex::new(upstream.trim_end_matches('/').to_owned()),
            fault: Mutex::new(Fault::Pass),
            hold: Mutex::new(None),
            refusal: Mutex::new(None),
            arrivals: Mutex::new(Vec::new()),
        });
        let router = Router::new().fallback(forward).with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("a bound address");
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("the proxy serves");
        });
        Proxy { addr, shared, task }
    }

    /// The proxy's base URL, for a client's config.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Send what comes next to another server (a restarted one, or an address nobody listens on).
    pub fn set_upstream(&self, upstream: &str) {
        *lock(&self.shared.upstream) = upstream.trim_end_matches('/').to_owned();
    }

    /// What happens to sync answers from now on.
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.shared.fault) = fault;
    }

    /// Hold the answer to the next sync request until the returned [`Hold`] releases it.
    pub fn hold_next(&self) -> Hold {
        let (answered_tx, answered) = oneshot::channel();
        let (release, release_rx) = oneshot::channel();
        *lock(&self.shared.hold) = Some(Holding { answered: answered_tx, release: release_rx });
        Hold { answered: Some(answered), release }
    }
}

impl Proxy {
    /// Answer the next sync request here with `status`, the protocol's error body of `code` and
    /// `Retry-After: <retry_after>`, without passing it on.
    pub fn refuse_next(&self, status: StatusCode, code: &str, retry_after: u32) {
        let body =
            serde_json::json!({ "error": { "code": code, "message": "refused by the proxy" } });
        let headers = [(header::RETRY_AFTER, retry_after.to_string())];
        let refusal = (status, headers, axum::Json(body)).into_response();
        *lock(&self.shared.refusal) = Some(refusal);
    }

    /// When each sync request reached the proxy, in order.
    pub fn sync_arrivals(&self) -> Vec<Instant> {
        lock(&self.shared.arrivals).clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let is_sync = request.method() == Method::POST && request.uri().path() == "/api/sync";
    if is_sync {
        lock(&shared.arrivals).push(Instant::now());
        if let Some(refusal) = lock(&shared.refusal).take() {
            return refusal;
        }
    }
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let url = format!("{}{path}", lock(&shared.upstream));
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::BAD_REQUEST, "the proxy could not read the request").into_response();
    };
    let mut headers = parts.headers;
    headers.remove(header::HOST);
    let upstream = shared.http.request(parts.method, &url).headers(headers).body(body).send().await;
    let upstream = match upstream {
        Ok(response) => response,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("proxy: {url}: {e}")).into_response(),
    };
    let status = upstream.status();
    let headers = answer_headers(upstream.headers());
    if !is_sync {
        return answer(status, headers, Body::from_stream(upstream.bytes_stream()));
    }
    // The whole answer is read before any fault, so the server has finished (and committed) the
    // sync whatever the client gets.
    let body = match upstream.bytes().await {
        Ok(body) => body,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("proxy: {url}: {e}")).into_response(),
    };
    let holding = lock(&shared.hold).take();
    let mut cut = false;
    if let Some(Holding { answered, release }) = holding {
        let _ = answered.send(());
        cut = !matches!(release.await, Ok(Release::Deliver));
    }
    if cut || *lock(&shared.fault) == Fault::Cut {
        // Half the body, then an error: the server drops the connection mid-answer.
        let half = body.slice(..body.len() / 2);
        let lost = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "answer cut");
        let chunks = stream::iter([Ok(half), Err(lost)]);
        return answer(status, headers, Body::from_stream(chunks));
    }
    answer(status, headers, Body::from(body))
}

/// The upstream's headers less those that describe its connection and framing, which the proxy's
/// own connection sets.
fn answer_headers(upstream: &HeaderMap) -> HeaderMap {
    let mut headers = upstream.clone();
    for name in [header::CONNECTION, header::CONTENT_LENGTH, header::TRANSFER_ENCODING] {
        headers.remove(name);
    }
    headers
}

fn answer(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
