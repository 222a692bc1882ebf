//! TLS to Postgres (docs/server.md): a cluster of the test's own (`cluster.rs`) with `ssl = on`,
//! a certificate for `localhost` signed by a CA the test made, and a `hostssl`-only
//! `pg_hba.conf`. Each `sslmode` connects or fails as libpq's does, and the failures say what and
//! where; the sync server (its pool and its poke listener) and the live drift gate of
//! `cargo xtask check --database-url` connect through the same settings.

use std::time::{Duration, Instant};

use integration_tests::cluster::{CERT_HOST, Cluster, PASSWORD, Transport};
use integration_tests::pg;
use integration_tests::server::{Options, SCHEMA, TestServer, request, runtime};
use integration_tests::workspace_root;
use postgres::Client;
use serde_json::json;
use sync_meta::database_url::PostgresUrl;
use sync_runtime::store::postgres::PgStore;

const USER: &str = "00000000-0000-4000-8000-000000000001";

/// A connection to `url`, or the message of why not.
fn connect(url: &str) -> Result<Client, String> {
    pg::connect(&PostgresUrl::parse(url).map_err(|e| e.to_string())?)
}

/// Whether this session of `client` is encrypted.
fn encrypted(client: &mut Client) -> bool {
    client
        .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
        .unwrap()
        .get(0)
}

/// `what` failed with a message holding every one of `says`, and no password.
fn assert_fails(result: Result<Client, String>, what: &str, says: &[&str]) {
    let Err(message) = result else { panic!("{what} connected") };
    for text in says {
        assert!(message.contains(text), "{what} should say {text:?}: {message}");
    }
    assert!(!message.contains(PASSWORD), "{what} shows the password: {message}");
}

