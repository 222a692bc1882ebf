// The wire messages of `POST /api/sync` (docs/sync.md), schema-agnostic: the generated
// `sync-types` module has the same shapes typed per table.

import type { WireRow } from "./values.js";

export interface UpsertChange {
  table: string;
  op: "upsert";
  row: WireRow;
}

export interface DeleteChange {
  table: string;
  op: "delete";
  key: WireRow;
  modified_at: string;
}

export type PushChange = UpsertChange | DeleteChange;

export interface SyncRequest {
  schema_version: number;
  client_id: string;
  cursor: string | null;
  page_size?: number;
  changes: PushChange[];
}

export interface PulledRow {
  table: string;
  row: WireRow;
}

export interface PulledDelete {
  table: string;
  key: WireRow;
  deleted: true;
}

export type PulledChange = PulledRow | PulledDelete;

export type RejectReason = "stale" | "clock_skew" | "constraint" | "too_large" | "forbidden";

export interface Rejected {
  table: string;
  key: WireRow;
  reason: RejectReason;
  message: string;
  constraint?: string;
  kind?: "unique" | "foreign_key" | "check" | "not_null";
  column?: string;
  server_row: WireRow | null;
}

export interface SyncResponse {
  changes: PulledChange[];
  cursor: string;
  has_more: boolean;
  server_time: string;
  rejected: Rejected[];
}

export interface SyncErrorBody {
  code: string;
  message: string;
  table?: string;
  key?: Record<string, unknown>;
  column?: string;
}
