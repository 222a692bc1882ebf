// Uses the generated package the way an app does, so a type that is too loose or too strict
// fails `tsc`. Each `@ts-expect-error` line must stay an error: if the generated types stopped
// rejecting it, tsc would report the directive as unused.
import {
  COL,
  DELETABLE_TABLES,
  SCHEMA_VERSION,
  TBL,
  VALUES,
  type PulledChange,
  type SyncRequest,
  type SyncResponse,
  type Tune,
  type TuneRow,
  type TuneType,
  tuneFromRow,
  tuneToRow,
} from "@tunes/schema";
import { tune as pgTune } from "@tunes/schema/drizzle/pg";
import { practiceRecord, tune } from "@tunes/schema/drizzle/sqlite";
import { type TuneStored, storedConverters, tuneFromStored, tuneToStored } from "@tunes/schema/rows";
import { sqliteMigrations, sqliteSchemaSql, syncSchema } from "@tunes/schema/sync-meta";
import type { SyncError, UpsertChange } from "@tunes/schema/sync-types";

const row: TuneRow = {
  id: "6f1c1c4e-3c3a-4a51-9d0e-0b6a8b6d7a10",
  user_id: null,
  genre_id: "irish",
  title: "The Silver Spear",
  type: "reel",
  structure: "AABB",
  incipit: null,
  composed_on: null,
  deleted: false,
  sync_version: 1,
  device_id: null,
  last_modified_at: "2026-11-24T10:00:00.000Z",
};

// A converter round trip gives back an equal row, field for field.
const client: Tune = tuneFromRow(row);
const back: TuneRow = tuneToRow(client);
const title: string = client.title;
const modified: string = back.last_modified_at;

// The SQLite row is its own type: booleans are numbers there, and it is not a wire row.
const stored: TuneStored = tuneToStored(row);
const storedDeleted: number = stored.deleted;
// @ts-expect-error A stored row is not a wire row: `deleted` is 0/1 in SQLite.
const storedAsWire: TuneRow = stored;
const fromStored: TuneRow = tuneFromStored(stored);
const byName: TuneStored = storedConverters.tune.toStored(fromStored);

// The sync metadata is literal data, the DDL a string, the migrations scripts by version.
const timestamps: "text" | "integer" = syncSchema.timestampStorage;
const firstTable: "user_profile" = syncSchema.tables[0].name;
const ddl: string = sqliteSchemaSql;
const scripts: readonly { readonly version: number; readonly sql: string }[] = sqliteMigrations;

// Enum columns are unions built from the constants.
const kinds: readonly TuneType[] = VALUES.tune.TYPE;
// @ts-expect-error "march" is not a tune type.
const notAKind: TuneType = "march";

// Constants are literal types.
const tableName: "tune" = TBL.TUNE;
const userIdColumn: "user_id" = COL.tune.USER_ID;

// @ts-expect-error a TuneRow uses snake_case names, not the client's camelCase.
const camelRow: TuneRow = { ...row, userId: null };

const request: SyncRequest = {
  schema_version: SCHEMA_VERSION,
  client_id: "0b0f9d58-4f5e-4c57-a1f2-3c1e8f0d6b21",
  cursor: null,
  changes: [
    { table: "tune", op: "upsert", row },
    { table: "tune", op: "delete", key: { id: row.id }, modified_at: "2026-11-24T10:00:01.000Z" },
    {
      table: "repertoire_tune",
      op: "delete",
      key: { repertoire_id: row.id, tune_id: row.id },
      modified_at: "2026-11-24T10:00:02.000Z",
    },
  ],
};

// @ts-expect-error the table discriminant ties the row to its table: a tune row is no note.
const wrongRow: UpsertChange = { table: "note", op: "upsert", row };
// @ts-expect-error `genre` is a public catalog: clients never push to it.
const catalogWrite: UpsertChange = { table: "genre", op: "upsert", row };
// @ts-expect-error `genre` is a public catalog: clients never delete its rows.
const genreDelete: SyncRequest["changes"][number] = { table: "genre", op: "delete", key: { id: "irish" }, modified_at: "x" };
// `tag` has no soft-delete column but says `deletes = "hard"`: clients delete tags for good.
const tagDelete: SyncRequest["changes"][number] = { table: "tag", op: "delete", key: { id: row.id }, modified_at: "x" };
// @ts-expect-error a key has the table's primary key columns.
const badKey: SyncRequest["changes"][number] = { table: "tune", op: "delete", key: { tune_id: row.id }, modified_at: "x" };

// Narrowing on the table name gives the table's row type.
function titles(response: SyncResponse): string[] {
  return response.changes.flatMap((change: PulledChange) =>
    change.table === "tune" && "row" in change ? [change.row.title] : [],
  );
}

// An error's code is one of the codes the server sends, so a comparison with a typo fails.
function retryLater(error: SyncError): boolean {
  return error.code === "busy" || error.code === "database_unavailable";
}
// @ts-expect-error the server sends no such code.
const unknownCode: SyncError["code"] = "no_such_code";

// Drizzle's inferred row of the generated tables is the client shape.
const selected: Tune = {} as typeof tune.$inferSelect;
const selectedPg: Tune = {} as typeof pgTune.$inferSelect;
const practiced: string = ({} as typeof practiceRecord.$inferSelect).practiced;
// @ts-expect-error `title` is NOT NULL, so it must be given on insert.
const missingTitle: typeof tune.$inferInsert = { id: row.id };

export const used = [
  title, modified, kinds, notAKind, tableName, userIdColumn, camelRow, request, wrongRow,
  catalogWrite, genreDelete, tagDelete, badKey, titles, retryLater, unknownCode, selected, selectedPg,
  practiced, missingTitle, DELETABLE_TABLES, storedDeleted, storedAsWire, byName, timestamps,
  firstTable, ddl, scripts,
];
