//! The generated DDL of one version read back as statements, each tagged with what it creates.
//!
//! The planner reuses the emitters' output instead of building SQL a second time: a new table,
//! its indexes, its triggers and its comments are the very statements `gen` writes, and two
//! versions are compared statement by statement. The emitters lay out one statement per line
//! group, closed by `;` at the end of a line; quotes, `$$` bodies and trigger `BEGIN ... END;`
//! blocks are tracked so that a `;` inside them does not end a statement.

/// One statement of a generated DDL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stmt {
    /// The statement as generated (with the `--` comment lines inside it), ending with `;`.
    pub sql: String,
    pub kind: Kind,
}

/// What a statement creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Table(String),
    Index {
        name: String,
        table: String,
    },
    Trigger {
        name: String,
        table: String,
    },
    /// `COMMENT ON <target> IS ...`; the target (`TABLE "t"`, `COLUMN "t"."c"`) identifies it.
    Comment {
        target: String,
        table: String,
    },
    /// Functions, the machinery's initial rows: whatever belongs to no table.
    Other,
}

impl Stmt {
    /// The table the statement belongs to, if any.
    pub fn table(&self) -> Option<&str> {
        match &self.kind {
            Kind::Table(table)
            | Kind::Index { table, .. }
            | Kind::Trigger { table, .. }
            | Kind::Comment { table, .. } => Some(table),
            Kind::Other => None,
        }
    }

    /// The items of a `CREATE TABLE`: column definitions and `CONSTRAINT` lines, one per line
    /// as the templates write them, without the separating commas and without comments (which
    /// SQLite keeps only as text, so a changed comment alone changes nothing there).
    pub fn items(&self) -> Vec<&str> {
        let mut lines: Vec<&str> = self.sql.lines().collect();
        // The first line opens the list, the last one closes it (`) STRICT;` or `);`).
        lines.pop();
        lines
            .into_iter()
            .skip(1)
            .map(|l| l.trim().trim_end_matches(','))
            .filter(|l| !l.starts_with("--"))
            .collect()
    }
}

/// The statements of one generated DDL file.
#[derive(Debug, Clone)]
pub(super) struct Ddl(pub Vec<Stmt>);

impl Ddl {
    pub fn parse(ddl: &str) -> Self {
        Ddl(statements(ddl))
    }

    /// The `CREATE TABLE` of `table`.
    pub fn table(&self, table: &str) -> Option<&Stmt> {
        self.0.iter().find(|s| s.kind == Kind::Table(table.to_owned()))
    }

    /// The indexes, triggers and comments of `table`, in file order.
    pub fn parts_of<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Stmt> + 'a {
        self.0.iter().filter(move |s| !matches!(s.kind, Kind::Table(_)) && s.table() == Some(table))
    }
}

/// Every statement of a generated DDL file, in order.
fn statements(ddl: &str) -> Vec<Stmt> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in ddl.lines() {
        // Comments between statements are left out; those inside one (a trigger's, a
        // column's) are kept, so the statement reads as the generated file has it.
        let comment = line.trim_start().starts_with("--");
        if current.is_empty() && (comment || line.trim().is_empty()) {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if !comment && complete(&current, line) {
            let sql = std::mem::take(&mut current).trim_end().to_owned();
            out.push(Stmt { kind: kind(&sql), sql });
        }
    }
    out
}

/// Whether `sql`, whose last line is `line`, is a whole statement.
fn complete(sql: &str, line: &str) -> bool {
    if !line.trim_end().ends_with(';') {
        return false;
    }
    // Comment lines may hold a lone quote (`-- it's`); they never end or open anything.
    let code: String = sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
    let balanced = code.matches('\'').count().is_multiple_of(2)
        && code.matches("$$").count().is_multiple_of(2);
    let block = sql.starts_with("CREATE TRIGGER") && sql.lines().any(|l| l.trim() == "BEGIN");
    balanced && (!block || line.trim() == "END;")
}

fn kind(sql: &str) -> Kind {
    let first = sql.lines().next().unwrap_or_default();
    if let Some(rest) = first.strip_prefix("CREATE TABLE ") {
        return Kind::Table(name(rest));
    }
    let index = first.strip_prefix("CREATE INDEX ").or(first.strip_prefix("CREATE UNIQUE INDEX "));
    if let Some(rest) = index {
        let table = rest.split_once(" ON ").map(|(_, t)| name(t)).unwrap_or_default();
        return Kind::Index { name: name(rest), table };
    }
    if let Some(rest) = first.strip_prefix("CREATE TRIGGER ") {
        let table = rest.rsplit_once(" ON ").map(|(_, t)| name(t)).unwrap_or_default();
        return Kind::Trigger { name: name(rest), table };
    }
    if let Some(rest) = first.strip_prefix("COMMENT ON ") {
        let target = rest.split_once(" IS ").map_or(rest, |(t, _)| t).to_owned();
        let object = target.split_once(' ').map_or("", |(_, o)| o);
        let table = object.split('.').next().map(name).unwrap_or_default();
        return Kind::Comment { target, table };
    }
    Kind::Other
}

/// The (possibly quoted) name at the start of `text`, unquoted. Generated names are plain
/// identifiers, so a quoted name never holds a quote or a space.
fn name(text: &str) -> String {
    let text = text.trim_start();
    if let Some(quoted) = text.strip_prefix('"') {
        return quoted.split('"').next().unwrap_or_default().to_owned();
    }
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .next()
        .unwrap_or_default()
        .into()
}

/// The name of a column definition or of a `CONSTRAINT` item.
pub(super) fn item_name(item: &str) -> String {
    name(item.strip_prefix("CONSTRAINT ").unwrap_or(item))
}

/// Whether an item of a `CREATE TABLE` defines a column (rather than a table constraint).
pub(super) fn is_column(item: &str) -> bool {
    item.starts_with('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_generated_statements() {
        let ddl = "-- notice\n\nCREATE TABLE \"a\" (\n  -- it's a comment\n  \"id\" TEXT NOT NULL,\n  \
                   CONSTRAINT \"a_pkey\" PRIMARY KEY (\"id\")\n) STRICT;\n\
                   CREATE INDEX \"a_idx\" ON \"a\" (\"id\");\n\
                   CREATE TRIGGER \"t\" AFTER INSERT ON \"a\"\nBEGIN\n  UPDATE x SET y = ';';\nEND;\n\
                   CREATE FUNCTION f() AS $$\nBEGIN\n  x;\nEND\n$$;\n\
                   COMMENT ON COLUMN \"a\".\"id\" IS 'one;\ntwo';\n";
        let stmts = statements(ddl);
        let kinds: Vec<&Kind> = stmts.iter().map(|s| &s.kind).collect();
        assert_eq!(
            kinds,
            [
                &Kind::Table("a".into()),
                &Kind::Index { name: "a_idx".into(), table: "a".into() },
                &Kind::Trigger { name: "t".into(), table: "a".into() },
                &Kind::Other,
                &Kind::Comment { target: "COLUMN \"a\".\"id\"".into(), table: "a".into() },
            ]
        );
        assert_eq!(
            stmts[0].items(),
            ["\"id\" TEXT NOT NULL", "CONSTRAINT \"a_pkey\" PRIMARY KEY (\"id\")"]
        );
        assert_eq!(item_name(stmts[0].items()[1]), "a_pkey");
        assert!(stmts[2].sql.ends_with("END;"));
    }
}
