//! The shape both Drizzle schemas share: one table constant per table, built on `TBL` and `COL`,
//! with the IR's constraint and index names. The dialect modules supply what differs: column
//! builders, defaults, the checks a column's storage puts on it, and descending index columns.

pub(super) mod pg;
pub(super) mod sqlite;

use std::collections::BTreeSet;

use super::{constant_key, field_name, header, string_lit, template_text};
use crate::ir::{Column, DefaultValue, FkAction, Schema, Table};

/// What differs between `drizzle-orm/sqlite-core` and `drizzle-orm/pg-core`.
struct Dialect {
    /// The module the builders come from.
    core: &'static str,
    /// `sqliteTable` or `pgTable`.
    table_fn: &'static str,
    /// Whether a table exists in this database.
    includes: fn(&Table) -> bool,
    /// The column builder, such as `text(COL.tune.ID)`.
    column: fn(&Schema, &Table, &Column, &mut Imports) -> String,
    /// The `.default(...)` or similar call for a default value.
    default: fn(&Schema, &Column, &DefaultValue, &mut Imports) -> String,
    /// The SQL (with `${t.column}` placeholders) of the CHECK named `column.check_name`, when
    /// this database puts one on the column.
    column_check: fn(&Column, &str) -> Option<String>,
    /// An index column in descending order, from its `t.column` expression.
    descending: fn(&str, &mut Imports) -> String,
}

/// The names a file imports, collected while its body is written.
#[derive(Default)]
struct Imports {
    core: BTreeSet<&'static str>,
    /// `sql` from `drizzle-orm`.
    sql: bool,
    /// Definitions the file needs before its tables (custom column types, declarations).
    preamble: BTreeSet<&'static str>,
}

impl Imports {
    fn core(&mut self, name: &'static str) -> &'static str {
        self.core.insert(name);
        name
    }

    /// A `sql` tagged template around raw SQL text.
    fn sql(&mut self, text: &str) -> String {
        self.sql = true;
        format!("sql`{}`", template_text(text))
    }
}

/// Names of the file's own scope that a table constant must not shadow, besides keywords. `t`
/// is the parameter of every table's extra-config callback: a table constant `t` would be
/// shadowed there, and another table's foreign key to it would silently point at its own columns.
const TAKEN: &[&str] = &[
    "t",
    "COL",
    "TBL",
    "VALUES",
    "sql",
    "crypto",
    "intBoolean",
    "jsonText",
    "sqliteTable",
    "pgTable",
    "text",
    "integer",
    "real",
    "uuid",
    "bigint",
    "doublePrecision",
    "boolean",
    "timestamp",
    "date",
    "jsonb",
    "customType",
    "primaryKey",
    "foreignKey",
    "unique",
    "index",
    "uniqueIndex",
    "check",
];

/// Words TypeScript does not allow as a `const` name.
const KEYWORDS: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "implements",
    "interface",
    "let",
    "package",
    "private",
    "protected",
    "public",
    "static",
    "yield",
    "await",
    "arguments",
    "eval",
];

/// The exported constant of a table: `repertoireTune`, or `indexTable` where the plain name
/// would be a keyword or shadow an import. Validation makes sure that no two tables get the
/// same constant (`index` and `index_table` would).
pub(crate) fn table_var(name: &str) -> String {
    let var = field_name(name);
    if TAKEN.contains(&var.as_str()) || KEYWORDS.contains(&var.as_str()) {
        format!("{var}Table")
    } else {
        var
    }
}

/// `t.userId`: a column in the table's extra-config callback.
fn column_ref(name: &str) -> String {
    format!("t.{}", field_name(name))
}

/// `COL.tune.USER_ID`: a column's name, from the constants.
fn column_name(table: &Table, column: &Column) -> String {
    format!("COL.{}.{}", table.name, constant_key(&column.name))
}

/// `VALUES.tune.TYPE`: an enum column's allowed values, from the constants.
fn values_ref(table: &Table, column: &Column) -> String {
    format!("VALUES.{}.{}", table.name, constant_key(&column.name))
}

/// `${t.type} IN ('reel', 'jig')`: the CHECK of an enum column, in both databases.
fn values_check(column: &Column, column_ref: &str) -> Option<String> {
    let values = column.values.as_ref()?;
    let list: Vec<String> =
        values.iter().map(|v| format!("'{}'", template_text(&v.replace('\'', "''")))).collect();
    Some(format!("${{{column_ref}}} IN ({})", list.join(", ")))
}

/// A literal default as a TypeScript value; `Random` and `Now` are the dialect's business.
fn literal(value: &DefaultValue) -> Option<String> {
    Some(match value {
        DefaultValue::Random | DefaultValue::Now => return None,
        DefaultValue::Text(s) | DefaultValue::Timestamp(s) | DefaultValue::Date(s) => string_lit(s),
        DefaultValue::Integer(i) => i.to_string(),
        DefaultValue::Real(r) => r.to_string(),
        DefaultValue::Boolean(b) => b.to_string(),
        // Canonical compact JSON is also a JavaScript expression.
        DefaultValue::Json(json) => json.clone(),
    })
}

