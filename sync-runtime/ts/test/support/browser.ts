// The browser side of the tests and the bench: the page and its device worker bundled with
// esbuild and served from memory on a loopback port, Debian's Chromium launched headless through
// playwright-core with a fresh profile, and calls into the worker.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { type BrowserContext, type Page, chromium } from "playwright-core";

const PACKAGE = join(import.meta.dirname, "../../..");
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
export async function servePage(): Promise<{ server: Server; origin: string }> {
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

export function call(page: Page, op: string, args: Record<string, unknown> = {}): Promise<unknown> {
  return page.evaluate(
    ([op, args]) => (globalThis as unknown as { device: (op: string, args: unknown) => Promise<unknown> }).device(op, args),
    [op, args] as const,
  );
}

/** Wait until `check` gives a value, polling; fail after `ms` with the device's status. */
export async function until<T>(page: Page, ms: number, what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms; status ${JSON.stringify(await call(page, "status"))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Chromium with a fresh profile of its own (Playwright passes it as --user-data-dir); `close`
 * removes the profile too. */
export async function launch(): Promise<{ browser: BrowserContext; page: Page; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "schema-sync-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.on("pageerror", (e) => console.error("page error:", e));
  const close = async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { browser, page, close };
}
