// The browser test's device, in a dedicated worker (where the opfs-sahpool VFS runs): sqlite-wasm
// persisted in OPFS, the sync client over it, and the app's writes through Drizzle's sqlite-proxy
// driver on the same database. The page relays the test's calls as messages.

import { SyncClient } from "../../src/index.js";
import { openOpfsDatabase, sqliteWasmAdapter } from "../../src/adapters/sqlite-wasm.js";
import { drizzle } from "drizzle-orm/sqlite-proxy";
import { sql } from "drizzle-orm";
import { tune, userProfile } from "@tunes/schema/drizzle/sqlite";
import { sqliteSchemaSql, syncSchema } from "@tunes/schema/sync-meta";

interface WorkerScope {
  onmessage: ((event: MessageEvent<Call>) => void) | null;
  postMessage(message: unknown): void;
}
interface Call {
  id: number;
  op: string;
  args: Record<string, unknown>;
}

const scope = self as unknown as WorkerScope;
let client: SyncClient | undefined;
let app: ReturnType<typeof drizzle> | undefined;

/** The OPFS pool may still be held by the worker of the page before a reload for a moment. */
async function openWithRetry(filename: string) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await openOpfsDatabase(filename);
    } catch (e) {
      if (attempt >= 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function device(): { client: SyncClient; app: ReturnType<typeof drizzle> } {
  if (!client || !app) throw new Error("call open first");
  return { client, app };
}

const ops: Record<string, (args: Record<string, unknown>) => unknown> = {
  async open({ server, token }) {
    const { db } = await openWithRetry("/device.sqlite3");
    client = new SyncClient(sqliteWasmAdapter(db), { schema: syncSchema, schemaSql: sqliteSchemaSql, server: String(server), token: String(token) });
    app = drizzle(async (query, params, method) => {
      const rows = db.exec({ sql: query, bind: params as never, rowMode: "array", returnValue: "resultRows" }) as unknown[][];
      return { rows: method === "get" ? (rows[0] ?? []) : rows } as { rows: unknown[] };
    });
    return client.clientId;
  },
  /** A new device's first sync, in pages of `pageSize`, into a database of its own: its time. */
  async initialSync({ server, token, pageSize }) {
    const { db } = await openWithRetry(`/initial-${Date.now()}.sqlite3`);
    const fresh = new SyncClient(sqliteWasmAdapter(db), {
      schema: syncSchema,
      schemaSql: sqliteSchemaSql,
      server: String(server),
      token: String(token),
      pageSize: Number(pageSize),
    });
    const start = performance.now();
    const report = await fresh.syncOnce();
    const ms = performance.now() - start;
    db.close();
    return { ms, stored: report.applied.stored };
  },
  start({ debounceMs }) {
    device().client.start({ debounceMs: Number(debounceMs) });
  },
  async stop() {
    await device().client.stop();
  },
  status() {
    const status = device().client.status;
    return status && { syncs: status.syncs, listening: status.listening, pending: status.pending, lastError: status.lastError?.message };
  },
  sync() {
    return device().client.syncOnce();
  },
  async write({ user, id, title }) {
    const { app, client } = device();
    await app.insert(userProfile).values({ id: String(user) }).onConflictDoNothing();
    await app.insert(tune).values({ id: String(id), userId: String(user), title: String(title) });
    client.signal();
  },
  async titles() {
    const rows = await device().app.select({ title: tune.title }).from(tune).orderBy(tune.title);
    return rows.map((r) => r.title);
  },
  async state() {
    const { app, client } = device();
    const [outbox] = await app.all<{ n: number }>(sql`SELECT count(*) AS n FROM _sync_outbox`);
    return { cursor: client.cursor(), outbox: Object.values(outbox ?? {})[0] };
  },
};

scope.onmessage = async ({ data }) => {
  try {
    const op = ops[data.op];
    if (!op) throw new Error(`unknown op ${data.op}`);
    scope.postMessage({ id: data.id, ok: true, value: await op(data.args) });
  } catch (e) {
    scope.postMessage({ id: data.id, ok: false, error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) });
  }
};
