// `cargo xtask bench`'s figure of the TypeScript client (docs/bench.md): a new device's sync of
// 100,000 pulled rows (better-sqlite3, Node) that a stub server replays instantly in pages of
// 10,000, against raw inserts of the same parsed rows into the same DDL in one transaction.
// `--quick` divides the rows by ten. Prints `name: value` lines.

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type SyncResponse, SyncClient, type WireRow } from "@schema-sync/client";
import { betterSqlite3Adapter } from "@schema-sync/client/better-sqlite3";
import { sqliteSchemaSql, syncSchema } from "@tunes/schema/sync-meta";

const quick = process.argv.includes("--quick");
const ROWS = quick ? 10_000 : 100_000;
const PAGE = 10_000;
const user = randomUUID();
const stamp = (n: number) => new Date(Date.UTC(2026, 0, 1) + n).toISOString();

function tuneRow(n: number): WireRow {
  return {
    id: randomUUID(), user_id: user, genre_id: null, title: `tune ${n}`, type: "reel", structure: "AABB",
    incipit: null, composed_on: null, deleted: false, sync_version: 1, device_id: randomUUID(), last_modified_at: stamp(n),
  };
}

const profile: WireRow = {
  id: user, display_name: "bench", email: null, avatar_url: null, settings: { theme: "dark" },
  deleted: false, sync_version: 1, device_id: null, last_modified_at: stamp(0),
};
const rows = Array.from({ length: ROWS }, (_, n) => tuneRow(n));
const pages: string[] = [];
for (let start = 0; start < ROWS; start += PAGE) {
  const changes = rows.slice(start, start + PAGE).map((row) => ({ table: "tune", row }));
  if (start === 0) changes.unshift({ table: "user_profile", row: profile });
  const response: SyncResponse = {
    changes, cursor: `c${start}`, has_more: start + PAGE < ROWS, server_time: stamp(0), rejected: [],
  };
  pages.push(JSON.stringify(response));
}

const dir = mkdtempSync(join(tmpdir(), "schema-sync-bench-"));
function fresh(name: string): Database.Database {
  const db = new Database(join(dir, name));
  db.pragma("journal_mode = WAL");
  return db;
}

/** The client's sync of every page, the stub answering each request with the next page. */
async function clientSync(): Promise<number> {
  const sqlite = fresh("client.db");
  let page = 0;
  const replay = (async () => new Response(pages[page++], { headers: { "content-type": "application/json" } })) as typeof fetch;
  const client = new SyncClient(betterSqlite3Adapter(sqlite), { schema: syncSchema, schemaSql: sqliteSchemaSql, server: "http://stub", token: "t", fetch: replay });
  const start = performance.now();
  const report = await client.syncOnce();
  const ms = performance.now() - start;
  if (report.applied.stored !== ROWS + 1) throw new Error(`stored ${report.applied.stored} rows, not ${ROWS + 1}`);
  sqlite.close();
  return ms;
}

/** The same rows, parsed, in stored form, inserted by one prepared statement in one transaction. */
function rawInserts(): number {
  const sqlite = fresh("raw.db");
  sqlite.exec(sqliteSchemaSql);
  sqlite.exec("UPDATE _sync_client SET applying = 1");
  const parsed = pages.map((p) => (JSON.parse(p) as SyncResponse).changes.flatMap((c) => ("row" in c && c.table === "tune" ? [c.row] : [])));
  const start = performance.now();
  const insert = sqlite.prepare(
    `INSERT INTO tune (id, user_id, genre_id, title, type, structure, incipit, composed_on, deleted, sync_version, device_id, last_modified_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  sqlite.transaction(() => {
    sqlite.prepare("INSERT INTO user_profile (id, settings, last_modified_at) VALUES (?, ?, ?)").run(user, JSON.stringify(profile["settings"]), profile["last_modified_at"]);
    for (const page of parsed) {
      for (const r of page) {
        insert.run(r["id"], r["user_id"], r["genre_id"], r["title"], r["type"], r["structure"], r["incipit"], r["composed_on"], r["deleted"] ? 1 : 0, r["sync_version"], r["device_id"], r["last_modified_at"]);
      }
    }
  })();
  const ms = performance.now() - start;
  sqlite.close();
  return ms;
}

try {
  const raw = rawInserts();
  const client = await clientSync();
  console.log(`ts_apply_vs_raw: ${(raw / client).toFixed(2)}`);
  console.log(`ts_apply_${ROWS / 1000}k_ms: ${client.toFixed(0)}`);
  console.log(`ts_raw_${ROWS / 1000}k_ms: ${raw.toFixed(0)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
