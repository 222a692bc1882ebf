//! `GET /api/events`: the [pokes](crate::pokes) of the token's user as server-sent events, until
//! the client leaves or the server shuts down.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::watch;

use super::AppState;
use super::extract::User;
use super::metrics::Metrics;
use crate::pokes::POKE_EVENT;
use crate::store::Store;

/// How often an idle stream carries a comment, so that proxies and clients see it alive.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Becomes `true` when the server starts shutting down; [`serve`](super::serve) puts it in every
/// request's extensions.
#[derive(Debug, Clone)]
pub(super) struct Stopping(pub watch::Receiver<bool>);

/// `GET /api/events`: the [`User`] as `POST /api/sync` takes it, subscribed before the answer's
/// head goes out, so that a client that has the head gets every later poke.
pub(super) async fn events<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    User(user): User,
    stopping: Option<Extension<Stopping>>,
    Extension(metrics): Extension<Arc<Metrics>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let pokes = state.engine.pokes(&user);
    // A router served without `serve` has no shutdown signal: its streams end with their client.
    let stopping = stopping.map(|Extension(Stopping(stopping))| stopping);
    // Counted as open until the stream is dropped, however it ends.
    let open = metrics.event_stream();
    let stream = futures_util::stream::unfold(
        (pokes, stopping, open),
        |(mut pokes, mut stopping, open)| async move {
            let poke = tokio::select! {
                poke = pokes.next() => poke?,
                () = stopped(&mut stopping) => return None,
            };
            let data = serde_json::to_string(&poke).expect("a poke serializes");
            Some((Ok(Event::default().event(POKE_EVENT).data(data)), (pokes, stopping, open)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// Completes once the server is shutting down (or is gone); never without a signal.
async fn stopped(stopping: &mut Option<watch::Receiver<bool>>) {
    match stopping {
        Some(stopping) => {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        }
        None => std::future::pending().await,
    }
}
