// A resync after tombstone retention, on both stores (as tests/tests/sync_retention.rs for the
// Rust client): the server prunes a deletion a device has not pulled and answers its cursor with
// 410 `resync_required`; the device pulls everything again, keeps its pending edits, drops the
// row removed on the server and converges, its report and the background loop's status counting
// the resync; a device that synced after the deletion is not affected; a device that crashes while
// it applies its resync's pull continues the resync after a restart and converges too; a resync
// of many small pages, all but the last below the pruned deletion, converges with one 410. And a
// database made before the resync list gets it on open.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { syncSchema } from "@tunes/schema/sync-meta";
import { Device, at, id, syncAll, user } from "./support/device.js";
import { STORES, type TestServer, startServer, token } from "./support/server.js";

/** Tombstones older than this are pruned, a second apart: long enough for a device to pull a
 * deletion first, short enough for a fast test. */
const RETENTION = "2s";

/** Wait until the server pruned deletions `device` has not pulled: a request from its cursor is
 * then answered 410 `resync_required` (and writes nothing). */
async function untilPruned(server: TestServer, device: Device): Promise<void> {
  const body = JSON.stringify({
    schema_version: syncSchema.version,
    client_id: device.client.clientId,
    cursor: device.client.cursor(),
    changes: [],
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${server.url}/api/sync`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token(device.user)}` },
      body,
    });
    const text = await response.text();
    if (response.status === 410) {
      assert.match(text, /"resync_required"/);
      return;
    }
    assert.equal(response.status, 200, text);
    if (Date.now() > deadline) assert.fail("the server did not prune the deletion within 15 s");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Tunes 1 to 4 of `a`'s user, created on `a` and synced to `others`; their ids. */
async function fourTunes(server: TestServer, a: Device, others: readonly Device[]): Promise<string[]> {
  const tunes = [id(), id(), id(), id()];
  tunes.forEach((tuneId, i) => a.insertTune(tuneId, `tune ${i + 1}`, at(1)));
  await syncAll(server, [a, ...others]);
  return tunes;
}

/** Offline on `device`: tune 2 retitled and a new tune; the new tune's id. */
function editOffline(device: Device, tune2: string): string {
  const added = id();
  device.exec(`UPDATE tune SET title = 'edited offline', last_modified_at = '${at(2)}' WHERE id = '${tune2}'`);
  device.insertTune(added, "new offline", at(2));
  return added;
}

function resyncListed(device: Device): number {
  return (device.sqlite.prepare("SELECT count(*) AS n FROM _sync_resync").get() as { n: number }).n;
}

