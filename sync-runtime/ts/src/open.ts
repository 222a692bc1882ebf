// A device's database made ready for sync as the client opens it: created from the generated DDL
// when it has none of the schema's tables, and brought to the app's schema version by the
// migration scripts above its version (docs/drift.md), as the Rust client does.

import type { SqliteAdapter } from "./adapter.js";
import { SyncClientError } from "./errors.js";
import type { Migration, SyncSchema } from "./schema.js";

/** Create or upgrade the database; its client id. */
export function prepare(db: SqliteAdapter, schema: SyncSchema, ddl: string, migrations: readonly Migration[]): string {
  db.exec("PRAGMA foreign_keys = ON");
  db.transaction(() => {
    if (count(db, "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sync_client'") > 0) return;
    const existing = schema.tables.filter((t) => count(db, "SELECT count(*) AS n FROM sqlite_master WHERE name = ?", [t.name]) > 0);
    if (existing.length > 0) {
      throw new SyncClientError(
        "database",
        `the database has tables of schema \`${schema.name}\` but no \`_sync_client\` table: it was not made from the generated sqlite.sql with the client's sync machinery`,
      );
    }
    db.exec(ddl);
    db.exec(`PRAGMA user_version = ${Math.trunc(schema.version)}`);
  });
  db.transaction(() => addMachinery(db, ddl));
  upgrade(db, schema, migrations);
  const row = db.get("SELECT client_id FROM _sync_client");
  if (typeof row?.["client_id"] !== "string") throw new SyncClientError("database", "the database has no client id");
  return row["client_id"];
}

/** The tables of the client's machinery that later releases added (the quarantine, the resync
 * list), created on open in a database made before them. */
const ADDED_TABLES = ["_sync_quarantine", "_sync_resync"] as const;

/** Create the machinery tables of `ddl` that a database made by an earlier release lacks, as the
 * Rust client does (sync-runtime/src/client/migrate.rs). */
function addMachinery(db: SqliteAdapter, ddl: string): void {
  for (const name of ADDED_TABLES) {
    if (count(db, "SELECT count(*) AS n FROM sqlite_master WHERE name = ?", [name]) > 0) continue;
    // From its `CREATE TABLE` to the end of the statement, after its options.
    const start = ddl.indexOf(`CREATE TABLE "${name}"`);
    const options = start < 0 ? -1 : ddl.indexOf(") STRICT", start);
    const end = options < 0 ? -1 : ddl.indexOf(";", options);
    if (end < 0) {
      throw new SyncClientError(
        "database",
        `the database has no \`${name}\` table and the DDL given to the client does not create one: regenerate sqlite.sql (\`cargo xtask gen\`)`,
      );
    }
    db.exec(ddl.slice(start, end + 1));
  }
}

/** Run the scripts above the database's version up to the schema's; fail unless the database
 * ends at the schema's version. Each script is one transaction: a failing one leaves the
 * database at the version before it. */
function upgrade(db: SqliteAdapter, schema: SyncSchema, migrations: readonly Migration[]): void {
  let at = versionOf(db);
  const steps = migrations.filter((m) => m.version > at && m.version <= schema.version).sort((a, b) => a.version - b.version);
  for (const step of steps) {
    try {
      db.exec(step.sql);
    } catch (cause) {
      if (db.inTransaction()) db.exec("ROLLBACK");
      db.exec("PRAGMA foreign_keys = ON");
      throw new SyncClientError(
        "database",
        `the migration to schema version ${step.version} failed, and the database stays at version ${at}: ${String(cause)}`,
        { cause },
      );
    }
    at = versionOf(db);
    if (at !== step.version) {
      throw new SyncClientError("database", `the migration to schema version ${step.version} left the database at version ${at}`);
    }
  }
  if (at > schema.version) {
    throw new SyncClientError("database", `the database is at schema version ${at}, newer than this app's ${schema.version}: update the app`);
  }
  if (at < schema.version) {
    throw new SyncClientError(
      "database",
      `the database is at schema version ${at} and this app at ${schema.version}, and no migration leads there (\`cargo xtask migrate\` writes them)`,
    );
  }
}

/** `user_version`, or for a database made before it was set, the version its DDL recorded. */
function versionOf(db: SqliteAdapter): number {
  const recorded = Number(db.get("PRAGMA user_version")?.["user_version"] ?? 0);
  if (recorded > 0) return recorded;
  return Number(db.get("SELECT schema_version FROM _sync_client")?.["schema_version"] ?? 0);
}

function count(db: SqliteAdapter, sql: string, params: readonly string[] = []): number {
  return Number(db.get(sql, params)?.["n"] ?? 0);
}