fn emit(schema: &Schema, dialect: &Dialect) -> String {
    let mut imports = Imports::default();
    let mut body = String::new();
    let mut uses_values = false;
    for table in schema.tables.iter().filter(|t| (dialect.includes)(t)) {
        uses_values |= table.columns.iter().any(|c| c.values.is_some());
        table_const(&mut body, schema, table, dialect, &mut imports);
    }

    let mut out = header();
    out.push('\n');
    if imports.sql {
        out.push_str("import { sql } from \"drizzle-orm\";\n");
    }
    imports.core.insert(dialect.table_fn);
    let core: Vec<&str> = imports.core.iter().copied().collect();
    out.push_str(&format!("import {{ {} }} from \"{}\";\n", core.join(", "), dialect.core));
    let constants = if uses_values { "COL, TBL, VALUES" } else { "COL, TBL" };
    out.push_str(&format!("import {{ {constants} }} from \"../db-constants.js\";\n"));
    for definition in &imports.preamble {
        out.push('\n');
        out.push_str(definition);
    }
    out.push_str(&body);
    out
}

fn table_const(
    out: &mut String,
    schema: &Schema,
    table: &Table,
    dialect: &Dialect,
    imports: &mut Imports,
) {
    out.push_str(&format!(
        "\nexport const {} = {}(\n  TBL.{},\n  {{\n",
        table_var(&table.name),
        dialect.table_fn,
        constant_key(&table.name)
    ));
    for column in &table.columns {
        let mut builder = (dialect.column)(schema, table, column, imports);
        if !column.nullable {
            builder.push_str(".notNull()");
        }
        if let Some(value) = &column.default {
            builder.push_str(&(dialect.default)(schema, column, value, imports));
        }
        out.push_str(&format!("    {}: {builder},\n", field_name(&column.name)));
    }
    out.push_str("  },\n  (t) => [\n");

    let refs =
        |columns: &[String]| columns.iter().map(|c| column_ref(c)).collect::<Vec<_>>().join(", ");
    let pk = &table.primary_key;
    out.push_str(&format!(
        "    {}({{ name: {}, columns: [{}] }}),\n",
        imports.core("primaryKey"),
        string_lit(&pk.name),
        refs(&pk.columns)
    ));
    for fk in &table.foreign_keys {
        // A self-reference must go through the callback's columns: the constant is not defined yet.
        let target =
            if fk.ref_table == table.name { "t".to_owned() } else { table_var(&fk.ref_table) };
        let foreign: Vec<String> =
            fk.ref_columns.iter().map(|c| format!("{target}.{}", field_name(c))).collect();
        out.push_str(&format!(
            "    {}({{ name: {}, columns: [{}], foreignColumns: [{}] }})",
            imports.core("foreignKey"),
            string_lit(&fk.name),
            refs(&fk.columns),
            foreign.join(", ")
        ));
        for (method, action) in [("onDelete", fk.on_delete), ("onUpdate", fk.on_update)] {
            if let Some(action) = action {
                out.push_str(&format!(".{method}({})", string_lit(&fk_action(action))));
            }
        }
        out.push_str(",\n");
    }
    for unique in &table.uniques {
        out.push_str(&format!(
            "    {}({}).on({}),\n",
            imports.core("unique"),
            string_lit(&unique.name),
            refs(&unique.columns)
        ));
    }
    for index in &table.indexes {
        let function = imports.core(if index.unique { "uniqueIndex" } else { "index" });
        let columns: Vec<String> = index
            .columns
            .iter()
            .map(|c| {
                let r = column_ref(&c.name);
                if c.descending { (dialect.descending)(&r, imports) } else { r }
            })
            .collect();
        out.push_str(&format!(
            "    {function}({}).on({})",
            string_lit(&index.name),
            columns.join(", ")
        ));
        if let Some(predicate) = &index.predicate {
            out.push_str(&format!(".where({})", imports.sql(predicate)));
        }
        out.push_str(",\n");
    }
    let column_checks = table.columns.iter().filter_map(|c| {
        (dialect.column_check)(c, &column_ref(&c.name)).map(|expr| (c.check_name.as_str(), expr))
    });
    let checks: Vec<(&str, String)> = table
        .checks
        .iter()
        .map(|c| (c.name.as_str(), template_text(&c.expr)))
        .chain(column_checks)
        .collect();
    for (name, expr) in checks {
        imports.sql = true;
        out.push_str(&format!(
            "    {}({}, sql`{expr}`),\n",
            imports.core("check"),
            string_lit(name)
        ));
    }
    out.push_str("  ],\n);\n");
}

/// Drizzle's spelling of a referential action.
fn fk_action(action: FkAction) -> String {
    action.as_sql().to_ascii_lowercase()
}
