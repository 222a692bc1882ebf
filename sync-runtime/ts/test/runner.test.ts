// The background loop against a real server, on both stores: a poke makes another device sync
// within the debounce and a second, the status follows, a 401 asks for a fresh token once,
// failures back off until the server is back, and a 429 or 503 with Retry-After is retried no
// sooner than it asks.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SyncStatus } from "@schema-sync/client";
import { Device, at, id, user } from "./support/device.js";
import { FaultProxy } from "./support/proxy.js";
import { STORES, startServer, token } from "./support/server.js";

/** Wait until `check` holds, polling; fail after `ms`. */
async function until(ms: number, what: string, check: () => boolean): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

for (const kind of STORES) {
  describe(`the background loop over ${kind}`, () => {
    test("a poke makes the other device sync within the debounce and a second", async () => {
      const server = await startServer(kind);
      const me = user();
      const [a, b] = [new Device(server, me), new Device(server, me)];
      const debounceMs = 300;
      try {
        a.client.start({ debounceMs });
        b.client.start({ debounceMs });
        const statuses: SyncStatus[] = [];
        b.client.onStatus((s) => statuses.push(s));
        await until(10_000, "both devices listen to pokes", () => Boolean(a.client.status?.listening && b.client.status?.listening));
        await until(10_000, "both devices made their first sync", () => (a.client.status?.syncs ?? 0) > 0 && (b.client.status?.syncs ?? 0) > 0);
        const tuneId = id();
        a.insertTune(tuneId, "poked", at(1));
        a.client.signal();
        assert.equal(a.client.status?.pending, 2, "the status counts the pending writes");
        await until(10_000, "A pushed", () => a.outboxLen() === 0);
        await server.settle();
        const waited = await until(debounceMs + 1000, "B pulled after the poke", () => b.tune(tuneId) !== undefined);
        assert.ok(waited <= debounceMs + 1000);
        assert.ok(statuses.some((s) => s.syncing), "B's status said it was syncing");
        await until(2000, "A's status settled", () => a.client.status?.pending === 0 && !a.client.status.syncing);
      } finally {
        await a.client.stop();
        await b.client.stop();
        assert.equal(a.client.status?.stopped, true);
        a.dispose();
        b.dispose();
        await server.stop();
      }
    });

    test("after a 429 or 503 with Retry-After the loop waits at least as long", async () => {
      const server = await startServer(kind);
      const proxy = await FaultProxy.start(server.url);
      const device = new Device({ url: proxy.url }, user());
      try {
        proxy.refuseNext(429, "rate_limited", 2);
        device.client.start({ debounceMs: 10, backoffMinMs: 20, backoffMaxMs: 100, pokes: false });
        await until(10_000, "the first sync is refused", () => (device.client.status?.failures ?? 0) === 1);
        assert.equal(device.client.status?.lastError?.retryAfterMs, 2000);
        proxy.refuseNext(503, "overloaded", 1);
        await until(20_000, "a sync is served", () => (device.client.status?.syncs ?? 0) >= 1);
        const arrivals = proxy.syncArrivals;
        assert.ok(arrivals.length >= 3, `three syncs arrived: ${arrivals.join(", ")}`);
        const [first, second, third] = arrivals as [number, number, number];
        assert.ok(second - first >= 2000, `retried ${second - first} ms after Retry-After: 2`);
        assert.ok(third - second >= 1000, `retried ${third - second} ms after Retry-After: 1`);
      } finally {
        await device.client.stop();
        device.dispose();
        await proxy.close();
        await server.stop();
      }
    });

    test("a refused token is asked for anew once", async () => {
      const server = await startServer(kind);
      const me = user();
      const asked: boolean[] = [];
      const device = new Device(server, me, {
        token: (refresh) => {
          asked.push(refresh);
          return refresh ? token(me) : "expired-or-garbage";
        },
      });
      try {
        device.insertTune(id(), "with a fresh token", at(1));
        await device.client.syncOnce();
        assert.deepEqual(asked, [false, true]);
        assert.equal(device.outboxLen(), 0);
      } finally {
        device.dispose();
        await server.stop();
      }
    });
  });
}

describe("the background loop without a server", () => {
  test("backs off after failures and reports the last error", async () => {
    const device = new Device({ url: "http://127.0.0.1:9" }, user(), { requestTimeoutMs: 1000 });
    try {
      device.client.start({ backoffMinMs: 50, backoffMaxMs: 200, pokes: false });
      await until(5000, "several failures in a row", () => (device.client.status?.failures ?? 0) >= 3);
      assert.equal(device.client.status?.lastError?.kind, "http");
    } finally {
      await device.client.stop();
      device.dispose();
    }
  });
});