#[test]
fn each_sslmode_connects_or_fails_as_libpq_does() {
    let cluster = Cluster::start(Transport::TlsOnly);
    let (ca, other) = (cluster.ca(), cluster.other_ca());
    let (ca, other) = (ca.display(), other.display());
    let url = |host: &str, params: &str| cluster.url(host, "postgres", params);

    let full = url(CERT_HOST, &format!("sslmode=verify-full&sslrootcert={ca}"));
    let mut client =
        connect(&full).unwrap_or_else(|e| panic!("verify-full with the right CA: {e}"));
    assert!(encrypted(&mut client));

    assert_fails(
        connect(&url(CERT_HOST, &format!("sslmode=verify-full&sslrootcert={other}"))),
        "verify-full with another CA",
        &[
            "cannot connect to postgres://cluster_test:***@localhost:",
            "UnknownIssuer",
            &format!("is not signed by the root certificate(s) of sslrootcert={other}"),
        ],
    );
    // The certificate names `localhost`, not the address.
    assert_fails(
        connect(&url("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={ca}"))),
        "verify-full by another host name",
        &["cannot connect to postgres://cluster_test:***@127.0.0.1:", "does not name the host"],
    );
    // The platform's roots do not include a CA the test just made.
    assert_fails(
        connect(&url(CERT_HOST, "sslrootcert=system")),
        "verify-full with the platform's roots",
        &["the platform's trusted roots (sslrootcert=system)"],
    );

    let mut client = connect(&url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")))
        .unwrap_or_else(|e| panic!("verify-ca by another host name: {e}"));
    assert!(encrypted(&mut client));
    assert_fails(
        connect(&url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={other}"))),
        "verify-ca with another CA",
        &["UnknownIssuer"],
    );

    for params in ["sslmode=require", "sslmode=prefer", ""] {
        let mut client = connect(&url("127.0.0.1", params))
            .unwrap_or_else(|e| panic!("{params:?} without a root certificate: {e}"));
        assert!(encrypted(&mut client), "{params:?} encrypts");
    }
    // `require` with a root certificate checks the chain, as libpq's does.
    assert_fails(
        connect(&url("127.0.0.1", &format!("sslmode=require&sslrootcert={other}"))),
        "require with another CA",
        &["UnknownIssuer"],
    );

    assert_fails(
        connect(&url("127.0.0.1", "sslmode=disable")),
        "disable against a hostssl-only server",
        &[
            "cannot connect to postgres://cluster_test:***@127.0.0.1:",
            "no encryption",
            "use sslmode=prefer, require, verify-ca or verify-full instead of sslmode=disable",
        ],
    );
    let missing = cluster.ca().with_file_name("missing.pem");
    assert_fails(
        connect(&url(CERT_HOST, &format!("sslmode=verify-full&sslrootcert={}", missing.display()))),
        "a missing root certificate file",
        &["cannot read the root certificate file", "missing.pem"],
    );
}

#[test]
fn the_sync_server_serves_over_verify_full() {
    let cluster = Cluster::start(Transport::TlsOnly);
    let ca = cluster.ca().display().to_string();
    let url = cluster.app_database(CERT_HOST, &format!("sslmode=verify-full&sslrootcert={ca}"));
    let rt = runtime();

    let other = cluster.other_ca().display().to_string();
    let wrong = url.replace(&ca, &other);
    let refused = rt.block_on(PgStore::connect(&wrong, SCHEMA)).map(|_| ()).unwrap_err();
    let refused = refused.to_string();
    assert!(
        refused.contains("cannot connect to postgres://cluster_test:***@localhost:")
            && refused.contains("is not signed by"),
        "{refused}"
    );

    let store = rt.block_on(PgStore::connect(&url, SCHEMA)).expect("the store connects");
    let server = rt.block_on(TestServer::start(store, Options::default()));
    let profile = json!([{ "table": "user_profile", "op": "upsert",
                           "row": { "id": USER, "display_name": "Ada",
                                    "last_modified_at": "2026-12-01T10:00:00.000Z" } }]);
    let pushed = rt.block_on(server.sync(USER, &request(None, profile))).expect("a push");
    assert!(pushed.rejected.is_empty(), "{:?}", pushed.rejected);
    let pulled = rt.block_on(server.sync(USER, &request(None, json!([])))).expect("a pull");
    let rows = serde_json::to_value(&pulled.changes).unwrap();
    assert!(rows.to_string().contains("\"Ada\""), "the pushed row is pulled: {rows}");

    // Every connection of the server, the pool's and the poke listener's, is encrypted.
    let mut admin = connect(&url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let sessions = loop {
        let rows = admin
            .query(
                "SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s \
                 USING (pid) WHERE a.datname = 'app' AND a.pid <> pg_backend_pid()",
                &[],
            )
            .unwrap();
        let sessions: Vec<(String, bool)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        if sessions.iter().any(|(name, _)| name == "sync-poke-listener") {
            break sessions;
        }
        assert!(Instant::now() < deadline, "no poke listener session: {sessions:?}");
    };
    assert!(sessions.len() >= 2 && sessions.iter().all(|(_, ssl)| *ssl), "{sessions:?}");
    rt.block_on(server.stop());
}

#[test]
fn the_live_drift_gate_connects_over_verify_full() {
    let cluster = Cluster::start(Transport::TlsOnly);
    let ca = cluster.ca().display().to_string();
    let url = cluster.app_database(CERT_HOST, &format!("sslmode=verify-full&sslrootcert={ca}"));
    let schema = workspace_root().join("schema.toml");
    let outcome = codegen_db::live::gate(&schema, &url, "public").expect("the gate connects");
    let codegen_db::live::Outcome::Report(report) = outcome else { panic!("schema.toml is valid") };
    assert!(report.passes(), "{}", report.render());

    let by_address = url.replace("@localhost:", "@127.0.0.1:");
    let error = codegen_db::live::gate(&schema, &by_address, "public").unwrap_err().to_string();
    assert!(
        error.contains("cannot connect to postgres://cluster_test:***@127.0.0.1:")
            && error.contains("does not name the host"),
        "{error}"
    );
    let plain = cluster.url(CERT_HOST, "app", "sslmode=disable");
    let error = codegen_db::live::gate(&schema, &plain, "public").unwrap_err().to_string();
    assert!(error.contains("instead of sslmode=disable"), "{error}");
}
