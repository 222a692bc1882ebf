// The sync client (docs/typescript-client.md): a device's SQLite database kept in sync with a
// sync server, with the algorithm and guarantees of the Rust client (docs/sync.md).
//
// The database is made from the generated `sqlite.sql`, whose triggers record every local write
// of a synced table in an outbox. `syncOnce` pushes the rows the outbox names (parents first, in
// batches) and applies what the server answers in one transaction with the new cursor; it
// repeats while the server has more to pull or the outbox more to push. `start` runs syncs in
// the background (signals, debounce, backoff, pokes). When the server answers 410
// `resync_required` (it pruned deletions past the cursor), the client pulls everything again and
// drops what the server no longer has (src/resync.ts). The app reads and writes the same database
// through its own queries (Drizzle); the client writes a synced row only to apply what the
// server sent.

import type { SqliteAdapter } from "./adapter.js";
import { type Applied, type Sent, apply, emptyApplied } from "./apply.js";
import { SyncClientError } from "./errors.js";
import { type TokenProvider, type Transport, postSync } from "./http.js";
import { prepare } from "./open.js";
import type { PushChange, SyncRequest, SyncResponse } from "./protocol.js";
import { beginResync } from "./resync.js";
import { type QuarantinedChange, discard, listQuarantine, quarantinedCount, retry } from "./quarantine.js";
import { type RunOptions, Runner, type SyncStatus } from "./runner.js";
import type { Migration, SyncSchema } from "./schema.js";
import { type Entry, type TablePlan, outboxSql, plans, readOutbox } from "./tables.js";
import type { WireRow } from "./values.js";

export interface ClientOptions {
  /** The generated metadata (`syncSchema` of the generated package's `sync-meta`). */
  schema: SyncSchema;
  /** The device DDL (`sqliteSchemaSql`), run when the database has none of the schema's tables. */
  schemaSql: string;
  /** The server's base URL, such as `http://127.0.0.1:8787`. */
  server: string;
  /** The bearer token of each request; a string for a fixed one. */
  token: TokenProvider | string;
  /** Scripts that bring an older database to the schema's version, run on open. */
  migrations?: readonly Migration[];
  /** The most outbox entries one request pushes (the server's limit is 10,000 by default). */
  pushBatch?: number;
  /** The most changes one response pulls; the server's default when absent. */
  pageSize?: number;
  /** The limit of one HTTP request. */
  requestTimeoutMs?: number;
  /** The fetch to use (the global one by default). */
  fetch?: typeof fetch;
}

/** What one `syncOnce` did, summed over its requests. */
export interface SyncReport {
  requests: number;
  pushed: number;
  rejected: number;
  applied: Applied;
  /** Times the server answered `resync_required` and the client started pulling everything
   * again (src/resync.ts). */
  resyncs: number;
}

export class SyncClient {
  readonly db: SqliteAdapter;
  readonly schema: SyncSchema;
  /** The device's stable id, sent with every sync. */
  readonly clientId: string;
  readonly transport: Transport;
  private readonly tables: ReadonlyMap<string, TablePlan>;
  private readonly outboxSql: string;
  private readonly pushBatch: number;
  private readonly pageSize: number | undefined;
  /** One sync at a time: two would push the same entries twice. */
  private current: Promise<unknown> = Promise.resolve();
  private runner: Runner | undefined;

  /** Open the device's database: create it from `schemaSql` when new, run the migrations above
   * its version, and fail when it is not at the schema's version. */
  constructor(db: SqliteAdapter, options: ClientOptions) {
    this.db = db;
    this.schema = options.schema;
    this.clientId = prepare(db, options.schema, options.schemaSql, options.migrations ?? []);
    const list = plans(db, options.schema);
    this.tables = new Map(list.map((p) => [p.meta.name, p]));
    this.outboxSql = outboxSql(list);
    this.pushBatch = options.pushBatch ?? 1000;
    this.pageSize = options.pageSize;
    const token = options.token;
    this.transport = {
      server: options.server.replace(/\/+$/, ""),
      token: typeof token === "string" ? () => token : token,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    };
  }

  /** Every row of the synced table `table` in wire form, in primary key order. */
  rows(table: string): WireRow[] {
    return this.plan(table).all(this.db);
  }

  /** Local writes not yet acknowledged by the server, and refused changes in quarantine. */
  counts(): { pending: number; quarantined: number } {
    const pending = Number(this.db.get("SELECT count(*) AS n FROM _sync_outbox")?.["n"] ?? 0);
    return { pending, quarantined: quarantinedCount(this.db) };
  }

  /** The cursor of the last applied page; null before the first sync. */
  cursor(): string | null {
    return (this.db.get("SELECT cursor FROM _sync_client")?.["cursor"] as string | null | undefined) ?? null;
  }

