//! The poke listener of the Postgres store: one dedicated connection, outside the pool, that runs
//! `LISTEN _sync_poke` and forwards every notification to the store's subscribers, so a push
//! through any server instance pokes the devices connected to every other.
//!
//! LISTEN needs a session that lives as long as the server: behind a transaction-mode pooler
//! (PgBouncer, Supabase's pooler, Hyperdrive) it hears nothing, so the listener takes a direct URL
//! of the same database ([`PgStore::connect_with_listener`], `--listen-database-url`). The
//! `NOTIFY` of a sync transaction works through such a pooler like any other statement.
//!
//! When the connection fails (a restart, a failover, a network cut, which a health check that does
//! not answer reveals), the listener reconnects with backoff and logs why. Pokes sent while it is
//! away are lost; the devices see those changes at their next sync.
//!
//! [`PgStore::connect_with_listener`]: super::PgStore::connect_with_listener

use std::time::{Duration, Instant};

use pg_tls::TlsStream;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, Connection, Socket};

use super::pool::Target;
use crate::pokes::Poke;
use crate::store::StoreError;

/// The notification channel of pokes.
pub(super) const CHANNEL: &str = "_sync_poke";

/// How the listener's session shows in `pg_stat_activity`.
const APPLICATION_NAME: &str = "sync-poke-listener";

/// How often the listener checks that Postgres still answers, and how long it waits.
const HEALTH_CHECK: Duration = Duration::from_secs(30);
const HEALTH_TIMEOUT: Duration = Duration::from_secs(10);

/// The first and the longest pause before reconnecting; the pause doubles in between.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LONGEST_RETRY: Duration = Duration::from_secs(30);

/// The running listener; dropping it stops it and closes its connection.
#[derive(Debug)]
pub(super) struct Listener {
    task: JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    /// Listen on the database of `target` (with its TLS settings), sending what is heard to
    /// `pokes`. Returns once `LISTEN` has run, so every poke committed from then on is heard.
    pub(super) async fn start(
        mut target: Target,
        pokes: broadcast::Sender<Poke>,
    ) -> Result<Listener, StoreError> {
        target.config.application_name(APPLICATION_NAME);
        let session = Session::open(&target, &pokes).await.map_err(|e| {
            StoreError::Database(format!(
                "cannot LISTEN {CHANNEL} for pokes: {}",
                target.explain(&e)
            ))
        })?;
        Ok(Listener { task: tokio::spawn(supervise(target, pokes, session)) })
    }
}

/// Serve `session` until it fails, then reconnect, for ever.
async fn supervise(target: Target, pokes: broadcast::Sender<Poke>, mut session: Session) {
    let mut pause = FIRST_RETRY;
    loop {
        let opened = Instant::now();
        let why = session.serve().await;
        drop(session);
        // A session that lasted was healthy: start the backoff over.
        if opened.elapsed() > LONGEST_RETRY {
            pause = FIRST_RETRY;
        }
        tracing::warn!(error = %why, "the poke listener lost its connection; reconnecting");
        session = loop {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_RETRY);
            match Session::open(&target, &pokes).await {
                Ok(session) => break session,
                Err(error) => tracing::warn!(
                    error = target.explain(&error),
                    retry_in_ms = pause.as_millis() as u64,
                    "the poke listener cannot reconnect to Postgres"
                ),
            }
        };
        tracing::info!("the poke listener is listening again");
    }
}

/// One listening connection: the client for health checks, and the task that reads the
/// connection's messages.
struct Session {
    client: Client,
    /// Ends with why the connection ended.
    reader: JoinHandle<String>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Session {
    async fn open(
        target: &Target,
        pokes: &broadcast::Sender<Poke>,
    ) -> Result<Session, tokio_postgres::Error> {
        let (client, connection) = target.config.connect(target.tls.clone()).await?;
        let session = Session { client, reader: tokio::spawn(forward(connection, pokes.clone())) };
        session.client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        Ok(session)
    }

    /// Wait until the connection fails; why it did.
    async fn serve(&mut self) -> String {
        let mut checks = tokio::time::interval(HEALTH_CHECK);
        checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        checks.reset();
        loop {
            tokio::select! {
                ended = &mut self.reader => {
                    return ended.unwrap_or_else(|e| format!("the listener's reader failed: {e}"));
                }
                _ = checks.tick() => {
                    let check = self.client.simple_query("SELECT 1");
                    match tokio::time::timeout(HEALTH_TIMEOUT, check).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => return format!("a health check failed: {error}"),
                        Err(_) => {
                            return format!(
                                "Postgres did not answer a health check within {} s",
                                HEALTH_TIMEOUT.as_secs()
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Drive `connection`, sending every poke it hears to `pokes`, until it ends; why it did.
async fn forward(
    mut connection: Connection<Socket, TlsStream>,
    pokes: broadcast::Sender<Poke>,
) -> String {
    loop {
        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            Some(Ok(AsyncMessage::Notification(note))) => {
                match serde_json::from_str::<Poke>(note.payload()) {
                    Ok(poke) => {
                        // No subscriber is no error: nobody is listening.
                        let _ = pokes.send(poke);
                    }
                    Err(error) => tracing::warn!(
                        %error,
                        payload = note.payload(),
                        "a notification on {CHANNEL} is not a poke; ignored"
                    ),
                }
            }
            Some(Ok(_notice)) => {}
            Some(Err(error)) => return error.to_string(),
            None => return "the connection closed".to_owned(),
        }
    }
}
