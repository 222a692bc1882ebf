// The client in a real browser: headless Chromium (Debian's, driven by playwright-core) loads a
// page bundled with esbuild whose worker opens sqlite-wasm persisted in OPFS (opfs-sahpool),
// writes through Drizzle, syncs with sync-server, gets another device's change through a poke,
// is reloaded, and still has its rows, cursor and outbox.

import assert from "node:assert/strict";
import { test } from "node:test";
import { call, launch, servePage, until } from "./support/browser.js";
import { Device, id, syncAll, user } from "./support/device.js";
import { startServer, token } from "./support/server.js";

test("a browser device syncs, gets a poke, and keeps its data across a reload", async () => {
  const { server: pages, origin } = await servePage();
  const server = await startServer("sqlite", { corsOrigins: [origin] });
  const chromium = await launch();
  const page = chromium.page;
  const me = user();
  const other = new Device(server, me);
  try {
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
    await chromium.close();
    other.dispose();
    await server.stop();
    pages.close();
  }
});
