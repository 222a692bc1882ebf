//! A device's database brought to the app's schema version as the client opens it (docs/drift.md).
//!
//! A device's database records its version in `PRAGMA user_version` (set when the client creates
//! it from the generated DDL, and by each migration script). Opening it with a newer app runs the
//! SQLite scripts `cargo xtask migrate` wrote for each version above it, in order: each is one
//! transaction (a rebuild runs with foreign keys off outside it), so a failing script leaves the
//! database at the version before it, and the client refuses to open rather than sync a schema it
//! does not have. Local rows and the outbox stay as they are across a migration.
//!
//! Machinery a later release of the client added (the quarantine, the resync list) is created on
//! open when a database made by an earlier release lacks it, from the same generated DDL.

use rusqlite::Connection;

use super::ClientError;
use super::local::db;
use crate::schema::SchemaMeta;

pub use sync_meta::migration::Migration;

/// Run the scripts of `migrations` above the database's version, up to `schema`'s; fail unless
/// the database ends at `schema`'s version.
pub(super) fn upgrade(
    conn: &mut Connection,
    schema: &SchemaMeta,
    migrations: &[Migration],
) -> Result<(), ClientError> {
    let mut at = version_of(conn)?;
    let mut steps: Vec<&Migration> =
        migrations.iter().filter(|m| m.version > at && m.version <= schema.version).collect();
    steps.sort_by_key(|m| m.version);
    for step in steps {
        if let Err(error) = conn.execute_batch(&step.sqlite) {
            // A script that failed midway may leave its transaction open and foreign keys off.
            if !conn.is_autocommit() {
                conn.execute_batch("ROLLBACK").map_err(db("rolling a failed migration back"))?;
            }
            conn.pragma_update(None, "foreign_keys", "ON")
                .map_err(db("enforcing foreign keys again"))?;
            return Err(ClientError::Database(format!(
                "the migration to schema version {} failed, and the database stays at version \
                 {at}: {error}",
                step.version
            )));
        }
        at = version_of(conn)?;
        if at != step.version {
            return Err(ClientError::Database(format!(
                "the migration to schema version {} left the database at version {at}",
                step.version
            )));
        }
    }
    match at.cmp(&schema.version) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(ClientError::Database(format!(
            "the database is at schema version {at}, newer than this app's {}: update the app",
            schema.version
        ))),
        std::cmp::Ordering::Less => Err(ClientError::Database(format!(
            "the database is at schema version {at} and this app at {}, and no migration leads \
             there (`cargo xtask migrate` writes them)",
            schema.version
        ))),
    }
}

/// Record that a database just made from the generated DDL is at `schema`'s version.
pub(super) fn mark_created(conn: &Connection, schema: &SchemaMeta) -> Result<(), ClientError> {
    conn.pragma_update(None, "user_version", schema.version).map_err(db("recording the version"))
}

/// The database's schema version: `user_version`, or for a database made before the client set
/// it, the version its DDL wrote into `_sync_client`.
fn version_of(conn: &Connection) -> Result<u32, ClientError> {
    let recorded: u32 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(db("reading the database's version"))?;
    if recorded > 0 {
        return Ok(recorded);
    }
    conn.query_row("SELECT schema_version FROM _sync_client", [], |row| row.get(0))
        .map_err(db("reading the database's version"))
}

/// The tables of the client's machinery that later releases added (the quarantine, the resync
/// list), created on open in a database made before them.
const ADDED_TABLES: [&str; 2] = ["_sync_quarantine", "_sync_resync"];

/// Create the machinery tables of `ddl` that a database made by an earlier release lacks.
pub(super) fn add_machinery(conn: &Connection, ddl: &str) -> Result<(), ClientError> {
    for name in ADDED_TABLES {
        let exists: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = ?1)",
                [name],
                |row| row.get(0),
            )
            .map_err(db(&format!("looking for `{name}`")))?;
        if exists {
            continue;
        }
        // From its `CREATE TABLE` to the end of the statement, after its options.
        let statement = ddl.find(&format!("CREATE TABLE \"{name}\"")).and_then(|start| {
            let options = start + ddl[start..].find(") STRICT")?;
            let end = options + ddl[options..].find(';')?;
            Some(&ddl[start..=end])
        });
        let statement = statement.ok_or_else(|| {
            ClientError::Database(format!(
                "the database has no `{name}` table and the DDL given to the client does not \
                 create one: regenerate sqlite.sql with this release (`cargo xtask gen`)"
            ))
        })?;
        conn.execute_batch(statement).map_err(db(&format!("creating `{name}`")))?;
    }
    Ok(())
}
