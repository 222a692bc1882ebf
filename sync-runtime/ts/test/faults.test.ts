// Failures around a sync, on both stores: an edit made while the request is in flight survives
// its answer, a lost answer neither duplicates nor regresses, a device killed mid-request loses
// nothing, and a server that needs a newer app says so (and the background loop stops).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import { SyncClient, UpgradeRequiredError } from "@schema-sync/client";
import { betterSqlite3Adapter } from "@schema-sync/client/better-sqlite3";
import { sqliteSchemaSql, syncSchema } from "@tunes/schema/sync-meta";
import { Device, at, id, syncAll, user } from "./support/device.js";
import { FaultProxy } from "./support/proxy.js";
import { STORES, startServer, token } from "./support/server.js";

for (const kind of STORES) {
  describe(`faults over ${kind}`, () => {
    test("an edit made in flight survives the answer", async () => {
      const server = await startServer(kind);
      const proxy = await FaultProxy.start(server.url);
      const me = user();
      const [a, b] = [new Device(proxy, me), new Device(server, me)];
      try {
        const tuneId = id();
        a.insertTune(tuneId, "sent", at(1));
        const held = proxy.holdNext();
        const syncing = a.client.syncOnce();
        await held.arrived;
        a.exec(`UPDATE tune SET title = 'edited in flight', last_modified_at = '${at(2)}' WHERE id = '${tuneId}'`);
        held.release();
        await syncing;
        assert.equal(a.tune(tuneId)?.["title"], "edited in flight", "the answer did not overwrite the edit");
        assert.equal(a.outboxLen(), 1, "the edit is still to be pushed");
        await syncAll(server, [a, b]);
        assert.equal(b.tune(tuneId)?.["title"], "edited in flight");
        assert.deepEqual(a.rows(), b.rows());
      } finally {
        a.dispose();
        b.dispose();
        await proxy.close();
        await server.stop();
      }
    });

    test("a lost answer neither duplicates nor regresses", async () => {
      const server = await startServer(kind);
      const proxy = await FaultProxy.start(server.url);
      const me = user();
      const [a, b] = [new Device(proxy, me), new Device(server, me)];
      try {
        const tuneId = id();
        a.insertTune(tuneId, "once", at(1));
        proxy.dropNext();
        await assert.rejects(a.client.syncOnce(), (e: Error) => e.name === "SyncClientError");
        assert.equal(a.outboxLen(), 2, "nothing acknowledged, nothing lost");
        const cursor = a.client.cursor();
        a.exec(`UPDATE tune SET title = 'twice', last_modified_at = '${at(2)}' WHERE id = '${tuneId}'`);
        await syncAll(server, [a, b]);
        assert.notEqual(a.client.cursor(), cursor);
        assert.equal(b.client.rows("tune").length, 1, "one tune, not two");
        assert.equal(b.tune(tuneId)?.["title"], "twice", "the later edit stands");
        assert.deepEqual(a.rows(), b.rows());
      } finally {
        a.dispose();
        b.dispose();
        await proxy.close();
        await server.stop();
      }
    });

    test("a device killed mid-request loses nothing", async () => {
      const server = await startServer(kind);
      const proxy = await FaultProxy.start(server.url);
      const me = user();
      const [a, b] = [new Device(proxy, me), new Device(server, me)];
      try {
        const tuneId = id();
        a.insertTune(tuneId, "before the kill", at(1));
        const held = proxy.holdNext();
        const syncing = a.client.syncOnce();
        await held.arrived;
        a.close();
        held.release();
        await assert.rejects(syncing, "the killed device cannot apply the answer");
        a.open();
        assert.equal(a.outboxLen(), 2, "the outbox survived the kill");
        await syncAll(server, [a, b]);
        assert.equal(a.outboxLen(), 0);
        assert.equal(b.tune(tuneId)?.["title"], "before the kill");
        assert.deepEqual(a.rows(), b.rows());
      } finally {
        a.dispose();
        b.dispose();
        await proxy.close();
        await server.stop();
      }
    });

    test("a server that no longer syncs the app's version answers UpgradeRequired", async () => {
      const server = await startServer(kind);
      const sqlite = new Database(":memory:");
      try {
        sqlite.exec(sqliteSchemaSql);
        sqlite.exec("UPDATE _sync_client SET schema_version = 0");
        const client = new SyncClient(betterSqlite3Adapter(sqlite), {
          schema: { ...syncSchema, version: 0 },
          schemaSql: sqliteSchemaSql,
          server: server.url,
          token: token(user()),
        });
        await assert.rejects(client.syncOnce(), (e) => e instanceof UpgradeRequiredError && e.status === 426);
        // Retrying cannot help: the background loop stops and says why.
        client.start({ backoffMinMs: 10 });
        const deadline = Date.now() + 10_000;
        while (!client.status?.stopped && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.equal(client.status?.stopped, true, "the loop stopped");
        assert.equal(client.status?.lastError?.kind, "upgrade_required");
        assert.equal(client.status?.failures, 1, "and did not retry");
        await client.stop();
      } finally {
        sqlite.close();
        await server.stop();
      }
    });
  });
}
