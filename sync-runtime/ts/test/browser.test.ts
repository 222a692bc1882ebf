// The client in a real browser: headless Chromium (Debian's, driven by playwright-core) loads a
// page bundled with esbuild whose worker opens sqlite-wasm persisted in OPFS (opfs-sahpool),
// writes through Drizzle, syncs with sync-server, gets another device's change through a poke,
// is reloaded, and still has its rows, cursor and outbox.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { build } from "esbuild";
import { type Page, chromium } from "playwright-core";
import { Device, id, syncAll, user } from "./support/device.js";
import { startServer, token } from "./support/server.js";

const PACKAGE = join(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The page, its worker and sqlite-wasm's module, served from memory on a loopback port. */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const bundled = await build({
    entryPoints: { page: join(PACKAGE, "test/browser/page.ts"), worker: join(PACKAGE, "test/browser/worker.ts") },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    outdir: "/",
    logLevel: "error",
    // The generated package may be a link out of this folder: its drizzle-orm is this one's.
    nodePaths: [join(PACKAGE, "node_modules")],
  });
  const files = new Map<string, { type: string; body: Uint8Array }>();
  for (const file of bundled.outputFiles) files.set(file.path, { type: "text/javascript", body: file.contents });
  const wasm = join(PACKAGE, "node_modules/@sqlite.org/sqlite-wasm/sqlite-wasm/jswasm/sqlite3.wasm");
  files.set("/sqlite3.wasm", { type: "application/wasm", body: readFileSync(wasm) });
  files.set("/", { type: "text/html", body: Buffer.from('<!doctype html><script type="module" src="/page.js"></script>') });
  const server = createServer((req, res) => {
    const file = files.get(new URL(req.url ?? "/", "http://x").pathname);
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function call(page: Page, op: string, args: Record<string, unknown> = {}): Promise<unknown> {
  return page.evaluate(
    ([op, args]) => (globalThis as unknown as { device: (op: string, args: unknown) => Promise<unknown> }).device(op, args),
    [op, args] as const,
  );
}

/** Wait until `check` gives a value, polling; fail after `ms` with the device's status. */
async function until<T>(page: Page, ms: number, what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms; status ${JSON.stringify(await call(page, "status"))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a browser device syncs, gets a poke, and keeps its data across a reload", async () => {
  const { server: pages, origin } = await servePage();
  const server = await startServer("sqlite", { corsOrigins: [origin] });
  const profile = mkdtempSync(join(tmpdir(), "schema-sync-chromium-"));
  // A fresh profile of its own (Playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS });
  const me = user();
  const other = new Device(server, me);
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.on("pageerror", (e) => console.error("page error:", e));
    await page.goto(origin);
    const open = () => call(page, "open", { server: server.url, token: token(me) });
    await open();
    const debounceMs = 200;
    await call(page, "start", { debounceMs });
    await until(page, 10_000, "the browser listens to pokes", async () => ((await call(page, "status")) as { listening: boolean }).listening || undefined);

    // A write through Drizzle reaches the other device.
    await call(page, "write", { user: me, id: id(), title: "from the browser" });
    await until(page, 10_000, "the browser pushed", async () => ((await call(page, "state")) as { outbox: number }).outbox === 0 || undefined);
    await syncAll(server, [other]);
    assert.ok(other.client.rows("tune").some((t) => t["title"] === "from the browser"));

    // The other device's write reaches the browser through a poke.
    other.insertTune(id(), "from node", new Date().toISOString());
    await other.client.syncOnce();
    await until(page, debounceMs + 1000, "the poke made the browser sync", async () =>
      ((await call(page, "titles")) as string[]).includes("from node") || undefined,
    );

    // A write left in the outbox, then a reload: rows, cursor and outbox are still there.
    await call(page, "stop");
    await call(page, "write", { user: me, id: id(), title: "pending" });
    const before = (await call(page, "state")) as { cursor: string | null; outbox: number };
    assert.equal(before.outbox, 1);
    assert.notEqual(before.cursor, null);
    await page.reload();
    await open();
    assert.deepEqual(await call(page, "titles"), ["from node", "from the browser", "pending"]);
    assert.deepEqual(await call(page, "state"), before);
    await call(page, "sync");
    await syncAll(server, [other]);
    assert.ok(other.client.rows("tune").some((t) => t["title"] === "pending"));
  } finally {
    await browser.close();
    other.dispose();
    await server.stop();
    pages.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
