// TypeScript devices for the Rust tests (tests/src/ts_devices.rs): a Node process that syncs
// device databases with this package's client on request. It reads one JSON request a line on
// stdin and answers each with one JSON line on stdout, with the request's id, out of order:
//   {"id", "op": "sync", "path", "server", "token", "pushBatch", "pageSize"} -> {"id", "ok", "report" | "error"}
//     with "schemaModule" (the path of another schema's generated sync-meta module, loaded in place
//     of the package's) when the device's file is opened as an app of that schema would open it,
//     with the module's schema, DDL and migration scripts;
//   {"id", "op": "close", "path"} -> {"id", "ok"}: the device's process dies (a sync in flight
//   then fails); the next sync opens the file again.
// The Rust side reads and writes the same files as the app would, through its own connection.

import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { type Migration, SyncClient, type SyncSchema } from "@schema-sync/client";
import { betterSqlite3Adapter } from "@schema-sync/client/better-sqlite3";
import { sqliteMigrations, sqliteSchemaSql, syncSchema } from "@tunes/schema/sync-meta";

interface Request {
  id: number;
  op: "sync" | "close";
  path: string;
  server?: string;
  token?: string;
  pushBatch?: number;
  pageSize?: number | null;
  schemaModule?: string;
}

/** What an app passes the client from its generated `sync-meta` module. */
interface AppSchema {
  syncSchema: SyncSchema;
  sqliteSchemaSql: string;
  sqliteMigrations: readonly Migration[];
}

const open = new Map<string, { sqlite: Database.Database; client: SyncClient }>();

/** The schema an app of the request's version is built with. */
async function schemaOf(request: Request): Promise<AppSchema> {
  if (!request.schemaModule) return { syncSchema, sqliteSchemaSql, sqliteMigrations };
  return (await import(pathToFileURL(request.schemaModule).href)) as AppSchema;
}

/** The open client of the request's device, opened now (as `schema`'s app) when it is not. */
function device(request: Request, schema: AppSchema): SyncClient {
  let found = open.get(request.path);
  if (!found) {
    const sqlite = new Database(request.path);
    let client: SyncClient;
    try {
      client = new SyncClient(betterSqlite3Adapter(sqlite), {
        schema: schema.syncSchema,
        schemaSql: schema.sqliteSchemaSql,
        migrations: schema.sqliteMigrations,
        server: String(request.server),
        token: String(request.token),
        ...(request.pushBatch ? { pushBatch: request.pushBatch } : {}),
        ...(request.pageSize ? { pageSize: request.pageSize } : {}),
      });
    } catch (e) {
      // A database the client refuses to open (a failed migration) stays closed.
      sqlite.close();
      throw e;
    }
    found = { sqlite, client };
    open.set(request.path, found);
  }
  return found.client;
}

async function handle(request: Request): Promise<object> {
  if (request.op === "close") {
    open.get(request.path)?.sqlite.close();
    open.delete(request.path);
    return {};
  }
  const schema = await schemaOf(request);
  return { report: await device(request, schema).syncOnce() };
}

for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Request;
  handle(request).then(
    (answer) => process.stdout.write(`${JSON.stringify({ id: request.id, ok: true, ...answer })}\n`),
    (e: unknown) => process.stdout.write(`${JSON.stringify({ id: request.id, ok: false, error: String(e) })}\n`),
  );
}