for (const kind of STORES) {
  describe(`resync over ${kind}`, () => {
    test("a device behind the pruned history resyncs keeping its pending edits; a current one is unaffected", async () => {
      const server = await startServer(kind, { tombstoneRetention: RETENTION });
      const me = user();
      // C runs the background loop.
      const [a, b, c] = [new Device(server, me), new Device(server, me), new Device(server, me)];
      try {
        const [, tune2, tune3, tune4] = await fourTunes(server, a, [b, c]);
        const added = editOffline(b, tune2!);
        server.admin(`DELETE FROM tune WHERE id = '${tune3}'`);
        await server.settle();
        assert.equal((await a.client.syncOnce()).resyncs, 0);
        assert.equal(a.tune(tune3!), undefined, "A pulled the deletion");
        await untilPruned(server, b);

        const report = await b.client.syncOnce();
        assert.equal(report.resyncs, 1, JSON.stringify(report));
        assert.equal(report.pushed, 4, `the refused push of two changes, then again: ${JSON.stringify(report)}`);
        assert.equal(b.tune(tune3!), undefined, "the row removed on the server is gone from B");
        assert.equal(b.tune(tune2!)?.["title"], "edited offline", "B's pending edit was kept and pushed");
        assert.equal(b.tune(added)?.["title"], "new offline");
        assert.equal(b.tune(tune4!)?.["title"], "tune 4", "rows the server served stay");
        assert.equal(b.outboxLen(), 0);
        assert.equal(resyncListed(b), 0, "the resync ended");

        // The background loop's status counts the resync of C, which also missed the deletion.
        c.client.start({ pokes: false });
        const deadline = Date.now() + 10_000;
        while ((c.client.status?.syncs ?? 0) === 0) {
          if (Date.now() > deadline) assert.fail(`C did not sync within 10 s: ${String(c.client.status?.lastError)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(c.client.status?.resyncs, 1);
        assert.equal(c.tune(tune3!), undefined);
        await c.client.stop();

        const again = await a.client.syncOnce();
        assert.equal(again.resyncs, 0, "A synced after the deletion and is not affected");
        assert.equal(a.tune(tune2!)?.["title"], "edited offline");
        await syncAll(server, [a, b, c]);
        assert.deepEqual(b.rows(), a.rows());
        assert.deepEqual(c.rows(), a.rows());
      } finally {
        await c.client.stop();
        for (const device of [a, b, c]) device.dispose();
        await server.stop();
      }
    });

    test("a resync over many small pages converges, and so does a new device", async () => {
      const server = await startServer(kind, { tombstoneRetention: RETENTION });
      const me = user();
      // Two changes a page: the resync takes several requests whose cursors stand below the
      // pruned deletion.
      const small = { pageSize: 2 };
      const [a, b] = [new Device(server, me), new Device(server, me, small)];
      let fresh: Device | undefined;
      try {
        const tunes = Array.from({ length: 9 }, () => id());
        tunes.forEach((tuneId, i) => a.insertTune(tuneId, `tune ${i + 1}`, at(1)));
        await syncAll(server, [a, b]);
        server.admin(`DELETE FROM tune WHERE id = '${tunes[0]}'`);
        await server.settle();
        await a.client.syncOnce();
        await untilPruned(server, b);

        const report = await b.client.syncOnce();
        assert.equal(report.resyncs, 1, JSON.stringify(report));
        assert.ok(report.requests >= 5, `a resync of several pages: ${JSON.stringify(report)}`);
        assert.equal(b.tune(tunes[0]!), undefined, "the row removed on the server is gone from B");
        assert.equal(resyncListed(b), 0, "the resync ended");
        fresh = new Device(server, me, small);
        assert.equal((await fresh.client.syncOnce()).resyncs, 0, "a new device pages through with no 410");
        await syncAll(server, [a, b, fresh]);
        assert.deepEqual(b.rows(), a.rows());
        assert.deepEqual(fresh.rows(), a.rows());
      } finally {
        for (const device of [a, b, fresh]) device?.dispose();
        await server.stop();
      }
    });

    test("a device that crashes in the middle of its resync continues it after a restart", async () => {
      const server = await startServer(kind, { tombstoneRetention: RETENTION });
      const me = user();
      const [a, b] = [new Device(server, me), new Device(server, me)];
      try {
        const [, tune2, tune3, tune4] = await fourTunes(server, a, [b]);
        const added = editOffline(b, tune2!);
        server.admin(`DELETE FROM tune WHERE id = '${tune3}'`);
        await server.settle();
        await a.client.syncOnce();
        await untilPruned(server, b);

        // Storing tune 4 as the resync's pull serves it throws, as a killed app stops, and the
        // page's transaction rolls back. The trigger lives as long as the connection.
        b.exec(
          `CREATE TEMP TRIGGER crash BEFORE UPDATE ON tune WHEN NEW.id = '${tune4}' ` +
            "BEGIN SELECT RAISE(ABORT, 'the app was killed'); END",
        );
        await assert.rejects(b.client.syncOnce(), /the app was killed/);
        assert.ok(resyncListed(b) > 0, "the resync is under way");
        assert.equal(b.client.cursor(), null, "the cursor was forgotten, and no page applied");
        assert.equal(b.outboxLen(), 2, "the pending edits are kept");
        assert.equal(b.tune(tune3!)?.["title"], "tune 3", "nothing was removed yet");

        b.restart();
        const report = await b.client.syncOnce();
        assert.equal(report.resyncs, 0, "the resync went on from where it stopped");
        assert.equal(resyncListed(b), 0, "the resync ended");
        assert.equal(b.tune(tune3!), undefined, "the row removed on the server is gone from B");
        assert.equal(b.tune(tune2!)?.["title"], "edited offline");
        assert.equal(b.tune(added)?.["title"], "new offline");
        assert.equal(b.outboxLen(), 0);
        await syncAll(server, [a, b]);
        assert.deepEqual(b.rows(), a.rows());
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });
  });
}

test("a database made before the resync list gets it on open", () => {
  const device = new Device({ url: "http://127.0.0.1:9" }, user());
  try {
    device.insertTune(id(), "kept", at(1));
    device.exec("DROP TABLE _sync_resync; DROP TABLE _sync_quarantine");
    device.restart();
    assert.equal(resyncListed(device), 0);
    assert.deepEqual(device.client.quarantine(), []);
    assert.equal(device.outboxLen(), 2, "the rows and the outbox stay");
  } finally {
    device.dispose();
  }
});
