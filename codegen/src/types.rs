//! The type table: each logical type in every target, as data in one place (docs/types.md shows
//! it to users). The SQL, TypeScript and Rust emitters, the Markdown docs, the `SyncRow` derive
//! check, validation and the Postgres import all read it here, so no two of them can disagree;
//! a new logical type does not compile until it has an entry, and a test fails until the entry
//! names every target.

use sync_meta::schema::{LogicalType, PostgresType, Storage, StoredAs, TimestampStorage};

/// One logical type in every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeEntry {
    /// The SQLite column type.
    pub sqlite: SqliteType,
    /// What SQLite's affinity lets through and a CHECK refuses, if anything.
    pub sqlite_check: Option<TypeCheck>,
    /// The Postgres type when no override is written.
    pub postgres: PgType,
    /// The `postgres_type` overrides that keep every value of the type (for legacy databases).
    pub postgres_overrides: &'static [(PostgresType, PgType)],
    /// The `storage` override, if the type has one: another Postgres type holding the same values.
    pub stored_as: Option<StoredAlternative>,
    /// The TypeScript type of the values (without `| null`).
    pub typescript: &'static str,
    /// The Rust type of the values (without `Option`), as an absolute path.
    pub rust: &'static str,
    /// The `sync_meta::wire` module the Rust values go through, when serde's own form is not the
    /// wire form (`_opt` is appended for a nullable column).
    pub wire_helper: Option<&'static str>,
    /// What a `default` of this type looks like in `schema.toml`, for validation's messages.
    pub default_hint: &'static str,
    /// How a device's SQLite row holds a value, where that differs from the wire (JSON).
    pub sqlite_value: SqliteValue,
    /// The options of the Drizzle SQLite builder (`SqliteType::drizzle` names it), such as the
    /// `mode` that reads an integer back as a boolean.
    pub drizzle_sqlite_options: Option<&'static str>,
}

/// A SQLite column type: the canonical affinity names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteType {
    Text,
    Integer,
    Real,
    /// `TEXT` or `INTEGER`, as `[schema] timestamp_storage` says.
    Timestamp,
}

impl SqliteType {
    /// The affinity a column of this type has under `timestamps`: never `Timestamp`.
    fn resolve(self, timestamps: TimestampStorage) -> SqliteType {
        match (self, timestamps) {
            (SqliteType::Timestamp, TimestampStorage::Text) => SqliteType::Text,
            (SqliteType::Timestamp, TimestampStorage::Integer) => SqliteType::Integer,
            (other, _) => other,
        }
    }

    pub fn name(self, timestamps: TimestampStorage) -> &'static str {
        match self.resolve(timestamps) {
            SqliteType::Text | SqliteType::Timestamp => "TEXT",
            SqliteType::Integer => "INTEGER",
            SqliteType::Real => "REAL",
        }
    }

    /// The type `drizzle-orm` gives this type's builder without a mode, `$` standing for the
    /// column name's literal type.
    fn drizzle_declared(self, timestamps: TimestampStorage) -> &'static str {
        match self.resolve(timestamps) {
            SqliteType::Text | SqliteType::Timestamp => {
                "SQLiteTextBuilderInitial<$, [string, ...string[]], number | undefined>"
            }
            SqliteType::Integer => "SQLiteIntegerBuilderInitial<$>",
            SqliteType::Real => "SQLiteRealBuilderInitial<$>",
        }
    }

    /// The `drizzle-orm/sqlite-core` builder of a column of this type.
    pub fn drizzle(self, timestamps: TimestampStorage) -> &'static str {
        match self.resolve(timestamps) {
            SqliteType::Text | SqliteType::Timestamp => "text",
            SqliteType::Integer => "integer",
            SqliteType::Real => "real",
        }
    }
}

/// How a device's SQLite row holds the values of a type, next to the wire's form (JSON): the
/// TypeScript converters between a table's wire row and its stored row are written from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteValue {
    /// As on the wire.
    Same,
    /// A boolean as 0 or 1.
    ZeroOrOne,
    /// A JSON document as its text.
    JsonText,
    /// A timestamp as `[schema] timestamp_storage` says: canonical RFC 3339 text with
    /// milliseconds, or milliseconds since the Unix epoch.
    Timestamp,
}

