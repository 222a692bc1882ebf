//! `sync-server`: serves `POST /api/sync`, `GET /api/events` and `GET /healthz` (docs/server.md).
//! Flags and environment in, a store and an authenticator built from them, then the server until
//! SIGINT or SIGTERM.
//!
//! Exit codes: 0 after a clean shutdown, 2 when the configuration cannot be used (bad flags, an
//! invalid schema, no JWT key, an unreachable database, an address in use), 1 when serving fails.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use codegen::meta::LoadedSchema;
use sync_meta::database_url::DatabaseUrl;
use sync_runtime::auth::{
    AuthConfig, AuthConfigError, Authenticator, INSECURE_DEV_WARNING, JwksSource,
};
use sync_runtime::engine::{self, Engine};
use sync_runtime::server::{self, AppState, ConfigError, HttpConfig, Limits, UserRate};
use sync_runtime::store::Store;
use sync_runtime::store::postgres::PgStore;
use sync_runtime::store::retention::{self, Retention};
use sync_runtime::store::sqlite::SqliteStore;
use tokio::net::TcpListener;

/// How long requests in flight may take to finish after SIGINT or SIGTERM before the server
/// exits anyway, so that a stalled client cannot hold a deployment's shutdown forever.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serve sync for the schema in schema.toml: `POST /api/sync` (push then pull, docs/sync.md) and
/// `GET /healthz`.
///
/// With no arguments but --insecure-dev-auth it serves on 127.0.0.1:8787 from an embedded SQLite
/// file, sync.db. In production give --database-url postgres://... (apply
/// generated/sql/postgres.sql to that database first) and a JWT key: --jwt-secret or --jwks.
#[derive(Debug, Parser)]
#[command(name = "sync-server", version)]
struct Args {
    /// Where rows live: `postgres://user:password@host:5432/db` (production; apply
    /// generated/sql/postgres.sql first) or `sqlite:<path>` (embedded, created on first start).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite:sync.db",
        value_name = "URL"
    )]
    database_url: String,
    /// Postgres only: where the server listens for pokes of other instances (LISTEN), when
    /// --database-url goes through a transaction-mode pooler, where LISTEN hears nothing: a direct
    /// URL of the same database. Default: --database-url.
    #[arg(long, env = "LISTEN_DATABASE_URL", hide_env_values = true, value_name = "URL")]
    listen_database_url: Option<String>,
    /// The HS256 shared secret JWTs are signed with (Supabase: the project's JWT secret), at
    /// least 32 bytes.
    #[arg(long, env = "SUPABASE_JWT_SECRET", hide_env_values = true, value_name = "SECRET")]
    jwt_secret: Option<String>,
    /// A JWKS document with the RS256/ES256 public keys of the token issuer: a file, or an
    /// http(s) URL fetched at startup and cached.
    #[arg(long, value_name = "FILE|URL")]
    jwks: Option<String>,
    /// The audience (`aud`) every token must carry.
    #[arg(long, default_value = sync_runtime::auth::DEFAULT_AUDIENCE, value_name = "AUD")]
    audience: String,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "HOST:PORT")]
    listen: SocketAddr,
    /// An origin browsers may call the server from, like `https://app.example`; repeat for more.
    /// Without one, no CORS headers are sent.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Development only: take `Authorization: Bearer <user id>` as the user, with no JWT and no
    /// check, so anyone can act as anyone. Cannot be combined with a key.
    #[arg(long)]
    insecure_dev_auth: bool,
    /// The schema.toml the database was created from.
    #[arg(long, default_value = "schema.toml", value_name = "PATH")]
    schema: PathBuf,
    /// The largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, default_value_t = server::DEFAULT_MAX_BODY_BYTES, value_name = "BYTES")]
    max_body_bytes: usize,
    /// The most changes one request may push; more get 413.
    #[arg(long, default_value_t = engine::Config::default().max_changes, value_name = "N")]
    max_changes: usize,
    /// The most bytes of changes' JSON in one pull page (default 4 MiB): a page stops there
    /// even before its page_size, unless its first change alone is larger, which comes alone.
    #[arg(long, env = "SYNC_MAX_PAGE_BYTES", value_name = "BYTES",
        default_value_t = NonZeroUsize::new(engine::DEFAULT_MAX_PAGE_BYTES).expect("a default above 0")
    )]
    max_page_bytes: NonZeroUsize,
    /// How long deletions are remembered for devices that have not synced yet: tombstones
    /// older than this are pruned, and a device whose cursor is older gets 410 resync_required
    /// and pulls everything again. A whole number and s, m, h or d; `off` keeps them for ever.
    #[arg(long, env = "SYNC_TOMBSTONE_RETENTION", default_value = "90d", value_name = "DURATION",
        value_parser = |text: &str| retention::parse_window(text).map(Keep))]
    tombstone_retention: Keep,
    /// How log lines are written, to standard error. RUST_LOG filters them (default `info`).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    log_format: LogFormat,
    /// Serve GET /metrics (Prometheus text) to requests bearing this token
    /// (`Authorization: Bearer <TOKEN>`). Without it there is no /metrics.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    metrics_token: Option<String>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Timeouts, caps and per-user limits (docs/server.md, "Connections and limits").
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Connections and limits")]
struct LimitArgs {
    /// Seconds a client has to send a request's head, from the connection's opening or the end
    /// of its previous answer (so also how long an idle kept-alive connection stays open).
    #[arg(long, env = "SYNC_HEADER_READ_TIMEOUT", value_name = "SECONDS",
        default_value_t = Limits::default().header_read_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout: u64,
    /// Seconds a client has to send a request's body, from the end of its head.
    #[arg(long, env = "SYNC_BODY_READ_TIMEOUT", value_name = "SECONDS",
        default_value_t = Limits::default().body_read_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..))]
    body_read_timeout: u64,
    /// Seconds a client may take nothing of an answer while the connection's buffers are full
    /// (it stopped reading a large pull page or its pokes); then its connection is closed.
    #[arg(long, env = "SYNC_WRITE_TIMEOUT", value_name = "SECONDS",
        default_value_t = Limits::default().write_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..))]
    write_timeout: u64,
    /// The most connections open at once; more wait in the listen backlog. Lowered at startup
    /// to what the descriptor limit (ulimit -n) allows.
    #[arg(long, env = "SYNC_MAX_CONNECTIONS", value_name = "N",
        default_value_t = NonZeroUsize::new(Limits::default().max_connections).expect("a default above 0")
    )]
    max_connections: NonZeroUsize,
    /// The most sync requests served at once; more get 503 overloaded with Retry-After.
    #[arg(long, env = "SYNC_MAX_IN_FLIGHT", value_name = "N",
        default_value_t = NonZeroUsize::new(Limits::default().max_in_flight).expect("a default above 0")
    )]
    max_in_flight: NonZeroUsize,
    /// Requests per second each user may make on average; more get 429 rate_limited with
    /// Retry-After. 0: no per-user limit.
    #[arg(long, env = "SYNC_USER_RATE", value_name = "PER_SECOND",
        default_value_t = UserRate::default().per_second.get())]
    user_rate: u32,
    /// Requests each user may make at once above the average rate.
    #[arg(long, env = "SYNC_USER_BURST", value_name = "N",
        default_value_t = UserRate::default().burst
    )]
    user_burst: NonZeroU32,
}

