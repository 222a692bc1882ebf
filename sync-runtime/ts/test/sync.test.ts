// The TypeScript client against a real sync-server on loopback, on both stores: devices of one
// user converge, concurrent offline edits end with one winner, deletes and server-side removals
// travel, pages follow each other, and the app's Drizzle writes are captured by the triggers.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { tune, userProfile } from "@tunes/schema/drizzle/sqlite";
import { Device, at, id, syncAll, user } from "./support/device.js";
import { STORES, startServer } from "./support/server.js";

for (const kind of STORES) {
  describe(`sync over ${kind}`, () => {
    test("a create on one device reaches the other", async () => {
      const server = await startServer(kind);
      const me = user();
      const [a, b] = [new Device(server, me), new Device(server, me)];
      try {
        const tuneId = id();
        a.insertTune(tuneId, "The Kesh", at(1));
        assert.equal(a.outboxLen(), 2, "the profile and the tune wait to be pushed");
        const report = await a.client.syncOnce();
        assert.equal(report.pushed, 2);
        assert.equal(a.outboxLen(), 0, "the server acknowledged both");
        await server.settle();
        await b.client.syncOnce();
        const pulled = b.tune(tuneId);
        assert.equal(pulled?.["title"], "The Kesh");
        assert.equal(pulled?.["deleted"], false, "booleans are booleans in wire form");
        assert.equal(pulled?.["device_id"], a.client.clientId, "the server stamped A's id");
        assert.equal(b.outboxLen(), 0, "pulled rows are never recorded as local writes");
        await syncAll(server, [a, b]);
        assert.deepEqual(a.rows(), b.rows());
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });

    test("concurrent offline edits end with one winner everywhere", async () => {
      const server = await startServer(kind);
      const me = user();
      const [a, b] = [new Device(server, me), new Device(server, me)];
      try {
        const tuneId = id();
        a.insertTune(tuneId, "first", at(1));
        await syncAll(server, [a, b]);
        a.exec(`UPDATE tune SET title = 'older edit', last_modified_at = '${at(2)}' WHERE id = '${tuneId}'`);
        b.exec(`UPDATE tune SET title = 'newer edit', last_modified_at = '${at(3)}' WHERE id = '${tuneId}'`);
        // B pushes its newer edit first; A's older edit is then stale and A takes B's row.
        await b.client.syncOnce();
        await server.settle();
        const report = await a.client.syncOnce();
        assert.equal(report.rejected, 1, "the server refused A's older edit");
        await syncAll(server, [a, b]);
        assert.equal(a.tune(tuneId)?.["title"], "newer edit");
        assert.equal(b.tune(tuneId)?.["title"], "newer edit");
        assert.deepEqual(a.rows(), b.rows());
        assert.equal(a.outboxLen() + b.outboxLen(), 0);
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });

    test("deletes and server-side removals travel", async () => {
      const server = await startServer(kind);
      const me = user();
      const [a, b] = [new Device(server, me), new Device(server, me)];
      try {
        const [one, two] = [id(), id()];
        a.insertTune(one, "one", at(1));
        a.insertTune(two, "two", at(2));
        await syncAll(server, [a, b]);
        assert.ok(b.tune(one) && b.tune(two));
        a.exec(`DELETE FROM tune WHERE id = '${one}'`);
        server.admin(`DELETE FROM tune WHERE id = '${two}'`);
        await syncAll(server, [a, b]);
        for (const device of [a, b]) {
          assert.equal(device.tune(one), undefined, "the device's delete travelled");
          assert.equal(device.tune(two), undefined, "the admin's removal travelled");
          assert.equal(device.outboxLen(), 0);
        }
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });

    test("a pull of many rows goes over several pages", async () => {
      const server = await startServer(kind);
      const me = user();
      const a = new Device(server, me, { pushBatch: 7 });
      const b = new Device(server, me, { pageSize: 5 });
      try {
        for (let n = 0; n < 23; n += 1) a.insertTune(id(), `tune ${n}`, at(n));
        const pushed = await a.client.syncOnce();
        assert.ok(pushed.requests >= 4, `24 entries in batches of 7 take 4 requests, took ${pushed.requests}`);
        assert.equal(a.outboxLen(), 0);
        await server.settle();
        const pulled = await b.client.syncOnce();
        assert.ok(pulled.requests >= 5, `24 rows in pages of 5 take 5 requests, took ${pulled.requests}`);
        assert.equal(b.client.rows("tune").length, 23);
        await syncAll(server, [a, b]);
        assert.deepEqual(a.rows(), b.rows());
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });

    test("the app's Drizzle writes are captured and synced", async () => {
      const server = await startServer(kind);
      const me = user();
      const [a, b] = [new Device(server, me), new Device(server, me)];
      try {
        const app = drizzle(a.sqlite);
        app.insert(userProfile).values({ id: me, settings: { theme: "dark" } }).run();
        const [created] = app.insert(tune).values({ userId: me, title: "Drowsy Maggie" }).returning().all();
        assert.ok(created);
        app.update(tune).set({ type: "jig", lastModifiedAt: new Date(Date.now() + 1000).toISOString() }).where(eq(tune.id, created.id)).run();
        assert.equal(a.outboxLen(), 2, "the triggers recorded the profile and the tune, once each");
        await syncAll(server, [a, b]);
        const profile = b.client.rows("user_profile")[0];
        assert.deepEqual(profile?.["settings"], { theme: "dark" }, "JSON travels parsed");
        const viaDrizzle = drizzle(b.sqlite).select().from(tune).where(eq(tune.id, created.id)).get();
        assert.equal(viaDrizzle?.type, "jig");
        assert.equal(viaDrizzle?.deleted, false);
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });
  });
}