/// A TypeScript conversion between the wire and a SQLite row, for non-null values; `$` stands
/// for the value in both expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsStoredForm {
    /// The TypeScript type of the stored values.
    pub ty: &'static str,
    pub to_stored: &'static str,
    pub from_stored: &'static str,
}

impl SqliteValue {
    /// The TypeScript conversion, or `None` when the row holds the wire's value as it is.
    pub fn typescript(self, timestamps: TimestampStorage) -> Option<TsStoredForm> {
        let form = |ty, to_stored, from_stored| Some(TsStoredForm { ty, to_stored, from_stored });
        match (self, timestamps) {
            (SqliteValue::Same, _) => None,
            (SqliteValue::ZeroOrOne, _) => form("number", "$ ? 1 : 0", "$ !== 0"),
            (SqliteValue::JsonText, _) => form("string", "JSON.stringify($)", "JSON.parse($)"),
            // Any RFC 3339 offset or precision becomes the one form the column's CHECK accepts.
            (SqliteValue::Timestamp, TimestampStorage::Text) => {
                form("string", "new Date($).toISOString()", "$")
            }
            (SqliteValue::Timestamp, TimestampStorage::Integer) => {
                form("number", "Date.parse($)", "new Date($).toISOString()")
            }
        }
    }
}

/// A Postgres type as the generated DDL declares it and as the catalog prints it
/// (`format_type`, what the import and the live drift gate read back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgType {
    pub ddl: &'static str,
    pub catalog: &'static str,
    /// The `drizzle-orm/pg-core` column that declares this type.
    pub drizzle: DrizzleColumn,
}

/// A Drizzle column builder and its options, rendered as `builder(name, options)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrizzleColumn {
    pub builder: DrizzleBuilder,
    /// The options object, such as `{ mode: "number" }`.
    pub options: Option<&'static str>,
    /// The type `drizzle-orm` gives the builder's result, `$` standing for the column name's
    /// literal type: what the package's `.d.ts` declares the column with.
    pub declared: &'static str,
}

/// Where a Drizzle column builder comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrizzleBuilder {
    /// A function of the dialect's core module, such as `text`.
    Core(&'static str),
    /// A `customType` the generated file defines before its tables (in JavaScript), for a type
    /// Drizzle has no builder for.
    Custom { name: &'static str, definition: &'static str },
}

impl DrizzleBuilder {
    pub fn name(self) -> &'static str {
        match self {
            DrizzleBuilder::Core(name) | DrizzleBuilder::Custom { name, .. } => name,
        }
    }
}

/// The `storage` override of a type: the Postgres type it selects, and the CHECK that then
/// holds the values to the logical type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredAlternative {
    pub stored_as: StoredAs,
    pub postgres: PgType,
    pub check: Option<TypeCheck>,
}

/// A condition a column's CHECK puts on the values of its type, where the database's type does
/// not enforce it; each SQL emitter spells it in its own syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeCheck {
    /// 0 or 1: a boolean kept in an integer.
    ZeroOrOne,
    /// A valid JSON document.
    Json,
    /// A UUID in its one spelling: lower-case hex, 8-4-4-4-12.
    Uuid,
    /// A 32-bit integer, like Postgres's `integer`.
    Int32,
    /// An integer a JavaScript number holds exactly, within +/- `MAX_SAFE_INTEGER`.
    SafeInteger,
    /// A date that exists, `YYYY-MM-DD`.
    Date,
    /// An instant that exists, in the canonical RFC 3339 form with milliseconds; only when
    /// timestamps are stored as text.
    Timestamp,
}

const fn pg(ddl: &'static str, catalog: &'static str, drizzle: DrizzleColumn) -> PgType {
    PgType { ddl, catalog, drizzle }
}

const fn core(
    builder: &'static str,
    options: Option<&'static str>,
    declared: &'static str,
) -> DrizzleColumn {
    DrizzleColumn { builder: DrizzleBuilder::Core(builder), options, declared }
}

