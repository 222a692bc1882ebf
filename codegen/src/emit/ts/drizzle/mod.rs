//! The shape both Drizzle schemas share: one table constant per table, built on `TBL` and `COL`,
//! with the IR's constraint and index names. The column builders and the checks a column's type
//! puts on it come from the type table (`crate::types`), and each CHECK is the SQL DDL's own; the
//! dialect modules pick the table's entry for their database and supply defaults and descending
//! index columns. The Postgres schema also carries the sync machinery's columns, indexes and
//! tables (`machinery`), so that drizzle-kit finds nothing to change in a database made from
//! `postgres.sql` (docs/typescript-client.md).

mod machinery;
pub(super) mod pg;
pub(super) mod sqlite;

use std::collections::BTreeSet;

use super::{constant_key, field_name, header, string_lit, template_text};
use crate::emit::sql::Dialect::Postgres;
use crate::ir::{Column, DefaultValue, FkAction, LogicalType, Schema, Table};
use crate::names::table_var;
use crate::types::{DrizzleBuilder, DrizzleColumn};

/// What differs between `drizzle-orm/sqlite-core` and `drizzle-orm/pg-core`.
struct Dialect {
    /// The module the builders come from.
    core: &'static str,
    /// `sqliteTable` or `pgTable`.
    table_fn: &'static str,
    /// The type `table_fn` returns: `SQLiteTableWithColumns` or `PgTableWithColumns`.
    table_type: &'static str,
    /// Drizzle's name of the dialect, as its types take it: `sqlite` or `pg`.
    name: &'static str,
    /// Whether a table exists in this database.
    includes: fn(&Table) -> bool,
    /// The type table's column builder for a column of this database.
    column: fn(&Schema, &Column) -> DrizzleColumn,
    /// The `.default(...)` or similar call for a default value.
    default: fn(&Schema, &Column, &DefaultValue, &mut Imports) -> String,
    /// An index column in descending order, from its `t.column` expression.
    descending: fn(&str, &mut Imports) -> String,
    /// The database, for the predicates the SQL DDL writes (a live-only key's).
    sql: crate::emit::sql::Dialect,
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

/// `t.userId`: a column in the table's extra-config callback.
fn column_ref(name: &str) -> String {
    if name == machinery::CURSOR {
        format!("t.{}", machinery::CURSOR_FIELD)
    } else {
        format!("t.{}", field_name(name))
    }
}

/// `COL.tune.USER_ID`: a column's name, from the constants.
fn column_name(table: &Table, column: &Column) -> String {
    format!("COL.{}.{}", table.name, constant_key(&column.name))
}

/// `VALUES.tune.TYPE`: an enum column's allowed values, from the constants.
fn values_ref(table: &Table, column: &Column) -> String {
    format!("VALUES.{}.{}", table.name, constant_key(&column.name))
}

/// The column builder, such as `text(COL.tune.ID)`, and the type Drizzle gives it: an enum
/// column's values, else the type table's builder with its options.
fn builder(
    schema: &Schema,
    table: &Table,
    column: &Column,
    dialect: &Dialect,
    imports: &mut Imports,
) -> (String, String) {
    let name = column_name(table, column);
    let declared = |declared: &str| declared.replace('$', &string_lit(&column.name));
    if let Some(values) = &column.values {
        let text = LogicalType::Text;
        let text = Column { ty: text, storage: Default::default(), ..column.clone() };
        let tuple: Vec<String> = values.iter().map(|v| string_lit(v)).collect();
        let declared = declared((dialect.column)(schema, &text).declared)
            .replace("[string, ...string[]]", &format!("[{}]", tuple.join(", ")));
        let call =
            format!("{}({name}, {{ enum: {} }})", imports.core("text"), values_ref(table, column));
        return (call, declared);
    }
    let DrizzleColumn { builder, options, declared: ty } = (dialect.column)(schema, column);
    let ty = declared(ty);
    let function = match builder {
        DrizzleBuilder::Core(function) => imports.core(function),
        DrizzleBuilder::Custom { name, definition } => {
            imports.core("customType");
            imports.preamble.insert(definition);
            name
        }
    };
    let call = match options {
        Some(options) => format!("{function}({name}, {options})"),
        None => format!("{function}({name})"),
    };
    (call, ty)
}

/// The SQL DDL's CHECK named `column.check_name`, if the database has one, with the column as
/// a `${t.column}` placeholder: the same expression, so that Drizzle's database refuses what the
/// SQL DDL's refuses.
fn column_check(schema: &Schema, column: &Column, dialect: &Dialect) -> Option<String> {
    // A character no schema text holds stands for the column until the text is escaped.
    const PLACEHOLDER: &str = "\u{1}";
    let expr = crate::emit::sql::check_expr_on(
        column,
        dialect.sql,
        schema.timestamp_storage,
        PLACEHOLDER,
    )?;
    Some(template_text(&expr).replace(PLACEHOLDER, &format!("${{{}}}", column_ref(&column.name))))
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

/// The schema's JavaScript and its declarations.
fn emit(schema: &Schema, dialect: &Dialect) -> (String, String) {
    let mut imports = Imports::default();
    let mut body = String::new();
    let mut declarations = String::new();
    let mut uses_values = false;
    for table in schema.tables.iter().filter(|t| (dialect.includes)(t)) {
        uses_values |= table.columns.iter().any(|c| c.values.is_some());
        let columns = table_const(&mut body, schema, table, dialect, &mut imports);
        declarations.push_str(&table_declaration(table, dialect, &columns));
    }
    if imports.preamble.contains(machinery::XID8) {
        // The tables a synced table's cursor needs: postgres.sql has them whenever it has one.
        let (core, js) = machinery::tables_js();
        imports.core.extend(core);
        body.push_str(&js);
        declarations.push_str(&machinery::tables_dts());
    }

    let mut js = header();
    js.push('\n');
    if imports.sql {
        js.push_str("import { sql } from \"drizzle-orm\";\n");
    }
    imports.core.insert(dialect.table_fn);
    let core: Vec<&str> = imports.core.iter().copied().collect();
    js.push_str(&format!("import {{ {} }} from \"{}\";\n", core.join(", "), dialect.core));
    let constants = if uses_values { "COL, TBL, VALUES" } else { "COL, TBL" };
    js.push_str(&format!("import {{ {constants} }} from \"../db-constants.js\";\n"));
    for definition in &imports.preamble {
        js.push('\n');
        js.push_str(definition);
    }
    js.push_str(&body);

    let mut dts = header();
    dts.push('\n');
    let wrappers: Vec<&str> =
        ["BuildColumns", "HasDefault", "HasRuntimeDefault", "IsPrimaryKey", "NotNull"]
            .into_iter()
            .filter(|w| declarations.contains(&format!("{w}<")))
            .collect();
    if !wrappers.is_empty() {
        dts.push_str(&format!("import type {{ {} }} from \"drizzle-orm\";\n", wrappers.join(", ")));
    }
    // The builder types the declarations name, such as `SQLiteTextBuilderInitial`.
    let types: BTreeSet<&str> = declarations
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| {
            word.starts_with("SQLite") || word.starts_with("Pg") || *word == "ConvertCustomConfig"
        })
        .collect();
    if !types.is_empty() {
        let types: Vec<&str> = types.into_iter().collect();
        dts.push_str(&format!(
            "import type {{ {} }} from \"{}\";\n",
            types.join(", "),
            dialect.core
        ));
    }
    dts.push_str(&declarations);
    (js, dts)
}

/// `export declare const tune: SQLiteTableWithColumns<...>`: the type `table_fn` gives the
/// table, from each column's declared builder type.
fn table_declaration(table: &Table, dialect: &Dialect, columns: &[(String, String)]) -> String {
    let name = string_lit(&table.name);
    let mut out = format!(
        "\nexport declare const {}: {}<{{\n  name: {name};\n  schema: undefined;\n  columns: BuildColumns<{name}, {{\n",
        table_var(&table.name),
        dialect.table_type
    );
    for (field, ty) in columns {
        out.push_str(&format!("    {field}: {ty};\n"));
    }
    out.push_str(&format!(
        "  }}, {}>;\n  dialect: {};\n}}>;\n",
        string_lit(dialect.name),
        string_lit(dialect.name)
    ));
    out
}

/// Writes the table's constant; returns each column's field and declared type.
fn table_const(
    out: &mut String,
    schema: &Schema,
    table: &Table,
    dialect: &Dialect,
    imports: &mut Imports,
) -> Vec<(String, String)> {
    let mut declared = Vec::new();
    out.push_str(&format!(
        "\nexport const {} = {}(\n  TBL.{},\n  {{\n",
        table_var(&table.name),
        dialect.table_fn,
        constant_key(&table.name)
    ));
    let pk = &table.primary_key;
    // drizzle-kit reads a one-column primary key of a Postgres table as the column's own, and
    // would drop and re-add one declared with `primaryKey()` (its name is Postgres's to keep).
    let column_key = match pk.columns.as_slice() {
        [key] if dialect.sql == Postgres => Some(key),
        _ => None,
    };
    for column in &table.columns {
        let (mut builder, mut ty) = builder(schema, table, column, dialect, imports);
        if column_key == Some(&column.name) {
            builder.push_str(".primaryKey()");
            ty = format!("IsPrimaryKey<NotNull<{ty}>>");
        } else if !column.nullable {
            builder.push_str(".notNull()");
            ty = format!("NotNull<{ty}>");
        }
        if let Some(value) = &column.default {
            let default = (dialect.default)(schema, column, value, imports);
            ty = if default.starts_with(".$defaultFn(") {
                format!("HasRuntimeDefault<HasDefault<{ty}>>")
            } else {
                format!("HasDefault<{ty}>")
            };
            builder.push_str(&default);
        }
        out.push_str(&format!("    {}: {builder},\n", field_name(&column.name)));
        declared.push((field_name(&column.name), ty));
    }
    let synced = dialect.sql == Postgres && table.is_synced();
    if synced {
        imports.sql = true;
        imports.core("customType");
        imports.preamble.insert(machinery::XID8);
        let field = machinery::CURSOR_FIELD;
        out.push_str(&format!("    {field}: {},\n", machinery::cursor_column()));
        declared.push((field.to_owned(), machinery::cursor_type()));
    }
    out.push_str("  },\n  (t) => [\n");

    let refs =
        |columns: &[String]| columns.iter().map(|c| column_ref(c)).collect::<Vec<_>>().join(", ");
    if column_key.is_none() {
        out.push_str(&format!(
            "    {}({{ name: {}, columns: [{}] }}),\n",
            imports.core("primaryKey"),
            string_lit(&pk.name),
            refs(&pk.columns)
        ));
    }
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
        if unique.live_only {
            // A partial unique index, as the SQL DDL makes it.
            let predicate = imports.sql(&crate::emit::sql::live_predicate(table, dialect.sql));
            out.push_str(&format!(
                "    {}({}).on({}).where({predicate}),\n",
                imports.core("uniqueIndex"),
                string_lit(&unique.name),
                refs(&unique.columns)
            ));
        } else {
            out.push_str(&format!(
                "    {}({}).on({}),\n",
                imports.core("unique"),
                string_lit(&unique.name),
                refs(&unique.columns)
            ));
        }
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
    if synced {
        let (name, columns) = machinery::sync_index(table);
        let columns: Vec<String> = columns.iter().map(|c| column_ref(c)).collect();
        out.push_str(&format!(
            "    {}({}).on({}),\n",
            imports.core("index"),
            string_lit(&name),
            columns.join(", ")
        ));
    }
    let column_checks = table
        .columns
        .iter()
        .filter_map(|c| column_check(schema, c, dialect).map(|expr| (c.check_name.as_str(), expr)));
    // The columns' first, as the SQL DDL writes them: of two CHECKs a value breaks, SQLite
    // names the first.
    let table_checks = table.checks.iter().map(|c| (c.name.as_str(), template_text(&c.expr)));
    let checks: Vec<(&str, String)> = column_checks.chain(table_checks).collect();
    for (name, expr) in checks {
        imports.sql = true;
        out.push_str(&format!(
            "    {}({}, sql`{expr}`),\n",
            imports.core("check"),
            string_lit(name)
        ));
    }
    if dialect.sql == Postgres {
        for policy in crate::emit::sql::rls::table_policies(schema, table) {
            out.push_str(&policy_call(&policy, imports));
        }
    }
    out.push_str("  ],\n);\n");
    declared
}

/// `pgPolicy("_sync_select", { for: "select", using: sql`...` })`: a row-level security policy
/// of `[postgres] rls`, which also makes Drizzle enable row-level security on the table.
fn policy_call(policy: &crate::emit::sql::rls::Policy, imports: &mut Imports) -> String {
    let mut config = vec![format!("for: {}", string_lit(&policy.command.to_lowercase()))];
    for (key, expr) in [("using", &policy.using), ("withCheck", &policy.check)] {
        if let Some(expr) = expr {
            config.push(format!("{key}: {}", imports.sql(expr)));
        }
    }
    format!(
        "    {}({}, {{ {} }}),\n",
        imports.core("pgPolicy"),
        string_lit(&policy.name),
        config.join(", ")
    )
}

/// Drizzle's spelling of a referential action.
fn fk_action(action: FkAction) -> String {
    action.as_sql().to_ascii_lowercase()
}
