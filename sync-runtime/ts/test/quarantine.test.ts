// Changes the server refuses for good, on both stores (a unique key, a value too large for its
// index, a delete a foreign key does not allow): the device's row goes into the quarantine with the verdict, the outbox moves on, the
// local row becomes the server's, the device's other changes land; the app discards one or
// retries it after an edit.

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

    test("a pending row holding a pulled row's unique values is quarantined, then retried under another name", async () => {
      const server = await startServer(kind);
      const me = user();
      // B pushes one entry a request: its tune goes first (tables in foreign key order), so the
      // request that pulls A's repertoire has not pushed B's, which is still pending.
      const [a, b] = [new Device(server, me), new Device(server, me, { pushBatch: 1 })];
      try {
        a.insertTune(id(), "seed", at(1));
        await syncAll(server, [a, b]);
        b.insertTune(id(), "pending first", at(2));
        const [theirs, another, mine] = [id(), id(), id()];
        const repertoire = (rid: string, name = "session") =>
          `INSERT INTO repertoire (id, user_id, name, last_modified_at) VALUES ('${rid}', '${me}', '${name}', '${at(2)}')`;
        // A's two repertoires come in one page and are stored together; the clash of one makes
        // both be stored one by one.
        a.exec(`${repertoire(theirs)}; ${repertoire(another, "practice")}`);
        b.exec(repertoire(mine));
        await a.client.syncOnce();
        await server.settle();
        const report = await b.client.syncOnce();
        assert.equal(report.applied.quarantined, 1);
        assert.deepEqual(b.client.rows("repertoire").map((r) => r["id"]).sort(), [theirs, another].sort(), "B holds A's repertoires");
        assert.equal(b.client.rows("tune").length, 2, "B's tune was pushed and kept");
        assert.equal(b.outboxLen(), 0, "B's row left the outbox");
        const [entry] = b.client.quarantine();
        assert.ok(entry);
        assert.equal(b.client.quarantine().length, 1);
        assert.equal(entry.table, "repertoire");
        assert.equal(entry.reason, "constraint");
        assert.equal(entry.kind, "unique");
        assert.equal(entry.constraint, "repertoire_user_id_name_key");
        assert.equal(entry.column, null);
        assert.deepEqual(entry.key, { id: mine });
        assert.equal(entry.localRow?.["id"], mine);
        assert.equal(entry.localRow?.["name"], "session");
        assert.equal(entry.serverRow, null);
        assert.match(entry.message, /`repertoire` already has a row with these values of \(user_id, name\)/);
        b.client.retryQuarantined(entry.id, { name: "session (2)" });
        await syncAll(server, [a, b]);
        assert.equal(b.outboxLen(), 0, "the retried row landed on the server");
        const names = a.client.rows("repertoire").map((r) => r["name"]).sort();
        assert.deepEqual(names, ["practice", "session", "session (2)"]);
        assert.deepEqual(a.rows(), b.rows());
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });

    test("a value too large for its index is quarantined naming the column, and the other changes land", async () => {
      const server = await startServer(kind);
      const me = user();
      const [a, b] = [new Device(server, me), new Device(server, me)];
      try {
        const [kept, large, edited] = [id(), id(), id()];
        a.insertTune(edited, "short", at(1));
        await syncAll(server, [a, b]);
        // `title` is indexed (tune_genre_title_idx): at most 2,000 bytes of UTF-8, here 2,002.
        const title = "é".repeat(1001);
        a.insertTune(kept, "fits", at(2));
        a.insertTune(large, title, at(3));
        a.exec(`UPDATE tune SET title = '${title}', last_modified_at = '${at(4)}' WHERE id = '${edited}'`);
        const report = await a.client.syncOnce();
        assert.equal(report.rejected, 2);
        assert.equal(report.applied.quarantined, 2);
        assert.equal(a.outboxLen(), 0, "the refused changes left the outbox");
        const entries = a.client.quarantine();
        for (const [key, serverTitle] of [[large, undefined], [edited, "short"]] as const) {
          const entry = entries.find((e) => e.key["id"] === key);
          assert.ok(entry, `${key} is quarantined`);
          assert.equal(entry.reason, "too_large");
          assert.equal(entry.column, "title");
          assert.equal(entry.table, "tune");
          assert.match(entry.message, /puts 2002 bytes in column `title`, which is indexed/);
          assert.equal(entry.localRow?.["title"], title, "the device's row is kept in the quarantine");
          assert.equal(entry.serverRow?.["title"], serverTitle);
          assert.equal(a.tune(key)?.["title"], serverTitle, "the local row became the server's");
        }
        await syncAll(server, [a, b]);
        assert.equal(b.tune(kept)?.["title"], "fits", "the device's other change landed");
        assert.equal(b.tune(large), undefined);
        assert.equal(b.tune(edited)?.["title"], "short");
        assert.deepEqual(a.rows(), b.rows());
      } finally {
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });

    test("a delete a foreign key refuses is quarantined, and the row comes back", async () => {
      const server = await startServer(kind);
      const me = user();
      const a = new Device(server, me);
      try {
        const [tuneId, held, free] = [id(), id(), id()];
        a.insertTune(tuneId, "tagged", at(1));
        a.exec(
          `INSERT INTO tag (id, user_id, tune_id, label) VALUES ('${held}', '${me}', '${tuneId}', 'held');
           INSERT INTO tag (id, user_id, tune_id, label) VALUES ('${free}', '${me}', '${tuneId}', 'free')`,
        );
        await a.client.syncOnce();
        // A table of the team's own, outside schema.toml, keeps the tag it refers to.
        const tagId = kind === "postgres" ? "uuid" : "text";
        server.admin(
          `CREATE TABLE tag_hold (tag_id ${tagId} NOT NULL REFERENCES tag (id) ON DELETE RESTRICT);
           INSERT INTO tag_hold VALUES ('${held}')`,
        );
        a.exec(`DELETE FROM tag WHERE id IN ('${held}', '${free}')`);
        const report = await a.client.syncOnce();
        assert.equal(report.applied.quarantined, 1);
        assert.equal(a.outboxLen(), 0, "the refused delete left the outbox");
        const [entry] = a.client.quarantine();
        assert.ok(entry);
        assert.equal(entry.op, "delete");
        assert.equal(entry.reason, "constraint");
        assert.equal(entry.kind, "foreign_key");
        assert.deepEqual(entry.key, { id: held });
        const labels = a.client.rows("tag").map((t) => t["label"]);
        assert.deepEqual(labels, ["held"], "the held tag came back from the server, the free one is gone");
        await server.settle();
        assert.equal((await a.client.syncOnce()).pushed, 0, "a quiet sync");
      } finally {
        a.dispose();
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
