// TypeScript devices for the Rust tests (tests/src/ts_devices.rs): a Node process that syncs
// device databases with this package's client on request. It reads one JSON request a line on
// stdin and answers each with one JSON line on stdout, with the request's id, out of order:
//   {"id", "op": "sync", "path", "server", "token", "pushBatch", "pageSize"} -> {"id", "ok", "report" | "error"}
//   {"id", "op": "close", "path"} -> {"id", "ok"}: the device's process dies (a sync in flight
//   then fails); the next sync opens the file again.
// The Rust side reads and writes the same files as the app would, through its own connection.

import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import { SyncClient } from "@schema-sync/client";
import { betterSqlite3Adapter } from "@schema-sync/client/better-sqlite3";
import { sqliteSchemaSql, syncSchema } from "@tunes/schema/sync-meta";

interface Request {
  id: number;
  op: "sync" | "close";
  path: string;
  server?: string;
  token?: string;
  pushBatch?: number;
  pageSize?: number | null;
}

const open = new Map<string, { sqlite: Database.Database; client: SyncClient }>();

function device(request: Request): SyncClient {
  let found = open.get(request.path);
  if (!found) {
    const sqlite = new Database(request.path);
    const client = new SyncClient(betterSqlite3Adapter(sqlite), {
      schema: syncSchema,
      schemaSql: sqliteSchemaSql,
      server: String(request.server),
      token: String(request.token),
      ...(request.pushBatch ? { pushBatch: request.pushBatch } : {}),
      ...(request.pageSize ? { pageSize: request.pageSize } : {}),
    });
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
  return { report: await device(request).syncOnce() };
}

for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Request;
  handle(request).then(
    (answer) => process.stdout.write(`${JSON.stringify({ id: request.id, ok: true, ...answer })}\n`),
    (e: unknown) => process.stdout.write(`${JSON.stringify({ id: request.id, ok: false, error: String(e) })}\n`),
  );
}
