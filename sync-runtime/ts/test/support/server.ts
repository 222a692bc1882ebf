// A real sync-server on a free loopback port for the tests, over a store of its own: a fresh
// Postgres database (made from TEST_DATABASE_URL, the generated postgres.sql applied) or an
// embedded SQLite file. Tokens are HS256 JWTs signed with the server's test secret.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";

export type StoreKind = "sqlite" | "postgres";
export const STORES: readonly StoreKind[] = ["sqlite", "postgres"];

/** The repository's root, from build/test/support (compiled) or test/support. */
export const ROOT = resolve(import.meta.dirname, "../../../../..");
const SECRET = "typescript-client-tests-hs256-secret-0123456789";

export interface ServerOptions {
  /** Origins browsers may call the server from (`--cors-origin`). */
  corsOrigins?: readonly string[];
  /** How long tombstones are kept (`--tombstone-retention`, such as `2s`); the server prunes
   * every quarter of that, at least a second apart. */
  tombstoneRetention?: string;
}

export interface TestServer {
  readonly url: string;
  readonly kind: StoreKind;
  /** Run SQL on the server's database as an admin would, in one transaction. */
  admin(sql: string): void;
  /** Wait until a pull serves every transaction committed so far (Postgres pulls stop at the
   * oldest transaction still open in the cluster, which another test may hold a moment). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** The sync-server binary: SYNC_SERVER_BIN, or cargo's debug build. It serves the repository's
 * schema.toml, or SYNC_SERVER_SCHEMA's. */
function serverBinary(): string {
  if (process.env["SYNC_SERVER_BIN"]) return process.env["SYNC_SERVER_BIN"];
  const target = process.env["CARGO_TARGET_DIR"] ?? join(ROOT, "target");
  return join(target, "debug", "sync-server");
}

function databaseUrl(): string {
  const url = process.env["TEST_DATABASE_URL"];
  if (!url) throw new Error("TEST_DATABASE_URL is not set: run through `cargo xtask test` or set TEST_DATABASE_URL");
  return url;
}

function psql(url: string, args: readonly string[]): string {
  return execFileSync("psql", ["-XtAq", "-v", "ON_ERROR_STOP=1", url, ...args], { encoding: "utf8" });
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** Start a server over a fresh store of `kind`. */
export async function startServer(kind: StoreKind, options: ServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "schema-sync-ts-"));
  let databaseArg: string;
  let admin: (sql: string) => void;
  let drop: () => void;
  let settle = async () => {};
  if (kind === "postgres") {
    const adminUrl = databaseUrl();
    const name = `ts_${process.pid}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    psql(adminUrl, ["-c", `CREATE DATABASE "${name}"`]);
    const url = withDatabase(adminUrl, name);
    psql(url, ["-f", join(ROOT, "generated/sql/postgres.sql")]);
    databaseArg = url;
    admin = (sql) => void psql(url, ["-c", `BEGIN; ${sql}; COMMIT`]);
    drop = () => void psql(adminUrl, ["-c", `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]);
    settle = () => settlePostgres(url);
  } else {
    const file = join(dir, "sync.db");
    databaseArg = `sqlite:${file}`;
    admin = (sql) => {
      const db = new Database(file);
      try {
        db.pragma("busy_timeout = 30000");
        db.pragma("foreign_keys = ON");
        db.exec(`BEGIN IMMEDIATE; ${sql}; COMMIT`);
      } finally {
        db.close();
      }
    };
    drop = () => {};
  }
  const args = [
    "--database-url", databaseArg,
    "--jwt-secret", SECRET,
    "--listen", "127.0.0.1:0",
    "--schema", process.env["SYNC_SERVER_SCHEMA"] ?? join(ROOT, "schema.toml"),
    ...(options.corsOrigins ?? []).flatMap((o) => ["--cors-origin", o]),
    ...(options.tombstoneRetention === undefined ? [] : ["--tombstone-retention", options.tombstoneRetention]),
  ];
  const child = spawn(serverBinary(), args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_LOG: "warn,sync_server=info" } });
  const url = await listening(child);
  return {
    url,
    kind,
    admin,
    settle,
    async stop() {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
      drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The base URL the server logs once it listens. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`sync-server did not start in 30 s:\n${log}`)), 30_000);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      log += chunk;
      const found = /http:\/\/(127\.0\.0\.1:\d+)\/api\/sync/.exec(log);
      if (found) {
        clearTimeout(timer);
        resolvePromise(`http://${found[1]}`);
      }
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run sync-server (${serverBinary()}; build it with cargo, or set SYNC_SERVER_BIN): ${error.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sync-server exited with ${code}:\n${log}`));
    });
  });
}

async function settlePostgres(url: string): Promise<void> {
  const query = "SELECT pg_snapshot_xmin(s)::text || ' ' || pg_snapshot_xmax(s)::text FROM pg_current_snapshot() AS s";
  const target = Number(psql(url, ["-c", query]).trim().split(" ")[1]);
  const deadline = Date.now() + 60_000;
  while (Number(psql(url, ["-c", query]).trim().split(" ")[0]) < target) {
    if (Date.now() > deadline) throw new Error("a transaction in the cluster stayed open for 60 s");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A token for `user`, valid for an hour, for the default audience. */
export function token(user: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub: user, aud: "authenticated", iat: now, exp: now + 3600 })}`;
  return `${unsigned}.${createHmac("sha256", SECRET).update(unsigned).digest("base64url")}`;
}
