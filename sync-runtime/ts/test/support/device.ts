// A test device: a SyncClient over a better-sqlite3 file of its own, the app's writes made with
// plain SQL or through Drizzle on the same connection, and the checks every test makes.

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type ClientOptions, SyncClient, type WireRow } from "@schema-sync/client";
import { betterSqlite3Adapter } from "@schema-sync/client/better-sqlite3";
import { sqliteSchemaSql, syncSchema } from "@tunes/schema/sync-meta";
import { type TestServer, token } from "./server.js";

export class Device {
  readonly dir: string;
  sqlite!: Database.Database;
  client!: SyncClient;

  constructor(
    readonly server: { url: string },
    readonly user: string,
    private readonly options: Partial<ClientOptions> = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "schema-sync-device-"));
    this.open();
  }

  /** Open (or reopen, as after a restart) the device's database and client. */
  open(): void {
    this.sqlite = new Database(join(this.dir, "device.db"));
    this.client = new SyncClient(betterSqlite3Adapter(this.sqlite), {
      schema: syncSchema,
      schemaSql: sqliteSchemaSql,
      server: this.server.url,
      token: () => token(this.user),
      ...this.options,
    });
  }

  /** Close the database as a killed app would leave it. */
  close(): void {
    this.sqlite.close();
  }

  /** Restart the device: close and reopen. */
  restart(): void {
    this.close();
    this.open();
  }

  dispose(): void {
    if (this.sqlite.open) this.sqlite.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  exec(sql: string): void {
    this.sqlite.exec(sql);
  }

  outboxLen(): number {
    return (this.sqlite.prepare("SELECT count(*) AS n FROM _sync_outbox").get() as { n: number }).n;
  }

  /** Every synced row the device holds, by table, in key order. */
  rows(): Record<string, WireRow[]> {
    return Object.fromEntries(syncSchema.tables.map((t) => [t.name, this.client.rows(t.name)]));
  }

  tune(id: string): WireRow | undefined {
    return this.client.rows("tune").find((t) => t["id"] === id);
  }

  /** Create the user's profile (once) and a tune with the given conflict time. */
  insertTune(id: string, title: string, at: string): void {
    this.exec(
      `INSERT OR IGNORE INTO user_profile (id, last_modified_at) VALUES ('${this.user}', '${at}');
       INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('${id}', '${this.user}', '${title}', '${at}')`,
    );
  }
}

/** A fresh user id. */
export function user(): string {
  return randomUUID();
}

/** A fresh row id. */
export function id(): string {
  return randomUUID();
}

/** A conflict time `n` seconds after a fixed past instant, so tests order their writes. */
export function at(n: number): string {
  return new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
}

/** Sync every device (twice round, so each sees the others' pushes) until none has anything
 * left to push or pull. */
export async function syncAll(server: TestServer, devices: readonly Device[]): Promise<void> {
  for (let round = 0; round < 2; round += 1) {
    for (const device of devices) {
      await server.settle();
      await device.client.syncOnce();
    }
  }
}
