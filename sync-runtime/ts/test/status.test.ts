// The background loop's status and its end, against a real server: a 401 on the poke stream asks
// for a fresh token once and, when the server still refuses, is reported as the last error and
// retried only after the backoff; the quarantined count rises with a refused change and falls
// when the app discards it; `stop()` lets a sync in flight finish (its answer applied) and no
// sync starts after it. The client's logic here does not depend on the store: SQLite only.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SyncStatus } from "@schema-sync/client";
import { Device, at, id, syncAll, user } from "./support/device.js";
import { FaultProxy } from "./support/proxy.js";
import { startServer, token } from "./support/server.js";

/** Wait until `check` holds, polling; fail after `ms`. */
async function until(ms: number, what: string, check: () => boolean): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fetch that notes the bearer token of each `GET /api/events`, and sends `eventsToken`
 * there in place of the client's when given (a token the server refuses for the stream). */
function eventsSpy(eventsToken?: string): { fetch: typeof fetch; tokens: string[] } {
  const tokens: string[] = [];
  const spy: typeof fetch = (input, init) => {
    if (String(input).endsWith("/api/events")) {
      const headers = new Headers(init?.headers);
      if (eventsToken !== undefined) headers.set("authorization", `Bearer ${eventsToken}`);
      tokens.push(headers.get("authorization")?.replace(/^Bearer /, "") ?? "");
      return fetch(input, { ...init, headers });
    }
    return fetch(input, init);
  };
  return { fetch: spy, tokens };
}

describe("the background loop's status and stop", () => {
  test("a 401 on the poke stream asks for a fresh token once, then reports the refusal without a tight loop", async () => {
    const server = await startServer("sqlite");
    const me = user();
    const fresh = eventsSpy();
    // The cached token has expired; a fresh one is good.
    const expiring = new Device(server, me, { fetch: fresh.fetch, token: (refresh) => (refresh ? token(me) : "expired") });
    const revoked = eventsSpy("revoked");
    const refused = new Device(server, me, { fetch: revoked.fetch });
    try {
      // Long backoffs: only the immediate retry with a fresh token can open the stream in time.
      expiring.client.start({ backoffMinMs: 5000, backoffMaxMs: 5000 });
      await until(2000, "the stream is open with a fresh token", () => expiring.client.status?.listening === true);
      assert.deepEqual(fresh.tokens, ["expired", token(me)]);

      refused.client.start({ backoffMinMs: 200, backoffMaxMs: 400 });
      await until(5000, "the stream's refusal is the last error", () => refused.client.status?.lastError?.status === 401);
      assert.equal(refused.client.status?.listening, false);
      assert.equal(refused.client.status?.failures, 0, "the syncs themselves succeed");
      const before = revoked.tokens.length;
      await sleep(1000);
      const attempts = revoked.tokens.length - before;
      // Each attempt is two requests (the second with a fresh token) at least 100 ms apart.
      assert.ok(attempts >= 2 && attempts <= 22, `${attempts} requests in a second`);
    } finally {
      await expiring.client.stop();
      await refused.client.stop();
      expiring.dispose();
      refused.dispose();
      await server.stop();
    }
  });

  test("the quarantined count rises with a refused change and falls when it is discarded", async () => {
    const server = await startServer("sqlite");
    const me = user();
    const [a, b] = [new Device(server, me), new Device(server, me)];
    try {
      const tuneId = id();
      a.insertTune(tuneId, "tagged", at(1));
      await syncAll(server, [a, b]);
      const tag = (tagId: string) => `INSERT INTO tag (id, user_id, tune_id, label) VALUES ('${tagId}', '${me}', '${tuneId}', 'session')`;
      a.exec(tag(id()));
      await a.client.syncOnce();
      await server.settle();
      b.exec(tag(id()));
      b.client.start({ debounceMs: 20, pokes: false });
      const counts: number[] = [b.client.status?.quarantined ?? -1];
      b.client.onStatus((s) => {
        if (counts.at(-1) !== s.quarantined) counts.push(s.quarantined);
      });
      await until(5000, "the refused tag is quarantined", () => b.client.status?.quarantined === 1);
      assert.equal(b.client.status?.pending, 0);
      const [entry] = b.client.quarantine();
      assert.ok(entry);
      b.client.discardQuarantined(entry.id);
      assert.equal(b.client.status?.quarantined, 0, "the discard is published at once");
      assert.deepEqual(counts, [0, 1, 0]);
    } finally {
      await b.client.stop();
      a.dispose();
      b.dispose();
      await server.stop();
    }
  });

  test("stop() lets the sync in flight finish, and no sync starts after it", async () => {
    const server = await startServer("sqlite");
    const proxy = await FaultProxy.start(server.url);
    const me = user();
    const other = new Device(server, me);
    const device = new Device({ url: proxy.url }, me);
    try {
      const [theirs, mine, later, afterStop] = [id(), id(), id(), id()];
      other.insertTune(theirs, "pulled by the held sync", at(1));
      await other.client.syncOnce();
      await server.settle();
      device.insertTune(mine, "pushed by the held sync", at(2));
      const held = proxy.holdNext();
      device.client.start({ debounceMs: 50 });
      await held.arrived;
      let stopped = false;
      const stopping = device.client.stop().then(() => (stopped = true));
      await sleep(300);
      assert.equal(stopped, false, "stop() waits for the answer");
      assert.equal(device.outboxLen(), 2, "nothing is applied before the answer");
      held.release();
      await stopping;
      assert.equal(device.outboxLen(), 0, "the answer acknowledged the push");
      assert.equal(device.tune(theirs)?.["title"], "pulled by the held sync");
      assert.notEqual(device.client.cursor(), null, "the cursor came with the rows");
      const status = device.client.status as SyncStatus;
      assert.deepEqual([status.syncs, status.syncing, status.stopped, status.listening], [1, false, true, false]);

      // Neither a poke nor a signal makes a sync now.
      const arrivals = proxy.syncArrivals.length;
      other.insertTune(later, "pushed after the stop", at(3));
      await other.client.syncOnce();
      device.insertTune(afterStop, "written after the stop", at(4));
      device.client.signal();
      await sleep(500);
      assert.equal(proxy.syncArrivals.length, arrivals, "no sync after stop()");
      assert.equal(device.tune(later), undefined);
      assert.equal(device.outboxLen(), 1);
    } finally {
      await device.client.stop();
      device.dispose();
      other.dispose();
      await proxy.close();
      await server.stop();
    }
  });
});
