//! Postgres: the live schema's catalog, and the expected one built in a shadow schema of the
//! same database inside a transaction that is always rolled back.
//!
//! The shadow needs no CREATE DATABASE right (what Prisma's shadow database needs), only
//! CREATE on the database for a schema that never commits: `CREATE SCHEMA` with a random name,
//! `SET LOCAL search_path` to it, the generated `postgres.sql`, then `ROLLBACK`. Both sides are
//! read by the same queries, so both print types, defaults and definitions alike.
//!
//! The sync machinery is compared too (its `_sync*` tables, the `_sync_xid` columns, indexes,
//! the `_sync*` triggers and functions): a database whose triggers are missing or older than
//! the generated ones serves pulls wrongly. So are the team's own views, functions, triggers
//! and policies, which `[extra_sql]` puts into `postgres.sql`; what an extension owns is not.
//! Row-level security and every policy of the schema's tables are compared: `[postgres] rls`
//! and `[extra_sql]` make them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::{Client, Config, Transaction};
use sync_meta::database_url::PostgresUrl;

use super::LiveError;
use super::catalog::{Catalog, Column, ForeignKey, RowSecurity, Table, Unique, squeeze};

/// Read the live schema `schema` and the one `ddl` makes, in one transaction that is rolled
/// back: nothing is written to the database. Returns `(expected, actual)`.
pub fn catalogs(
    url: &PostgresUrl,
    shown: &str,
    schema: &str,
    ddl: &str,
) -> Result<(Catalog, Catalog), LiveError> {
    let mut client = connect(url, shown)?;
    let query = |what: &str| {
        let what = what.to_owned();
        move |e: postgres::Error| LiveError::Query { what, message: db_message(&e) }
    };
    let mut tx = client.transaction().map_err(query("starting a transaction"))?;
    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .map_err(query("looking up the schema"))?;
    if exists.is_none() {
        return Err(LiveError::NoSchema { url: shown.to_owned(), schema: schema.to_owned() });
    }
    let actual = read(&mut tx, schema)?;
    let shadow = shadow_name();
    tx.batch_execute(&format!("CREATE SCHEMA {shadow}; SET LOCAL search_path TO {shadow}"))
        .map_err(|e| LiveError::Shadow { url: shown.to_owned(), message: db_message(&e) })?;
    tx.batch_execute(ddl)
        .map_err(|e| LiveError::Ddl { file: "postgres.sql".into(), message: db_message(&e) })?;
    let expected = read(&mut tx, &shadow)?;
    tx.rollback().map_err(query("rolling back the shadow schema"))?;
    Ok((expected, actual))
}

/// A connection to `url` (`shown` is the URL without its password), with TLS as its `sslmode`
/// and `sslrootcert` say, that gives up on an unreachable server after ten seconds unless the
/// URL says otherwise.
pub(crate) fn connect(url: &PostgresUrl, shown: &str) -> Result<Client, LiveError> {
    let mut config = url
        .driver_url()
        .parse::<Config>()
        .map_err(|e| LiveError::PostgresUrl { url: shown.to_owned(), message: e.to_string() })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let tls = pg_tls::connector(url).map_err(|e| LiveError::Tls(e.to_string()))?;
    config.connect(tls).map_err(|e| LiveError::Connect {
        url: shown.to_owned(),
        message: pg_tls::explain(&e, url),
    })
}

/// A schema name no one else uses: the process id and the clock.
fn shadow_name() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("xtask_drift_{}_{nanos}", std::process::id())
}

/// A database error with its detail, or any other error with its causes, which `Display`
/// leaves out.
pub(crate) fn db_message(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut out = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                out.push_str(&format!(" ({detail})"));
            }
            if let Some(position) = db.position() {
                out.push_str(&format!(" at {position:?}"));
            }
            out
        }
        None => {
            // A connection error says what failed in its source ("Connection refused").
            let mut out = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                out.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            out
        }
    }
}

/// The tables of a schema, extension-owned ones left out.
const TABLES: &str = "
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype = 'e')";

/// Columns with type, nullability and default; identity and generated columns say so in place
/// of a default.
const COLUMNS: &str = "
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attidentity = 'a' THEN 'GENERATED ALWAYS AS IDENTITY'
            WHEN a.attidentity = 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY'
            WHEN a.attgenerated = 's' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
            ELSE pg_get_expr(d.adbin, d.adrelid) END
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.relname, a.attnum";

/// Primary keys, unique and foreign keys with their columns in key order; checks and
/// exclusions with their definition. A referenced table outside the schema is qualified.
const CONSTRAINTS: &str = "
SELECT c.relname, k.conname, k.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.ord),
       CASE WHEN rn.nspname = n.nspname THEN r.relname::text
            ELSE rn.nspname || '.' || r.relname END,
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.ord),
       k.confdeltype::text, k.confupdtype::text, pg_get_constraintdef(k.oid)
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class r ON r.oid = k.confrelid
  LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
 WHERE n.nspname = $1 AND k.contype IN ('p', 'u', 'f', 'c', 'x')
 ORDER BY c.relname, k.conname";

/// Indexes that back no constraint of their table, with the schema taken out of their
/// definition (Postgres always qualifies the table there).
const INDEXES: &str = "
SELECT t.relname, ic.relname,
       replace(pg_get_indexdef(i.indexrelid), ' ON ' || quote_ident(n.nspname) || '.', ' ON ')
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname = $1 AND t.relkind IN ('r', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                   AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))";

