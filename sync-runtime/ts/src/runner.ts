// The background loop of a client: a sync at start, then one per burst of signals after a
// debounce, retried with exponential backoff and jitter after a failure (never sooner than the
// server's Retry-After), until stopped; and next to it a listener that turns the server's pokes
// (`GET /api/events`, read with `fetch` streaming since EventSource cannot send Authorization)
// into signals, reconnecting with the same backoff. As the Rust client's runner.rs.

import { SyncClientError, UpgradeRequiredError } from "./errors.js";
import { type Transport, refusal } from "./http.js";
import { SseParser } from "./sse.js";

export interface RunOptions {
  /** How long after a signal the sync starts; the signals of that window make one sync. */
  debounceMs?: number;
  /** The wait after a first failure; it doubles with each failure in a row. */
  backoffMinMs?: number;
  /** The longest wait between retries. */
  backoffMaxMs?: number;
  /** Whether to listen to the server's pokes. */
  pokes?: boolean;
}

/** What the loop has done, for an app's status line. */
export interface SyncStatus {
  /** A sync is running. */
  syncing: boolean;
  /** Syncs completed. */
  syncs: number;
  /** Failures in a row; 0 after a success. */
  failures: number;
  /** The last failure of a sync, or the poke stream's last refusal (a token the server still
   * refuses after a fresh one was asked for); cleared by a successful sync. */
  lastError: SyncClientError | undefined;
  /** When the last sync completed (epoch ms). */
  lastSyncAt: number | undefined;
  /** Local writes not yet acknowledged by the server. */
  pending: number;
  /** Refused changes waiting for the app (`quarantine()`). */
  quarantined: number;
  /** Times the server answered `resync_required` and the client pulled everything again, over
   * every sync of the loop. */
  resyncs: number;
  /** The poke stream is open. */
  listening: boolean;
  /** The loop stopped for good: `stop()`, or a server that needs a newer app. */
  stopped: boolean;
}

/** What the runner needs of its client. */
export interface RunTarget {
  readonly clientId: string;
  readonly transport: Transport;
  syncOnce(): Promise<{ resyncs: number }>;
  counts(): { pending: number; quarantined: number };
}

export class Runner {
  private readonly options: Required<RunOptions>;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private signalled = false;
  private readonly tasks: Promise<void>[] = [];
  private readonly listeners = new Set<(status: SyncStatus) => void>();
  status: SyncStatus;

  constructor(
    private readonly target: RunTarget,
    options: RunOptions,
  ) {
    this.options = {
      debounceMs: options.debounceMs ?? 2000,
      backoffMinMs: options.backoffMinMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 60_000,
      pokes: options.pokes ?? true,
    };
    this.status = {
      syncing: false,
      syncs: 0,
      failures: 0,
      lastError: undefined,
      lastSyncAt: undefined,
      resyncs: 0,
      listening: false,
      stopped: false,
      ...target.counts(),
    };
    this.tasks.push(this.run());
    if (this.options.pokes) this.tasks.push(this.listen());
  }

  /** Ask for a sync: bursts of signals within the debounce make one. */
  signal(): void {
    this.signalled = true;
    this.wake?.();
  }

  onStatus(listener: (status: SyncStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publish the outbox and quarantine counts (after a local write, say). */
  refresh(): void {
    this.update(this.target.counts());
  }

  /** Stop the loop and wait for it: a sync in progress finishes first. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await Promise.all(this.tasks);
    this.update({ stopped: true, listening: false });
  }

  private update(change: Partial<SyncStatus>): void {
    this.status = { ...this.status, ...change };
    for (const listener of this.listeners) listener(this.status);
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let due = true;
    while (!this.stopped) {
      if (!due) {
        if (!this.signalled) await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        if (this.stopped || !(await this.pause(this.options.debounceMs))) return;
      }
      due = false;
      this.signalled = false;
      this.update({ syncing: true });
      try {
        const { resyncs } = await this.target.syncOnce();
        this.update({
          syncing: false,
          syncs: this.status.syncs + 1,
          failures: 0,
          lastError: undefined,
          lastSyncAt: Date.now(),
          resyncs: this.status.resyncs + resyncs,
          ...this.target.counts(),
        });
      } catch (e) {
        const error = e instanceof SyncClientError ? e : new SyncClientError("database", String(e), { cause: e });
        const failures = this.status.failures + 1;
        this.update({ syncing: false, failures, lastError: error, ...this.target.counts() });
        if (error instanceof UpgradeRequiredError) {
          // Retrying does not help: the app must be updated. The poke listener stops too.
          this.abort.abort();
          this.update({ stopped: true, listening: false });
          return;
        }
        const wait = Math.max(this.backoff(failures), error.retryAfterMs ?? 0);
        if (!(await this.pause(wait))) return;
        due = true;
      }
    }
  }

  /** Connect to the event stream, signal a sync for every poke another device caused, connect
   * again after a backoff when the stream ends; a reconnected stream may have missed pokes, so
   * it signals a sync too. A 401 asks the token provider for a fresh token once, as a sync does;
   * a refusal is reported as the status's `lastError` and retried after the backoff. */
  private async listen(): Promise<void> {
    const { clientId } = this.target;
    let failures = 0;
    let reconnect = false;
    // A refusal's Retry-After (429, 503): the next attempt waits at least that long.
    let atLeastMs = 0;
    while (!this.stopped) {
      try {
        let response = await this.connect(false);
        if (response.status === 401) {
          await response.body?.cancel();
          response = await this.connect(true);
        }
        if (!response.ok) {
          const error = refusal(response, await response.text());
          atLeastMs = error.retryAfterMs ?? 0;
          this.update({ lastError: error });
          throw error;
        }
        if (!response.body) throw new Error("GET /api/events answered without a body");
        failures = 0;
        this.update({ listening: true });
        if (reconnect) this.signal();
        reconnect = true;
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const event of parser.feed(value)) {
            if (event.name === "poke" && pokeConcerns(event.data, clientId)) this.signal();
          }
        }
      } catch {
        if (this.stopped) break;
        failures += 1;
        // Pokes may be missed until the stream is open again.
        reconnect = true;
      }
      this.update({ listening: false });
      const wait = Math.max(this.backoff(Math.max(failures, 1)), atLeastMs);
      atLeastMs = 0;
      if (!(await this.pause(wait))) return;
    }
  }

  /** Open the event stream with the token provider's token (a fresh one when `refresh`). */
  private async connect(refresh: boolean): Promise<Response> {
    const { transport } = this.target;
    return transport.fetch(`${transport.server}/api/events`, {
      headers: { authorization: `Bearer ${await transport.token(refresh)}`, accept: "text/event-stream" },
      signal: this.abort.signal,
    });
  }

  /** Wait `ms`; false when the loop was stopped meanwhile. */
  private pause(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener("abort", done);
        resolve(!this.stopped);
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener("abort", done);
    });
  }

  /** The wait after `failures` failures in a row: doubling from the minimum up to the maximum,
   * then a random point in its upper half, so devices that failed together do not retry
   * together. */
  private backoff(failures: number): number {
    const doubled = this.options.backoffMinMs * 2 ** Math.min(failures - 1, 20);
    return Math.min(doubled, this.options.backoffMaxMs) * (0.5 + Math.random() * 0.5);
  }
}

/** Whether a poke's data (`{"client_id": <uuid or null>}`) concerns device `me`: a poke caused
 * by its own push brings nothing new. */
function pokeConcerns(data: string, me: string): boolean {
  try {
    return (JSON.parse(data) as { client_id?: string | null }).client_id !== me;
  } catch {
    return true;
  }
}
