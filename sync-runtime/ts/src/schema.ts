// The sync metadata the client is driven by: the shape of `syncSchema` in the generated package's
// `sync-meta` module. The client never imports the generated package; TypeScript checks the
// generated constant against these types where the app passes it in.

/** A column's logical type (docs/types.md). */
export type LogicalType =
  | "text"
  | "uuid"
  | "integer"
  | "bigint"
  | "real"
  | "boolean"
  | "timestamp"
  | "date"
  | "json";

/** One column of a synced table. */
export interface SyncColumn {
  readonly name: string;
  readonly type: LogicalType;
  readonly nullable: boolean;
  /** Whether the database fills the column when an insert leaves it out. */
  readonly hasDefault: boolean;
  /** How the device stores it: booleans 0/1, JSON as text, timestamps per `timestampStorage`. */
  readonly sqlite: "text" | "integer" | "real" | "blob";
}

/** One table synced to devices. */
export interface SyncTable {
  readonly name: string;
  readonly scope: "owner" | "owner_or_public" | "public" | "via";
  readonly via: { readonly column: string; readonly parent: string } | null;
  /** False for public catalogs: the client never pushes them. */
  readonly writable: boolean;
  readonly deletes: "soft" | "hard" | "none";
  readonly primaryKey: readonly string[];
  readonly owner: string | null;
  /** The conflict clock column. */
  readonly modified: string | null;
  /** The soft-delete column. */
  readonly deleted: string | null;
  readonly version: string | null;
  readonly device: string | null;
  readonly columns: readonly SyncColumn[];
}

/** The schema a device syncs: its tables in foreign key order, parents first. */
export interface SyncSchema {
  readonly name: string;
  readonly version: number;
  readonly minClientVersion: number;
  readonly timestampStorage: "text" | "integer";
  readonly tables: readonly SyncTable[];
}

/** A SQL script that brings a device's database from the version before to `version`
 * (`generated/migrations/<version>_*.sqlite.sql`); it sets `PRAGMA user_version` itself. */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}
