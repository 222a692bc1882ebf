// `npm run bench:browser`: the browser's initial sync of 100,000 rows (`--quick`: 10,000) from
// sync-server on the embedded store, in headless Chromium on sqlite-wasm with opfs-sahpool, in
// pages of 10,000 (docs/bench.md). A Node device pushes the rows first. Prints `name: value`.

import { call, launch, servePage } from "../support/browser.js";
import { Device, at, id, user } from "../support/device.js";
import { startServer, token } from "../support/server.js";

const ROWS = process.argv.includes("--quick") ? 10_000 : 100_000;
const { server: pages, origin } = await servePage();
const server = await startServer("sqlite", { corsOrigins: [origin] });
const me = user();
const seeder = new Device(server, me, { pushBatch: 10_000 });
const chromium = await launch();
try {
  seeder.sqlite.transaction(() => {
    seeder.insertTune(id(), "first", at(0));
    const insert = seeder.sqlite.prepare("INSERT INTO tune (id, user_id, title, last_modified_at) VALUES (?, ?, ?, ?)");
    for (let n = 1; n < ROWS; n += 1) insert.run(id(), me, `tune ${n}`, at(n));
  })();
  await seeder.client.syncOnce();
  await chromium.page.goto(origin);
  const { ms, stored } = (await call(chromium.page, "initialSync", { server: server.url, token: token(me), pageSize: 10_000 })) as { ms: number; stored: number };
  if (stored !== ROWS + 1) throw new Error(`the browser stored ${stored} rows, not ${ROWS + 1}`);
  console.log(`browser_initial_sync_${ROWS / 1000}k_s: ${(ms / 1000).toFixed(1)}`);
} finally {
  await chromium.close();
  seeder.dispose();
  await server.stop();
  pages.close();
}