impl LimitArgs {
    /// The limits, with the cap of connections fitted to the descriptor limit.
    fn limits(&self) -> Limits {
        let (max_connections, lowered) = server::fit_to_descriptors(self.max_connections.get());
        if let Some(descriptors) = lowered {
            tracing::warn!(
                "the descriptor limit (ulimit -n) is {descriptors}: at most {max_connections} \
                 connections are served at once instead of --max-connections {}; raise the \
                 limit to serve more",
                self.max_connections
            );
        }
        Limits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout),
            body_read_timeout: Duration::from_secs(self.body_read_timeout),
            write_timeout: Duration::from_secs(self.write_timeout),
            max_connections,
            max_in_flight: self.max_in_flight.get(),
            per_user: NonZeroU32::new(self.user_rate)
                .map(|per_second| UserRate { per_second, burst: self.user_burst }),
        }
    }
}

/// `--tombstone-retention`: how long tombstones are kept, `None` for ever.
#[derive(Debug, Clone, Copy)]
struct Keep(Option<Duration>);

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per event, for log collectors.
    Json,
}

/// Why the server did not run.
enum Failure {
    /// The configuration cannot be used: exit 2.
    Config(String),
    /// Serving failed after startup: exit 1.
    Serve(std::io::Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.log_format);
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(message)) => {
            eprintln!("sync-server: error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Serve(error)) => {
            eprintln!("sync-server: error: serving failed: {error}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log file or a collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(args: Args) -> Result<(), Failure> {
    let database =
        DatabaseUrl::parse(&args.database_url).map_err(|e| config(ConfigError::from(e)))?;
    let cors_origins = args
        .cors_origins
        .iter()
        .map(|o| server::cors_origin(o))
        .collect::<Result<Vec<_>, _>>()
        .map_err(config)?;
    let auth = Authenticator::new(auth_config(&args)).await.map_err(auth_error)?;
    let schema = LoadedSchema::read(&args.schema).map_err(|e| {
        Failure::Config(format!(
            "{e}\nhint: pass --schema <path to the schema.toml of the database>"
        ))
    })?;
    let engine_config = engine::Config {
        max_changes: args.max_changes,
        max_page_bytes: args.max_page_bytes.get(),
        ..Default::default()
    };
    let limits = args.limits.limits();
    // An empty METRICS_TOKEN is as good as none: a deployment template left blank.
    let metrics_token = args.metrics_token.as_deref().and_then(server::MetricsToken::new);
    let http =
        HttpConfig { max_body_bytes: args.max_body_bytes, cors_origins, metrics_token, limits };
    let settings = Settings { listen: args.listen, database: &database };
    match &database {
        DatabaseUrl::Postgres(url) => {
            let listen_url = args.listen_database_url.as_deref().unwrap_or(url.as_str());
            let store = PgStore::connect_with_listener(url.as_str(), listen_url, schema.meta).await;
            let store = store
                .map_err(|e| Failure::Config(format!("cannot use the database {database}: {e}")))?;
            let store = pruned(store, args.tombstone_retention.0);
            serve(Engine::new(schema.meta, store, engine_config), auth, http, settings).await
        }
        DatabaseUrl::Sqlite(_) if args.listen_database_url.is_some() => Err(Failure::Config(
            "--listen-database-url (or LISTEN_DATABASE_URL) only applies to a Postgres \
             --database-url: the SQLite store pokes in process"
                .to_owned(),
        )),
        DatabaseUrl::Sqlite(path) => {
            let store = pruned(open_sqlite(path, &schema)?, args.tombstone_retention.0);
            serve(Engine::new(schema.meta, store, engine_config), auth, http, settings).await
        }
    }
}

fn open_sqlite(path: &Path, schema: &LoadedSchema) -> Result<SqliteStore, Failure> {
    SqliteStore::open(path, schema.meta, &schema.sqlite_server_ddl).map_err(|e| {
        Failure::Config(format!("cannot use the SQLite database {}: {e}", path.display()))
    })
}

/// `store`, shared with a task that prunes its tombstones older than `keep` (none: kept for
/// ever).
fn pruned<S: Store>(store: S, keep: Option<Duration>) -> Arc<S> {
    let store = Arc::new(store);
    if let Some(keep) = keep {
        retention::spawn(Arc::clone(&store), Retention::keeping(keep));
    }
    store
}

/// What startup messages mention.
struct Settings<'a> {
    listen: SocketAddr,
    database: &'a DatabaseUrl,
}

async fn serve<S: Store>(
    engine: Engine<S>,
    auth: Authenticator,
    http: HttpConfig,
    settings: Settings<'_>,
) -> Result<(), Failure> {
    let listener = TcpListener::bind(settings.listen).await.map_err(|e| {
        Failure::Config(format!("cannot listen on {}: {e}; pass another --listen", settings.listen))
    })?;
    let address = listener.local_addr().map_err(Failure::Serve)?;
    if auth.is_insecure_dev() {
        tracing::warn!("{INSECURE_DEV_WARNING}");
    }
    let schema = engine.schema();
    // Listening for the stop signals before saying so: a SIGTERM from then on is a clean stop.
    let signal = server::shutdown_signal();
    tracing::info!(
        schema = schema.name,
        version = schema.version,
        database = %settings.database,
        "serving POST http://{address}/api/sync, GET http://{address}/api/events and GET \
         http://{address}/healthz"
    );
    if let DatabaseUrl::Sqlite(path) = settings.database {
        tracing::info!(
            "the rows live in the embedded SQLite file {}; for production use Postgres: apply \
             generated/sql/postgres.sql to a database, then pass --database-url \
             postgres://user:password@host:5432/db (or set DATABASE_URL)",
            path.display()
        );
    }
    let limits = http.limits.clone();
    let router = server::router(Arc::new(AppState { engine, auth, http }));
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel();
    let shutdown = async move {
        signal.await;
        let _ = stopping_tx.send(());
    };
    let grace = async move {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server::serve_with(listener, router, &limits, shutdown) => result.map_err(Failure::Serve)?,
        () = grace => {
            tracing::warn!(
                "requests still in flight {} s after the shutdown signal; exiting without them",
                SHUTDOWN_GRACE.as_secs()
            );
        }
    }
    tracing::info!("stopped");
    Ok(())
}

fn auth_config(args: &Args) -> AuthConfig {
    AuthConfig {
        // An empty SUPABASE_JWT_SECRET is as good as none: a deployment template left blank.
        hs256_secret: args
            .jwt_secret
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec()),
        jwks: args.jwks.as_deref().map(JwksSource::from_arg),
        audience: args.audience.clone(),
        insecure_dev: args.insecure_dev_auth,
        ..AuthConfig::default()
    }
}

/// Auth errors in the flags' own words.
fn auth_error(error: AuthConfigError) -> Failure {
    Failure::Config(match error {
        AuthConfigError::NoKey => {
            "no JWT key is configured, so no request could be authenticated: \
             pass --jwt-secret <secret> (or set SUPABASE_JWT_SECRET) for HS256 tokens, or --jwks \
             <file|url> for RS256/ES256 tokens; to try the server locally without tokens, pass \
             --insecure-dev-auth"
                .to_owned()
        }
        AuthConfigError::InsecureDevWithKey => "--insecure-dev-auth cannot be combined with \
             --jwt-secret, SUPABASE_JWT_SECRET or --jwks: drop the key to develop locally, or drop \
             --insecure-dev-auth to verify tokens"
            .to_owned(),
        other => format!("{other} (see --jwt-secret, --jwks and --audience)"),
    })
}

fn config(error: ConfigError) -> Failure {
    Failure::Config(error.to_string())
}