/// A boolean kept as 0/1 in an integer column: a custom type so rows still read as booleans,
/// the type the rest of the package gives the column.
const INT_BOOLEAN: DrizzleColumn = DrizzleColumn {
    builder: DrizzleBuilder::Custom {
        name: "intBoolean",
        definition: r#"/** A boolean stored as 0/1 in an `integer` column (`storage = "integer"`). */
const intBoolean = customType({
  dataType: () => "integer",
  toDriver: (value) => (value ? 1 : 0),
  fromDriver: (value) => value === 1,
});
"#,
    },
    options: None,
    declared: "PgCustomColumnBuilder<ConvertCustomConfig<$, { data: boolean; driverData: number }>>",
};

/// JSON kept in a text column, read and written as JSON values like `jsonb` columns.
const JSON_TEXT: DrizzleColumn = DrizzleColumn {
    builder: DrizzleBuilder::Custom {
        name: "jsonText",
        definition: r#"/** JSON stored in a `text` column (`storage = "text"`). */
const jsonText = customType({
  dataType: () => "text",
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => JSON.parse(value),
});
"#,
    },
    options: None,
    declared: "PgCustomColumnBuilder<ConvertCustomConfig<$, { data: unknown; driverData: string }>>",
};

/// Every Postgres timestamp the schemas declare is read and written as a string.
const TIMESTAMP_STRING: &str = "PgTimestampStringBuilderInitial<$>";

const REAL_OVERRIDES: &[(PostgresType, PgType)] =
    &[(PostgresType::Real, pg("real", "real", core("real", None, "PgRealBuilderInitial<$>")))];

