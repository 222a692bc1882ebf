// `POST /api/sync` over `fetch`: the bearer token from the app's provider (a 401 asks it for a
// fresh one once before failing), a request timeout, and the server's refusals turned into
// SyncClientErrors (426 into UpgradeRequiredError, Retry-After of 429 and 503 kept).

import { SyncClientError, UpgradeRequiredError } from "./errors.js";
import type { SyncErrorBody, SyncRequest, SyncResponse } from "./protocol.js";

/** The bearer token of the next request; `refresh` is true after the server refused the last
 * one (401), when the provider should get a new token rather than return a cached one. */
export type TokenProvider = (refresh: boolean) => string | Promise<string>;

export interface Transport {
  server: string;
  token: TokenProvider;
  fetch: typeof fetch;
  requestTimeoutMs: number;
}

/** Send `request` and read the answer. */
export async function postSync(transport: Transport, request: SyncRequest): Promise<SyncResponse> {
  const url = `${transport.server}/api/sync`;
  const body = JSON.stringify(request);
  let response = await send(transport, url, body, false);
  if (response.status === 401) {
    await response.body?.cancel();
    response = await send(transport, url, body, true);
  }
  const text = await response.text().catch((cause: unknown) => {
    throw new SyncClientError("http", `cannot read the answer of ${url}: ${String(cause)}`, { cause });
  });
  if (response.ok) {
    try {
      return JSON.parse(text) as SyncResponse;
    } catch (cause) {
      throw new SyncClientError("protocol", `the sync response is not JSON: ${String(cause)}`, { cause });
    }
  }
  throw refusal(response, text);
}

async function send(transport: Transport, url: string, body: string, refresh: boolean): Promise<Response> {
  const token = await transport.token(refresh);
  try {
    return await transport.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
      signal: AbortSignal.timeout(transport.requestTimeoutMs),
    });
  } catch (cause) {
    throw new SyncClientError("http", `cannot reach the sync server at ${url}: ${String(cause)}`, { cause });
  }
}

/** The error of a non-2xx answer. */
export function refusal(response: Response, text: string): SyncClientError {
  let error: SyncErrorBody | undefined;
  try {
    error = (JSON.parse(text) as { error?: SyncErrorBody }).error;
  } catch {
    error = undefined;
  }
  const status = response.status;
  if (status === 426) return new UpgradeRequiredError(error?.message ?? text, error);
  const retryAfterMs = retryAfter(response.headers.get("retry-after"));
  const details = { status, ...(error ? { error } : {}), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (!error) {
    return new SyncClientError("protocol", `status ${status} with the body ${text.slice(0, 500)}`, details);
  }
  return new SyncClientError("refused", `the sync server refused the sync (${status} ${error.code}): ${error.message}`, details);
}

/** `Retry-After` in milliseconds: delay seconds or an HTTP date. */
export function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
