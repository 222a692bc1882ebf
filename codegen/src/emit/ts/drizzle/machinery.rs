//! The server's sync machinery in the Postgres Drizzle schema: the cursor column and index of
//! every synced table and the two tables of the machinery, exactly as `postgres.sql` makes them
//! (`crate::emit::sql::sync`), so that `drizzle-kit push` against the server's database plans no
//! statement. The triggers and functions are not Drizzle's to know: drizzle-kit ignores them.

pub(super) use crate::emit::sql::sync::{CURSOR, PRUNED, TOMBSTONE, sync_index};

/// The cursor's field in a table constant: `_` keeps it apart from every schema column's field.
pub(super) const CURSOR_FIELD: &str = "_syncXid";

/// The `customType` of Postgres's `xid8`, which Drizzle has no builder for.
pub(super) const XID8: &str = r#"/** Postgres's `xid8`, the sync cursor's type (a transaction id), read as text. */
const xid8 = customType({ dataType: () => "xid8" });
"#;

/// The declared builder type of an `xid8` column named `$`.
const XID8_TYPE: &str = "PgCustomColumnBuilder<ConvertCustomConfig<$, { data: string }>>";

/// The cursor column's builder, as `postgres.sql` declares it.
pub(super) fn cursor_column() -> String {
    format!("xid8({}).notNull().default(sql`pg_current_xact_id()`)", super::string_lit(CURSOR))
}

/// The cursor column's declared type.
pub(super) fn cursor_type() -> String {
    format!("HasDefault<NotNull<{}>>", XID8_TYPE.replace('$', &super::string_lit(CURSOR)))
}

/// The machinery's own tables, in JavaScript: the names they use from `drizzle-orm/pg-core`,
/// and the text.
pub(super) fn tables_js() -> ([&'static str; 8], String) {
    let core = ["bigint", "boolean", "check", "index", "jsonb", "pgTable", "text", "timestamp"];
    let js = format!(
        r#"
/** The sync machinery's record of deleted rows (docs/sync.md): the server writes it. */
export const _syncTombstone = pgTable(
  "{TOMBSTONE}",
  {{
    {CURSOR_FIELD}: {cursor},
    tableName: text("table_name").notNull(),
    key: jsonb("key").notNull(),
    owner: text("owner"),
    keptBy: text("kept_by"),
    deletedAt: timestamp("deleted_at", {{ withTimezone: true, mode: "string" }}).notNull().defaultNow(),
  }},
  (t) => [
    index("{TOMBSTONE}_idx").on(t.{CURSOR_FIELD}, t.tableName, t.key),
    index("{TOMBSTONE}_age_idx").on(t.deletedAt),
  ],
);

/** How far the server pruned tombstones (docs/server.md): one row. */
export const _syncPruned = pgTable(
  "{PRUNED}",
  {{
    id: boolean("id").primaryKey().default(true),
    through: xid8("through"),
    prunes: bigint("prunes", {{ mode: "number" }}).notNull().default(0),
  }},
  (t) => [
    check("{PRUNED}_id_check", sql`${{t.id}}`),
  ],
);
"#,
        cursor = cursor_column(),
    );
    (core, js)
}

/// The declarations of the machinery's tables.
pub(super) fn tables_dts() -> String {
    let xid8 = |name: &str| XID8_TYPE.replace('$', &format!("\"{name}\""));
    format!(
        r#"
export declare const _syncTombstone: PgTableWithColumns<{{
  name: "{TOMBSTONE}";
  schema: undefined;
  columns: BuildColumns<"{TOMBSTONE}", {{
    {CURSOR_FIELD}: {cursor};
    tableName: NotNull<PgTextBuilderInitial<"table_name", [string, ...string[]]>>;
    key: NotNull<PgJsonbBuilderInitial<"key">>;
    owner: PgTextBuilderInitial<"owner", [string, ...string[]]>;
    keptBy: PgTextBuilderInitial<"kept_by", [string, ...string[]]>;
    deletedAt: HasDefault<NotNull<PgTimestampStringBuilderInitial<"deleted_at">>>;
  }}, "pg">;
  dialect: "pg";
}}>;

export declare const _syncPruned: PgTableWithColumns<{{
  name: "{PRUNED}";
  schema: undefined;
  columns: BuildColumns<"{PRUNED}", {{
    id: HasDefault<IsPrimaryKey<NotNull<PgBooleanBuilderInitial<"id">>>>;
    through: {through};
    prunes: HasDefault<NotNull<PgBigInt53BuilderInitial<"prunes">>>;
  }}, "pg">;
  dialect: "pg";
}}>;
"#,
        cursor = cursor_type(),
        through = xid8("through"),
    )
}
