// @schema-sync/client: the schema-agnostic TypeScript sync client (docs/typescript-client.md).
// The SQLite adapters are separate entry points: `@schema-sync/client/better-sqlite3` and
// `@schema-sync/client/sqlite-wasm`.

export type { SqlRow, SqlValue, SqliteAdapter } from "./adapter.js";
export type { Applied } from "./apply.js";
export { type ClientOptions, SyncClient, type SyncReport } from "./client.js";
export { SyncClientError, type SyncErrorKind, UpgradeRequiredError } from "./errors.js";
export type { TokenProvider } from "./http.js";
export type * from "./protocol.js";
export type { QuarantinedChange } from "./quarantine.js";
export type { RunOptions, SyncStatus } from "./runner.js";
export type { LogicalType, Migration, SyncColumn, SyncSchema, SyncTable } from "./schema.js";
export type { WireRow, WireValue } from "./values.js";