/// Triggers (the sync machinery's and the team's), with the schema taken out of their
/// definition. Those of an extension's tables find no table.
const TRIGGERS: &str = "
SELECT c.relname, t.tgname,
       replace(pg_get_triggerdef(t.oid), ' ON ' || quote_ident(n.nspname) || '.', ' ON ')
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND NOT t.tgisinternal";

/// Views and materialized views with their query as `pg_get_viewdef` prints it, the ones an
/// extension owns left out.
const VIEWS: &str = "
SELECT c.relname,
       CASE c.relkind WHEN 'm' THEN 'MATERIALIZED ' ELSE '' END || 'AS ' || pg_get_viewdef(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype = 'e')";

/// Functions and procedures (not aggregates), the ones an extension owns left out: signature,
/// then result, language and a digest of `pg_get_functiondef` (body, volatility, security,
/// settings), whose name is taken out of the schema it qualifies it with.
const FUNCTIONS: &str = "
SELECT p.oid::regprocedure::text,
       coalesce('RETURNS ' || pg_get_function_result(p.oid) || ' ', '') || 'LANGUAGE ' || l.lanname
         || ', definition md5 ' || left(md5(replace(pg_get_functiondef(p.oid),
              ' ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(',
              ' ' || quote_ident(p.proname) || '(')), 12)
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname = $1 AND p.prokind IN ('f', 'p', 'w')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                   AND d.objid = p.oid AND d.deptype = 'e')";

/// Row-level security policies: whether permissive, the command, the roles and the conditions,
/// as Postgres prints them.
const POLICIES: &str = "
SELECT tablename, policyname,
       permissive || ' FOR ' || cmd || ' TO ' || array_to_string(roles, ', ')
         || coalesce(' USING (' || qual || ')', '')
         || coalesce(' WITH CHECK (' || with_check || ')', '')
  FROM pg_policies WHERE schemaname = $1";

/// The catalog of schema `schema`, read with it alone on the search path so that names in it
/// print unqualified, as they do in the shadow.
fn read(tx: &mut Transaction<'_>, schema: &str) -> Result<Catalog, LiveError> {
    let fail = |what: &'static str| {
        move |e: postgres::Error| LiveError::Query { what: what.into(), message: db_message(&e) }
    };
    tx.batch_execute(&format!("SET LOCAL search_path TO {}", quote_ident(schema)))
        .map_err(fail("setting the search path"))?;
    let mut catalog = Catalog::default();
    for row in tx.query(TABLES, &[&schema]).map_err(fail("reading tables"))? {
        let row_security = match (row.get(1), row.get(2)) {
            (false, _) => RowSecurity::Off,
            (true, false) => RowSecurity::Enabled,
            (true, true) => RowSecurity::Forced,
        };
        catalog.tables.insert(row.get(0), Table { row_security, ..Table::default() });
    }
    // Rows of tables left out above (partitions, extension-owned tables) find no table.
    for row in tx.query(COLUMNS, &[&schema]).map_err(fail("reading columns"))? {
        if let Some(t) = catalog.tables.get_mut(&row.get::<_, String>(0)) {
            t.columns.push(Column {
                name: row.get(1),
                ty: row.get(2),
                not_null: row.get(3),
                default: row.get(4),
            });
        }
    }
    for row in tx.query(CONSTRAINTS, &[&schema]).map_err(fail("reading constraints"))? {
        let Some(t) = catalog.tables.get_mut(&row.get::<_, String>(0)) else { continue };
        let name: String = row.get(1);
        let columns: Vec<String> = row.get(3);
        match row.get::<_, String>(2).as_str() {
            "p" => {
                t.primary_key = columns;
                t.primary_key_name = Some(name);
            }
            "u" => t.uniques.push(Unique { columns, name: Some(name) }),
            "f" => t.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns,
                ref_table: row.get(4),
                ref_columns: row.get(5),
                on_delete: action(&row.get::<_, String>(6)),
                on_update: action(&row.get::<_, String>(7)),
            }),
            _ => {
                t.checks.insert(name, row.get(8));
            }
        }
    }
    for row in tx.query(INDEXES, &[&schema]).map_err(fail("reading indexes"))? {
        if let Some(t) = catalog.tables.get_mut(&row.get::<_, String>(0)) {
            t.indexes.insert(row.get(1), row.get(2));
        }
    }
    for row in tx.query(TRIGGERS, &[&schema]).map_err(fail("reading triggers"))? {
        if let Some(t) = catalog.tables.get_mut(&row.get::<_, String>(0)) {
            t.triggers.insert(row.get(1), row.get(2));
        }
    }
    for row in tx.query(POLICIES, &[&schema]).map_err(fail("reading policies"))? {
        if let Some(t) = catalog.tables.get_mut(&row.get::<_, String>(0)) {
            t.policies.insert(row.get(1), squeeze(&row.get::<_, String>(2)));
        }
    }
    for row in tx.query(VIEWS, &[&schema]).map_err(fail("reading views"))? {
        // Postgres prints a view's query over several lines; one line reads in a report.
        catalog.views.insert(row.get(0), squeeze(&row.get::<_, String>(1)));
    }
    for row in tx.query(FUNCTIONS, &[&schema]).map_err(fail("reading functions"))? {
        catalog.functions.insert(row.get(0), row.get(1));
    }
    for t in catalog.tables.values_mut() {
        t.uniques.sort();
        t.foreign_keys.sort_by(|a, b| (&a.columns, &a.ref_table).cmp(&(&b.columns, &b.ref_table)));
    }
    Ok(catalog)
}

/// A foreign key action from its `pg_constraint` code.
fn action(code: &str) -> String {
    match code {
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        "r" => "RESTRICT",
        _ => "NO ACTION",
    }
    .to_owned()
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
