//! A generated DDL file as statements, each with what it creates and the table it belongs to:
//! the templates lay the statements out as a file, and the migration planner compares two
//! versions statement by statement, so nothing ever reads the SQL text back.

use minijinja::{State, Value};
use serde::Serialize;

/// One statement of a generated DDL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub kind: StatementKind,
    /// The (unquoted) table the statement creates or belongs to: an index's, a trigger's, a
    /// comment's, the table a row goes into. `None` for functions and `[extra_sql]` files.
    pub table: Option<String>,
    /// The statement as the file has it (with the `--` comment lines inside it), ending with `;`.
    pub sql: String,
}

/// What a statement creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatementKind {
    /// `CREATE TABLE`, with its column definitions and table constraints in order. The tables
    /// of the sync machinery, which the templates write whole, list none.
    Table(Vec<Item>),
    Index(String),
    Trigger(String),
    /// `COMMENT ON` the table, or on one of its columns.
    Comment {
        column: Option<String>,
    },
    Function(String),
    /// `ALTER TABLE ... ENABLE ROW LEVEL SECURITY`, or with `force` `FORCE ROW LEVEL SECURITY`.
    RowSecurity {
        force: bool,
    },
    /// `CREATE POLICY`, by its name.
    Policy(String),
    /// An `INSERT` of the machinery's initial row.
    Row,
    /// An `[extra_sql]` file, by its path: the team's SQL, as written.
    Extra(String),
}

/// One column definition or table constraint of a `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Item {
    /// The (unquoted) name of the column or of the constraint.
    pub name: String,
    pub column: bool,
    /// The definition, without a separating comma.
    pub sql: String,
    /// Written above the item where the dialect keeps comments inside `CREATE TABLE` (SQLite).
    pub comment: Option<String>,
}

impl Statement {
    /// The items of a `CREATE TABLE` (none for any other statement).
    pub fn items(&self) -> &[Item] {
        match &self.kind {
            StatementKind::Table(items) => items,
            _ => &[],
        }
    }
}

/// The statements of one file as they are made, in file order, and the same statements'
/// SQL grouped as the file's template lays them out.
pub(super) struct Statements<'s> {
    /// The macros of the dialect's statement template.
    macros: &'s State<'s, 's>,
    pub list: Vec<Statement>,
}

impl<'s> Statements<'s> {
    pub fn new(macros: &'s State<'s, 's>) -> Self {
        Statements { macros, list: Vec::new() }
    }

    /// The SQL of the statement macro `name` with `args`.
    fn render(&self, name: &str, args: &[Value]) -> String {
        let sql =
            self.macros.call_macro(name, args).expect("the SQL templates render every schema");
        sql.trim_end().to_owned()
    }

    /// Record a statement; returns its SQL for the file's layout.
    pub fn add(&mut self, kind: StatementKind, table: Option<&str>, sql: String) -> String {
        self.list.push(Statement { kind, table: table.map(str::to_owned), sql: sql.clone() });
        sql
    }

    /// Record the statement that macro `name` renders with `args`.
    pub fn call(
        &mut self,
        kind: StatementKind,
        table: Option<&str>,
        name: &str,
        args: &[Value],
    ) -> String {
        let sql = self.render(name, args);
        self.add(kind, table, sql)
    }
}

/// A group of statements that the file writes together, after a blank line and the group's
/// comment: a table with its indexes and its machinery, say.
#[derive(Debug, Serialize)]
pub(super) struct Group {
    pub comment: Option<String>,
    pub statements: Vec<String>,
}