  /** The changes the server refused for good, newest last. */
  quarantine(): QuarantinedChange[] {
    return listQuarantine(this.db, this.tables);
  }

  /** Forget a quarantined change: the device keeps the server's version. */
  discardQuarantined(id: number): void {
    discard(this.db, id);
    this.runner?.refresh();
  }

  /** Make a quarantined change again as a new local write, the columns of `changes` replacing
   * its row's, and ask for a sync. */
  retryQuarantined(id: number, changes?: WireRow): void {
    retry(this.db, this.tables, id, changes);
    this.signal();
  }

  /** Push every pending local write and pull until the server has nothing more, applying each
   * answer in one transaction with its cursor. */
  syncOnce(): Promise<SyncReport> {
    const run = this.current.then(
      () => this.syncNow(),
      () => this.syncNow(),
    );
    this.current = run.catch(() => undefined);
    return run;
  }

  /** Run syncs in the background until `stop()`. */
  start(options: RunOptions = {}): void {
    if (this.runner && !this.runner.status.stopped) return;
    this.runner = new Runner(this, options);
  }

  /** Ask the background loop for a sync (after a local write): bursts within the debounce make
   * one sync. */
  signal(): void {
    this.runner?.refresh();
    this.runner?.signal();
  }

  /** The background loop's status; undefined before `start`. */
  get status(): SyncStatus | undefined {
    return this.runner?.status;
  }

  /** Follow the background loop's status; returns the unsubscribe function. */
  onStatus(listener: (status: SyncStatus) => void): () => void {
    if (!this.runner) throw new SyncClientError("database", "onStatus needs a started client: call start() first");
    return this.runner.onStatus(listener);
  }

  /** Stop the background loop and wait for it: a sync in progress (the loop's, or one the app
   * started with `syncOnce`) finishes first, its answer applied. */
  async stop(): Promise<void> {
    await this.runner?.stop();
    await this.current;
  }

  private async syncNow(): Promise<SyncReport> {
    const report: SyncReport = { requests: 0, pushed: 0, rejected: 0, applied: emptyApplied(), resyncs: 0 };
    for (;;) {
      const sent = this.db.transaction(() => this.toSend());
      const changes = sent.flatMap((s) => (s.change ? [s.change] : []));
      const request: SyncRequest = {
        schema_version: this.schema.version,
        client_id: this.clientId,
        cursor: this.cursor(),
        ...(this.pageSize === undefined ? {} : { page_size: this.pageSize }),
        changes,
      };
      report.pushed += changes.length;
      let response: SyncResponse;
      try {
        response = await postSync(this.transport, request);
      } catch (error) {
        if (request.cursor === null || !isResyncRequired(error)) throw error;
        // The server forgot deletions past the cursor: pull everything again, keeping the outbox
        // (nothing of the refused request was written) and the quarantine.
        beginResync(this.db, this.tables.values());
        report.requests += 1;
        report.resyncs += 1;
        continue;
      }
      report.requests += 1;
      report.rejected += response.rejected.length;
      const applied = apply(this.db, this.tables, this.clientId, sent, response);
      for (const k of Object.keys(applied) as (keyof Applied)[]) report.applied[k] += applied[k];
      // A full push may have left entries behind it, unless none of it was acknowledged: then
      // the same entries (kept for a clock too far ahead) would be pushed again at once.
      const morePush = sent.length === this.pushBatch && applied.acknowledged > 0;
      if (!response.has_more && !morePush) return report;
    }
  }

  /** The next batch of outbox entries with their changes: the current row of each, or its
   * deletion; an entry whose row was applied away since has nothing to push. */
  private toSend(): Sent[] {
    return readOutbox(this.db, this.outboxSql, this.pushBatch).map((entry) => ({ entry, change: this.change(entry) }));
  }

  private change(entry: Entry): PushChange | undefined {
    const plan = this.tables.get(entry.table);
    if (!plan) {
      throw new SyncClientError("database", `the outbox names table \`${entry.table}\`, which this schema does not sync`);
    }
    if (entry.deletedAt !== null) {
      return { table: entry.table, op: "delete", key: plan.wireKey(entry.key), modified_at: entry.deletedAt };
    }
    const row = plan.read(this.db, entry.key);
    if (!row) return undefined;
    for (const kept of [plan.meta.version, plan.meta.device]) if (kept !== null) delete row[kept];
    return { table: entry.table, op: "upsert", row };
  }

  private plan(table: string): TablePlan {
    const plan = this.tables.get(table);
    if (!plan) throw new SyncClientError("database", `\`${table}\` is not a synced table of this schema`);
    return plan;
  }
}

/** Whether `error` is the server's 410 `resync_required`. */
function isResyncRequired(error: unknown): boolean {
  return error instanceof SyncClientError && error.kind === "refused" && error.error?.code === "resync_required";
}
