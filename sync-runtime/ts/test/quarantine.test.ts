// Changes the server refuses for good, on both stores: the device's row goes into the quarantine
// with the verdict, the outbox moves on, the local row becomes the server's; the app discards one
// or retries it after an edit.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Device, at, id, syncAll, user } from "./support/device.js";
import { STORES, startServer } from "./support/server.js";

for (const kind of STORES) {
  describe(`the quarantine over ${kind}`, () => {
    test("a change that breaks a unique key is quarantined, then retried after an edit", async () => {
      const server = await startServer(kind);
      const me = user();
      const [a, b] = [new Device(server, me), new Device(server, me)];
      try {
        const tuneId = id();
        a.insertTune(tuneId, "tagged", at(1));
        await syncAll(server, [a, b]);
        const [first, second] = [id(), id()];
        a.exec(`INSERT INTO tag (id, user_id, tune_id, label) VALUES ('${first}', '${me}', '${tuneId}', 'session')`);
        b.exec(`INSERT INTO tag (id, user_id, tune_id, label) VALUES ('${second}', '${me}', '${tuneId}', 'session')`);
        await a.client.syncOnce();
        await server.settle();
        const report = await b.client.syncOnce();
        assert.equal(report.applied.quarantined, 1);
        assert.equal(b.outboxLen(), 0, "the refused change left the outbox");
        const [entry] = b.client.quarantine();
        assert.ok(entry);
        assert.equal(entry.reason, "constraint");
        assert.equal(entry.kind, "unique");
        assert.equal(entry.table, "tag");
        assert.deepEqual(entry.key, { id: second });
        assert.equal(entry.localRow?.["label"], "session");
        assert.ok(!b.client.rows("tag").some((t) => t["id"] === second), "the local row became the server's: none");
        b.client.retryQuarantined(entry.id, { label: "session (2)" });
        assert.equal(b.client.quarantine().length, 0);
        await syncAll(server, [a, b]);
        const labels = a.client.rows("tag").map((t) => t["label"]).sort();
        assert.deepEqual(labels, ["session", "session (2)"]);
        assert.deepEqual(a.rows(), b.rows());
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });

    test("a discarded change leaves the server's version", async () => {
      const server = await startServer(kind);
      const me = user();
      const [a, b] = [new Device(server, me), new Device(server, me)];
      try {
        const tuneId = id();
        a.insertTune(tuneId, "tagged", at(1));
        await syncAll(server, [a, b]);
        a.exec(`INSERT INTO tag (id, user_id, tune_id, label) VALUES ('${id()}', '${me}', '${tuneId}', 'dup')`);
        b.exec(`INSERT INTO tag (id, user_id, tune_id, label) VALUES ('${id()}', '${me}', '${tuneId}', 'dup')`);
        await a.client.syncOnce();
        await server.settle();
        await b.client.syncOnce();
        const [entry] = b.client.quarantine();
        assert.ok(entry);
        b.client.discardQuarantined(entry.id);
        assert.equal(b.client.quarantine().length, 0);
        await syncAll(server, [a, b]);
        assert.deepEqual(a.rows(), b.rows());
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });
  });
}
