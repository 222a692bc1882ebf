//! Accepting and serving connections with hyper's HTTP/1 server: at most `max_connections` at
//! once (the rest wait in the listen backlog, so descriptors never run out), each cut when its
//! request head does not arrive within the header read timeout or when the client takes nothing
//! of an answer for the write timeout, and all of them finished gracefully at shutdown, those
//! still waiting to be accepted included.
//! `axum::serve` does the same minus the timeouts and the cap.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_io_timeout::TimeoutStream;

use super::Limits;

/// How long accepting pauses after an error that is not about one connection (the process out
/// of descriptors after all, say), so that the loop does not spin on it.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// How long shutdown waits, at most, for connections that have not begun their first request to
/// begin it (Go's `http.Server.Shutdown` waits 5 s for such connections).
const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);

/// How often, at most, the log says that connections wait for a free slot.
const CAP_WARNING_EVERY: Duration = Duration::from_secs(10);

/// Serve `router` on `listener` until `shutdown` completes, then stop accepting and wait until
/// every open connection has finished its request in flight.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut warned: Option<Instant> = None;
    let fresh = Arc::new(Fresh::default());
    let serve_one = |stream: TcpStream, slot: OwnedSemaphorePermit| {
        let tower = TowerToHyperService::new(router.clone());
        // Dropped with the connection, so it leaves the fresh ones then at the latest.
        let first = fresh.enter();
        let service = service_fn(move |request| {
            first.leave();
            tower.call(request)
        });
        // A write pending that long (the client reads nothing while its buffers are full) ends
        // the connection.
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let io = TokioIo::new(Box::pin(stream));
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            // A client that goes away or is too slow ends its connection; nothing to report.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended");
            }
            drop(slot);
        });
    };
    tokio::pin!(shutdown);
    loop {
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if warned.is_none_or(|at| at.elapsed() >= CAP_WARNING_EVERY) {
                    warned = Some(Instant::now());
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "at the cap of open connections: new ones wait in the listen backlog"
                    );
                }
                tokio::select! {
                    slot = Arc::clone(&slots).acquire_owned() => slot.expect("never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        serve_one(stream, slot);
    }
    // Connections the kernel has completed but nobody has accepted yet would be reset when the
    // listener closes, after their clients sent a request (a balancer cannot tell that from a
    // request that failed half-way): take and serve them first, as far as the cap allows. The
    // socket is asked directly, since the runtime may not have seen the latest arrivals yet.
    // Should that fail, the requests in flight are still answered below.
    match listener.into_std() {
        Ok(listener) => {
            while let Ok(slot) = Arc::clone(&slots).try_acquire_owned() {
                let Ok((stream, _)) = listener.accept() else { break };
                match stream.set_nonblocking(true).and_then(|()| TcpStream::from_std(stream)) {
                    Ok(stream) => serve_one(stream, slot),
                    Err(error) => tracing::debug!(%error, "a connection taken at shutdown is lost"),
                }
            }
        }
        Err(error) => tracing::warn!(%error, "connections waiting to be accepted are reset"),
    }
    // hyper ends a connection that has not begun a request at once when told to shut down,
    // even when the request is already in its socket: let those begin first.
    fresh.begun(FIRST_REQUEST_GRACE).await;
    graceful.shutdown().await;
    Ok(())
}

/// The connections that have not begun a request yet.
#[derive(Default)]
struct Fresh {
    count: AtomicUsize,
    changed: Notify,
}

impl Fresh {
    /// A new connection, fresh until it [leaves](FirstRequest::leave).
    fn enter(self: &Arc<Self>) -> FirstRequest {
        self.count.fetch_add(1, Ordering::SeqCst);
        FirstRequest { fresh: Arc::clone(self), left: AtomicBool::new(false) }
    }

    /// Wait until no connection is fresh, or `within` has passed.
    async fn begun(&self, within: Duration) {
        let deadline = tokio::time::sleep(within);
        tokio::pin!(deadline);
        loop {
            // Made before the count is read, so that a change in between still wakes it.
            let changed = self.changed.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::select! {
                () = changed => {}
                () = &mut deadline => return,
            }
        }
    }
}

/// One connection's place among the fresh ones.
struct FirstRequest {
    fresh: Arc<Fresh>,
    left: AtomicBool,
}

impl FirstRequest {
    /// The connection has begun a request, or ended: it is fresh no more.
    fn leave(&self) {
        if !self.left.swap(true, Ordering::SeqCst) {
            self.fresh.count.fetch_sub(1, Ordering::SeqCst);
            self.fresh.changed.notify_waiters();
        }
    }
}

impl Drop for FirstRequest {
    fn drop(&mut self) {
        self.leave();
    }
}

/// An error of `accept`: one connection's (reset before it was taken) is passed over; any other
/// is logged and accepting pauses a moment.
async fn accept_failed(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; pausing for a second");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}
