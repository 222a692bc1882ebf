// Pulled rows stored many to a statement (docs/typescript-client.md): consecutive rows of one
// table that no pending local write concerns are gathered and stored by one `INSERT ... SELECT
// FROM json_each(?)`, one bound value for up to `BATCH_ROWS` rows. On sqlite-wasm each statement
// run and each bound value crosses from JavaScript into WebAssembly, which cost more than SQLite's
// own work on the row; one crossing per batch made a browser's initial sync several times faster.
// When the statement fails (a unique key a local row holds, say), SQLite has undone it alone and
// the batch's rows are stored one by one, each with its own handling. Rows of a table with a REAL
// column are always stored one by one (`TablePlan.batchable`).

import type { SqliteAdapter } from "./adapter.js";
import type { TablePlan } from "./tables.js";
import type { WireRow } from "./values.js";

/** The most rows one statement stores. */
export const BATCH_ROWS = 1000;

export class UpsertBatch {
  private plan: TablePlan | undefined;
  private rows: WireRow[] = [];

  /** `storeOne` stores a row alone, with the handling of a failure the batch does not have. */
  constructor(
    private readonly db: SqliteAdapter,
    private readonly storeOne: (plan: TablePlan, row: WireRow) => void,
  ) {}

  /** Store `row` of `plan`'s table now or with the next rows. */
  add(plan: TablePlan, row: WireRow): void {
    if (!plan.batchable) {
      this.flush();
      this.storeOne(plan, row);
      return;
    }
    if (plan !== this.plan || this.rows.length >= BATCH_ROWS) this.flush();
    this.plan = plan;
    this.rows.push(row);
  }

  /** Store the gathered rows; to be called before any other write, so writes keep their order. */
  flush(): void {
    const { plan, rows } = this;
    this.rows = [];
    if (!plan || rows.length === 0) return;
    if (rows.length > 1) {
      try {
        plan.upsertMany(this.db, rows);
        return;
      } catch {
        // One of the rows needs handling of its own: store each alone below.
      }
    }
    for (const row of rows) this.storeOne(plan, row);
  }
}
