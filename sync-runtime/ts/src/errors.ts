// Why a sync failed. Nothing local is lost by a failed sync: the outbox keeps every entry the
// server did not acknowledge, and the cursor moves only with applied pages.

import type { SyncErrorBody } from "./protocol.js";

/** What kind of failure: `http` (the server could not be reached or the request timed out),
 * `refused` (the server answered with an error), `upgrade_required` (the server no longer syncs
 * this schema version: update the app; retrying does not help), `protocol` (an answer this
 * client cannot read), `database` (the local database). */
export type SyncErrorKind = "http" | "refused" | "upgrade_required" | "protocol" | "database";

export class SyncClientError extends Error {
  readonly kind: SyncErrorKind;
  /** The HTTP status of a refusal. */
  readonly status: number | undefined;
  /** The server's error body of a refusal. */
  readonly error: SyncErrorBody | undefined;
  /** How long the server asked to wait before the next request (`Retry-After` on 429/503). */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: SyncErrorKind,
    message: string,
    details: { status?: number; error?: SyncErrorBody; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "SyncClientError";
    this.kind = kind;
    this.status = details.status;
    this.error = details.error;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The server no longer syncs this schema version (HTTP 426): the app must be updated. */
export class UpgradeRequiredError extends SyncClientError {
  constructor(message: string, error: SyncErrorBody | undefined) {
    super("upgrade_required", `the sync server needs a newer app: ${message}`, {
      status: 426,
      ...(error ? { error } : {}),
    });
    this.name = "UpgradeRequiredError";
  }
}
