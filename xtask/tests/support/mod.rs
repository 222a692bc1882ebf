//! What the xtask tests share: a Postgres database of their own per test, and the whole
//! catalog of one read back for comparison.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use postgres::{Client, Config};
use sync_meta::database_url::PostgresUrl;

/// A database of its own on the server of `TEST_DATABASE_URL`, dropped at the end.
pub struct PgDb {
    admin_url: PostgresUrl,
    name: String,
}

impl PgDb {
    pub fn new() -> Self {
        let admin_url = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => PostgresUrl::parse(&url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is not a Postgres URL: {e}")),
            _ => panic!(
                "TEST_DATABASE_URL is not set: run through `cargo xtask test` or set TEST_DATABASE_URL"
            ),
        };
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("xtask_drift_{}_{n}_{nanos}", std::process::id());
        let mut admin = connect(&admin_url)
            .unwrap_or_else(|e| panic!("cannot connect to TEST_DATABASE_URL: {e}"));
        admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
        PgDb { admin_url, name }
    }

    /// The admin URL with this database's name in place of its path.
    pub fn url(&self) -> String {
        self.admin_url.with_database(&self.name).as_str().to_owned()
    }

    pub fn client(&self) -> Client {
        connect(&self.admin_url.with_database(&self.name)).unwrap()
    }

    /// A database made from `sql`.
    pub fn with(sql: &str) -> Self {
        let db = PgDb::new();
        db.client().batch_execute(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
        db
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let dropped = connect(&self.admin_url).and_then(|mut admin| {
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// A connection to `url`, with TLS as its `sslmode` and `sslrootcert` say.
fn connect(url: &PostgresUrl) -> Result<Client, postgres::Error> {
    let config: Config = url.driver_url().parse()?;
    config.connect(pg_tls::connector(url).expect("the TLS settings of TEST_DATABASE_URL"))
}

/// One sorted line per catalog object of the `public` schema: every table and column (type,
/// nullability, default, comment), constraint (as Postgres prints it), index, comment, and
/// row-level security (the flags, and each policy); the sync machinery (names starting with
/// `_sync`) left out.
pub fn snapshot(client: &mut Client) -> Vec<String> {
    let queries = [
        "SELECT 'table ' || c.relname || coalesce(' -- ' || obj_description(c.oid, 'pg_class'), '')
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE '\\_sync%'",
        "SELECT 'column ' || c.relname || '.' || lpad(a.attnum::text, 3, '0') || ' ' || a.attname
                || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
                || coalesce(' -- ' || col_description(c.oid, a.attnum), '')
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            AND c.relname NOT LIKE '\\_sync%' AND a.attname NOT LIKE '\\_sync%'",
        "SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
           FROM pg_constraint k
           JOIN pg_class c ON c.oid = k.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relname NOT LIKE '\\_sync%'",
        "SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes
          WHERE schemaname = 'public' AND indexname NOT LIKE '\\_sync%'",
        "SELECT 'row level security ' || c.relname || ' ' || c.relrowsecurity || ' '
                || c.relforcerowsecurity
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE '\\_sync%'",
        "SELECT 'policy ' || tablename || '.' || policyname || ' ' || permissive || ' '
                || array_to_string(roles, ',') || ' ' || cmd || coalesce(' USING ' || qual, '')
                || coalesce(' WITH CHECK ' || with_check, '')
           FROM pg_policies
          WHERE schemaname = 'public' AND policyname NOT LIKE '\\_sync%'",
    ];
    let mut lines = Vec::new();
    for sql in queries {
        for row in client.query(sql, &[]).unwrap_or_else(|e| panic!("{e}: {sql}")) {
            lines.push(row.get::<_, String>(0));
        }
    }
    lines.sort();
    lines
}