const TIMESTAMP_OVERRIDES: &[(PostgresType, PgType)] = &[
    (
        PostgresType::Timestamp,
        pg(
            "timestamp",
            "timestamp without time zone",
            core("timestamp", Some(r#"{ mode: "string" }"#), TIMESTAMP_STRING),
        ),
    ),
    (
        PostgresType::Timestamptz,
        pg(
            "timestamptz",
            "timestamp with time zone",
            core("timestamp", Some(r#"{ withTimezone: true, mode: "string" }"#), TIMESTAMP_STRING),
        ),
    ),
];

/// The table itself: every field of every entry is written out, so that the compiler asks for
/// each target when a logical type is added.
pub fn entry(ty: LogicalType) -> TypeEntry {
    match ty {
        LogicalType::Text => TypeEntry {
            sqlite: SqliteType::Text,
            sqlite_check: None,
            postgres: pg(
                "text",
                "text",
                core("text", None, "PgTextBuilderInitial<$, [string, ...string[]]>"),
            ),
            postgres_overrides: &[],
            stored_as: None,
            typescript: "string",
            rust: "::std::string::String",
            wire_helper: None,
            default_hint: "a string",
            sqlite_value: SqliteValue::Same,
            drizzle_sqlite_options: None,
        },
        LogicalType::Uuid => TypeEntry {
            sqlite: SqliteType::Text,
            sqlite_check: Some(TypeCheck::Uuid),
            postgres: pg("uuid", "uuid", core("uuid", None, "PgUUIDBuilderInitial<$>")),
            postgres_overrides: &[],
            stored_as: None,
            typescript: "string",
            rust: "::uuid::Uuid",
            wire_helper: None,
            default_hint: "\"random\" or a lower-case UUID string",
            sqlite_value: SqliteValue::Same,
            drizzle_sqlite_options: None,
        },
        LogicalType::Integer => TypeEntry {
            sqlite: SqliteType::Integer,
            sqlite_check: Some(TypeCheck::Int32),
            postgres: pg("integer", "integer", core("integer", None, "PgIntegerBuilderInitial<$>")),
            postgres_overrides: &[],
            stored_as: None,
            typescript: "number",
            rust: "i32",
            wire_helper: None,
            default_hint: "an integer that fits in 32 bits",
            sqlite_value: SqliteValue::Same,
            drizzle_sqlite_options: None,
        },
        // Values beyond 2^53 are refused everywhere, so a JavaScript number is exact.
        LogicalType::Bigint => TypeEntry {
            sqlite: SqliteType::Integer,
            sqlite_check: Some(TypeCheck::SafeInteger),
            postgres: pg(
                "bigint",
                "bigint",
                core("bigint", Some(r#"{ mode: "number" }"#), "PgBigInt53BuilderInitial<$>"),
            ),
            postgres_overrides: &[],
            stored_as: None,
            typescript: "number",
            rust: "i64",
            wire_helper: Some("bigint"),
            default_hint: "an integer within +/- 2^53 - 1",
            sqlite_value: SqliteValue::Same,
            drizzle_sqlite_options: None,
        },
        LogicalType::Real => TypeEntry {
            sqlite: SqliteType::Real,
            sqlite_check: None,
            postgres: pg(
                "double precision",
                "double precision",
                core("doublePrecision", None, "PgDoublePrecisionBuilderInitial<$>"),
            ),
            postgres_overrides: REAL_OVERRIDES,
            stored_as: None,
            typescript: "number",
            rust: "f64",
            wire_helper: None,
            default_hint: "a number",
            sqlite_value: SqliteValue::Same,
            drizzle_sqlite_options: None,
        },
        LogicalType::Boolean => TypeEntry {
            sqlite: SqliteType::Integer,
            sqlite_check: Some(TypeCheck::ZeroOrOne),
            postgres: pg("boolean", "boolean", core("boolean", None, "PgBooleanBuilderInitial<$>")),
            postgres_overrides: &[],
            stored_as: Some(StoredAlternative {
                stored_as: StoredAs::Integer,
                postgres: pg("integer", "integer", INT_BOOLEAN),
                check: Some(TypeCheck::ZeroOrOne),
            }),
            typescript: "boolean",
            rust: "bool",
            wire_helper: None,
            default_hint: "true or false",
            sqlite_value: SqliteValue::ZeroOrOne,
            drizzle_sqlite_options: Some(r#"{ mode: "boolean" }"#),
        },
        LogicalType::Timestamp => TypeEntry {
            sqlite: SqliteType::Timestamp,
            sqlite_check: Some(TypeCheck::Timestamp),
            postgres: pg(
                "timestamptz(3)",
                "timestamp(3) with time zone",
                core(
                    "timestamp",
                    Some(r#"{ withTimezone: true, precision: 3, mode: "string" }"#),
                    TIMESTAMP_STRING,
                ),
            ),
            postgres_overrides: TIMESTAMP_OVERRIDES,
            stored_as: None,
            typescript: "string",
            rust: "::chrono::DateTime<::chrono::Utc>",
            wire_helper: Some("timestamp"),
            default_hint: "\"now\" or a UTC date-time such as 2026-01-01T00:00:00Z",
            sqlite_value: SqliteValue::Timestamp,
            drizzle_sqlite_options: None,
        },
        LogicalType::Date => TypeEntry {
            sqlite: SqliteType::Text,
            sqlite_check: Some(TypeCheck::Date),
            postgres: pg(
                "date",
                "date",
                core("date", Some(r#"{ mode: "string" }"#), "PgDateStringBuilderInitial<$>"),
            ),
            postgres_overrides: &[],
            stored_as: None,
            typescript: "string",
            rust: "::chrono::NaiveDate",
            wire_helper: Some("date"),
            default_hint: "\"now\" or a date such as 2026-01-01",
            sqlite_value: SqliteValue::Same,
            drizzle_sqlite_options: None,
        },
        LogicalType::Json => TypeEntry {
            sqlite: SqliteType::Text,
            sqlite_check: Some(TypeCheck::Json),
            postgres: pg("jsonb", "jsonb", core("jsonb", None, "PgJsonbBuilderInitial<$>")),
            postgres_overrides: &[],
            stored_as: Some(StoredAlternative {
                stored_as: StoredAs::Text,
                postgres: pg("text", "text", JSON_TEXT),
                check: None,
            }),
            typescript: "unknown",
            rust: "::serde_json::Value",
            wire_helper: None,
            default_hint: "a JSON document as a string, an array or a table",
            sqlite_value: SqliteValue::JsonText,
            drizzle_sqlite_options: Some(r#"{ mode: "json" }"#),
        },
    }
}

/// The SQLite type of a column of type `ty`.
pub fn sqlite_type(ty: LogicalType, timestamps: TimestampStorage) -> &'static str {
    entry(ty).sqlite.name(timestamps)
}

/// The `drizzle-orm/sqlite-core` column of type `ty`: its builder, the mode that reads a
/// boolean or JSON back as such, and the type Drizzle then gives it.
pub fn drizzle_sqlite(ty: LogicalType, timestamps: TimestampStorage) -> DrizzleColumn {
    let entry = entry(ty);
    let declared = match entry.sqlite_value {
        SqliteValue::ZeroOrOne => "SQLiteBooleanBuilderInitial<$>",
        SqliteValue::JsonText => "SQLiteTextJsonBuilderInitial<$>",
        SqliteValue::Same | SqliteValue::Timestamp => entry.sqlite.drizzle_declared(timestamps),
    };
    DrizzleColumn {
        builder: DrizzleBuilder::Core(entry.sqlite.drizzle(timestamps)),
        options: entry.drizzle_sqlite_options,
        declared,
    }
}

/// The storage class SQLite keeps a column of type `ty` in (`text`, `integer` or `real`): what
/// a row read from a device's database holds.
pub fn sqlite_storage(ty: LogicalType, timestamps: TimestampStorage) -> &'static str {
    match entry(ty).sqlite.resolve(timestamps) {
        SqliteType::Text | SqliteType::Timestamp => "text",
        SqliteType::Integer => "integer",
        SqliteType::Real => "real",
    }
}

/// The Postgres type of a column of type `ty`, its storage overrides applied (validation only
/// lets through overrides the type has).
pub fn postgres_type(ty: LogicalType, storage: Storage) -> PgType {
    let entry = entry(ty);
    let overridden = entry.postgres_overrides.iter().find(|(o, _)| Some(*o) == storage.postgres);
    let stored = entry.stored_as.filter(|s| Some(s.stored_as) == storage.stored_as);
    match (overridden, stored) {
        (Some((_, pg)), _) => *pg,
        (None, Some(stored)) => stored.postgres,
        (None, None) => entry.postgres,
    }
}

/// The condition SQLite's CHECK puts on a column of type `ty`, if any.
pub fn sqlite_check(ty: LogicalType, timestamps: TimestampStorage) -> Option<TypeCheck> {
    entry(ty)
        .sqlite_check
        .filter(|c| *c != TypeCheck::Timestamp || timestamps == TimestampStorage::Text)
}

/// The condition Postgres's CHECK puts on a column of type `ty`: only a `storage` override
/// needs one, Postgres's own types enforce the rest.
pub fn postgres_check(ty: LogicalType, storage: Storage) -> Option<TypeCheck> {
    entry(ty).stored_as.filter(|s| Some(s.stored_as) == storage.stored_as).and_then(|s| s.check)
}

/// Whether some target may put a CHECK on a column of type `ty` for its type alone.
pub fn may_check(ty: LogicalType) -> bool {
    entry(ty).sqlite_check.is_some()
}

/// The logical type (and `postgres_type` override) whose Postgres type the catalog prints as
/// `catalog`: the inverse of the table, for the import. `storage` overrides are not inverted:
/// an `integer` column is an integer, not a boolean kept in one.
pub fn from_postgres(catalog: &str) -> Option<(LogicalType, Option<PostgresType>)> {
    LogicalType::ALL.iter().find_map(|&ty| {
        let entry = entry(ty);
        if entry.postgres.catalog == catalog {
            return Some((ty, None));
        }
        entry
            .postgres_overrides
            .iter()
            .find(|(_, pg)| pg.catalog == catalog)
            .map(|(o, _)| (ty, Some(*o)))
    })
}

#[cfg(test)]
mod tests;
