// A small cache of prepared statements by SQL text, shared by the adapters: sync runs the same
// few statements for every row it reads or writes.

export class StatementCache<S> {
  private readonly cache = new Map<string, S>();

  constructor(
    private readonly prepare: (sql: string) => S,
    private readonly capacity = 256,
  ) {}

  get(sql: string): S {
    let statement = this.cache.get(sql);
    if (statement === undefined) {
      if (this.cache.size >= this.capacity) this.clear();
      statement = this.prepare(sql);
      this.cache.set(sql, statement);
    }
    return statement;
  }

  /** Forget every statement (after a schema change, say), calling `finalize` on each. */
  clear(finalize?: (statement: S) => void): void {
    if (finalize) for (const statement of this.cache.values()) finalize(statement);
    this.cache.clear();
  }
}
