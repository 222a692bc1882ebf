// Values between their wire form (docs/types.md: booleans, parsed JSON, RFC 3339 timestamps) and
// the form the generated SQLite DDL stores them in (0/1, JSON text, timestamp text or epoch
// milliseconds), per column: the same mapping as the Rust client's.

import type { SqlValue } from "./adapter.js";
import { SyncClientError } from "./errors.js";
import type { LogicalType } from "./schema.js";

/** A value of a row in wire form (JSON). */
export type WireValue = string | number | boolean | null | WireValue[] | { [key: string]: WireValue };

/** A row or key in wire form, by column name. */
export type WireRow = Record<string, WireValue>;

/** How one column is kept in SQLite. */
export type Storage = "text" | "integer" | "real" | "boolean" | "timestampText" | "timestampMillis" | "json";

/** The storage of a column of logical type `type` that the database declares as `declared`. */
export function storageOf(type: LogicalType, declared: string, where: string): Storage {
  switch (type) {
    case "text":
    case "uuid":
    case "date":
      return "text";
    case "integer":
    case "bigint":
      return "integer";
    case "real":
      return "real";
    case "boolean":
      return "boolean";
    case "json":
      return "json";
    case "timestamp":
      if (/^text$/i.test(declared)) return "timestampText";
      if (/^integer$/i.test(declared)) return "timestampMillis";
      throw new SyncClientError(
        "database",
        `${where}: a timestamp column is declared \`${declared}\`; the generated DDL declares TEXT or INTEGER`,
      );
  }
}

/** The wire form of a timestamp: RFC 3339 UTC with milliseconds. */
export function formatTimestamp(millis: number): string {
  return new Date(millis).toISOString();
}

/** Milliseconds since the epoch of a wire timestamp (any RFC 3339 offset), or NaN. */
export function parseTimestamp(text: string): number {
  return Date.parse(text);
}

/** The wire form of a stored value. */
export function toWire(storage: Storage, value: SqlValue, where: string): WireValue {
  if (value === null || value === undefined) return null;
  switch (storage) {
    case "text":
      if (typeof value === "string") return value;
      break;
    case "integer":
      if (typeof value === "number") return value;
      if (typeof value === "bigint") return Number(value);
      break;
    case "real":
      if (typeof value === "number") return value;
      break;
    case "boolean":
      if (value === 0 || value === 1) return value === 1;
      if (value === 0n || value === 1n) return value === 1n;
      break;
    case "timestampText":
      if (typeof value === "string") {
        const millis = parseTimestamp(value);
        if (!Number.isNaN(millis)) return formatTimestamp(millis);
      }
      break;
    case "timestampMillis":
      if (typeof value === "number" || typeof value === "bigint") return formatTimestamp(Number(value));
      break;
    case "json":
      if (typeof value === "string") {
        try {
          return JSON.parse(value) as WireValue;
        } catch (e) {
          throw new SyncClientError("database", `${where}: stored JSON is invalid: ${String(e)}`);
        }
      }
      break;
  }
  throw new SyncClientError("database", `${where}: stored value ${describe(value)} does not fit a ${storage} column`);
}

/** The stored form of a wire value; a missing value is NULL. */
export function toStored(storage: Storage, value: WireValue | undefined, where: string): SqlValue {
  if (value === null || value === undefined) return null;
  switch (storage) {
    case "text":
      if (typeof value === "string") return value;
      break;
    case "integer":
      if (typeof value === "number" && Number.isInteger(value)) return value;
      break;
    case "real":
      if (typeof value === "number") return value;
      break;
    case "boolean":
      if (typeof value === "boolean") return value ? 1 : 0;
      break;
    case "timestampText":
    case "timestampMillis":
      if (typeof value === "string") {
        const millis = parseTimestamp(value);
        if (!Number.isNaN(millis)) return storage === "timestampText" ? formatTimestamp(millis) : millis;
      }
      break;
    case "json":
      return JSON.stringify(value);
  }
  throw new SyncClientError("protocol", `${where}: ${JSON.stringify(value)} does not fit a ${storage} column`);
}

function describe(value: SqlValue): string {
  if (value instanceof Uint8Array) return `of ${value.length} bytes`;
  return typeof value === "string" ? `\`${value}\`` : String(value);
}
