//! The text of SQLite's `CREATE TABLE` statements, where SQLite alone keeps what its pragmas
//! do not say: CHECK constraints, and the names of the primary key, unique and foreign key
//! constraints. Read with a small tokenizer that knows quotes and comments.

use super::catalog::squeeze;

/// A token of SQL text and its byte range.
#[derive(Debug)]
struct Token {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// A keyword or an unquoted name.
    Word,
    /// A quoted name (`"a"`, `` `a` ``, `[a]`), unquoted.
    Quoted(String),
    /// A string literal.
    Literal,
    /// Any other character.
    Punct,
}

/// Tokens of an SQL statement, comments skipped.
fn tokens(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
                continue;
            }
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                // A doubled quote inside a quoted run is the quote itself.
                while i < bytes.len() {
                    if bytes[i] == close && (close == b']' || bytes.get(i + 1) != Some(&close)) {
                        break;
                    }
                    i += if bytes[i] == close { 2 } else { 1 };
                }
                let inner = &sql[start + 1..i.min(bytes.len())];
                i = (i + 1).min(bytes.len());
                if c == b'\'' {
                    Kind::Literal
                } else {
                    let quote = char::from(close).to_string();
                    Kind::Quoted(inner.replace(&quote.repeat(2), &quote))
                }
            }
            c if word_byte(c) => {
                while i < bytes.len() && word_byte(bytes[i]) {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
                Kind::Punct
            }
        };
        out.push(Token { start, end: i, kind });
    }
    out
}

/// Every CHECK of a `CREATE TABLE` statement: `(name, "CHECK (expression)")`, the name being
/// the definition itself for an unnamed one. SQLite keeps checks only in this text.
pub(super) fn checks(sql: &str) -> Vec<(String, String)> {
    let tokens = tokens(sql);
    let text = |t: &Token| &sql[t.start..t.end];
    let keyword = |t: &Token, kw: &str| t.kind == Kind::Word && text(t).eq_ignore_ascii_case(kw);
    let punct = |t: &Token, p: &str| t.kind == Kind::Punct && text(t) == p;
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if !keyword(token, "CHECK") {
            continue;
        }
        let Some(open) = tokens.get(i + 1).filter(|t| punct(t, "(")) else { continue };
        let mut depth = 0;
        let close = tokens[i + 1..].iter().find(|t| {
            if punct(t, "(") {
                depth += 1;
            } else if punct(t, ")") {
                depth -= 1;
            }
            depth == 0
        });
        let Some(close) = close else { continue };
        let definition = format!("CHECK ({})", squeeze(&sql[open.end..close.start]));
        let name = match (i.checked_sub(2).map(|j| &tokens[j]), tokens.get(i.wrapping_sub(1))) {
            (Some(kw), Some(name)) if keyword(kw, "CONSTRAINT") => match &name.kind {
                Kind::Quoted(name) => Some(name.clone()),
                Kind::Word => Some(text(name).to_owned()),
                _ => None,
            },
            _ => None,
        };
        out.push((name.unwrap_or_else(|| definition.clone()), definition));
    }
    out
}

/// The names a `CREATE TABLE` statement gives its key constraints (`CONSTRAINT <name>` before
/// a table's `PRIMARY KEY`, `UNIQUE` or `FOREIGN KEY`, or a column's `PRIMARY KEY`, `UNIQUE` or
/// `REFERENCES`), each with its columns. Unnamed constraints are not listed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ConstraintNames {
    pub primary_key: Option<String>,
    pub uniques: Vec<(Vec<String>, String)>,
    pub foreign_keys: Vec<(Vec<String>, String)>,
}

pub(super) fn constraint_names(sql: &str) -> ConstraintNames {
    let tokens = tokens(sql);
    let text = |t: &Token| &sql[t.start..t.end];
    let keyword = |t: Option<&Token>, kw: &str| {
        t.is_some_and(|t| t.kind == Kind::Word && text(t).eq_ignore_ascii_case(kw))
    };
    let punct = |t: &Token, p: &str| t.kind == Kind::Punct && text(t) == p;
    let ident = |t: Option<&Token>| match t.map(|t| (&t.kind, t)) {
        Some((Kind::Quoted(name), _)) => Some(name.clone()),
        Some((Kind::Word, t)) => Some(text(t).to_owned()),
        _ => None,
    };
    // The first parenthesised list after `start`: the first name of each of its items.
    let list = |start: usize| -> Vec<String> {
        let Some(open) = (start..tokens.len()).find(|&i| punct(&tokens[i], "(")) else {
            return Vec::new();
        };
        let mut names = Vec::new();
        let (mut depth, mut at_item) = (0, true);
        for t in &tokens[open + 1..] {
            match () {
                () if punct(t, "(") => depth += 1,
                () if punct(t, ")") && depth == 0 => break,
                () if punct(t, ")") => depth -= 1,
                () if punct(t, ",") && depth == 0 => at_item = true,
                () if at_item => {
                    names.extend(ident(Some(t)));
                    at_item = false;
                }
                () => {}
            }
        }
        names
    };
    let mut out = ConstraintNames::default();
    let Some(open) = tokens.iter().position(|t| punct(t, "(")) else { return out };
    // The items of the table's body, split at its top-level commas: (first token, end).
    let mut items = Vec::new();
    let (mut depth, mut first) = (0, open + 1);
    for (i, t) in tokens.iter().enumerate().skip(open + 1) {
        if punct(t, "(") {
            depth += 1;
        } else if punct(t, ")") && depth > 0 {
            depth -= 1;
        } else if depth == 0 && (punct(t, ",") || punct(t, ")")) {
            items.push((first, i));
            first = i + 1;
            if punct(t, ")") {
                break;
            }
        }
    }
    for (first, end) in items {
        let table_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK"]
            .iter()
            .any(|kw| keyword(tokens.get(first), kw));
        let column = (!table_constraint).then(|| ident(tokens.get(first))).flatten();
        for i in first..end {
            if !keyword(tokens.get(i), "CONSTRAINT") {
                continue;
            }
            let Some(name) = ident(tokens.get(i + 1)) else { continue };
            let kind = tokens.get(i + 2);
            let columns = |after: usize| match &column {
                Some(column) => vec![column.clone()],
                None => list(after),
            };
            if keyword(kind, "PRIMARY") {
                out.primary_key = Some(name);
            } else if keyword(kind, "UNIQUE") {
                out.uniques.push((columns(i + 3), name));
            } else if keyword(kind, "FOREIGN") || keyword(kind, "REFERENCES") {
                out.foreign_keys.push((columns(i + 3), name));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_constraint_names_are_read_from_table_and_column_constraints() {
        let sql = "CREATE TABLE \"t\" (\n  \"id\" TEXT NOT NULL,\n  \
                   [a b] TEXT CONSTRAINT \"t_a_key\" UNIQUE CONSTRAINT t_a_fkey REFERENCES p (x),\n  \
                   \"c\" TEXT DEFAULT (lower('x,y')) REFERENCES p (y),\n  \
                   d TEXT, e TEXT UNIQUE,\n  \
                   CONSTRAINT \"t_pkey\" PRIMARY KEY (\"id\"),\n  \
                   -- CONSTRAINT fake UNIQUE (d),\n  \
                   CONSTRAINT \"t_c_d_key\" UNIQUE (\"c\" COLLATE NOCASE, d DESC),\n  \
                   CONSTRAINT t_cd_fkey FOREIGN KEY (c, d) REFERENCES p (y, z) ON DELETE CASCADE\n\
                   ) STRICT";
        assert_eq!(
            constraint_names(sql),
            ConstraintNames {
                primary_key: Some("t_pkey".into()),
                uniques: vec![
                    (vec!["a b".into()], "t_a_key".into()),
                    (vec!["c".into(), "d".into()], "t_c_d_key".into()),
                ],
                foreign_keys: vec![
                    (vec!["a b".into()], "t_a_fkey".into()),
                    (vec!["c".into(), "d".into()], "t_cd_fkey".into()),
                ],
            }
        );
    }

    #[test]
    fn checks_are_read_with_their_names_through_quotes_and_comments() {
        let sql = "CREATE TABLE \"t\" (\n  -- a comment with CHECK (1) in it\n  \
                   \"a\" TEXT CONSTRAINT \"t_a_check\" CHECK (\"a\" IN ('x)', 'y''s')),\n  \
                   b INTEGER CHECK (b > (1 + 2)),\n  \"check\" TEXT,\n  \
                   CONSTRAINT [t b] CHECK (length(b)  >\n 0)\n) STRICT";
        assert_eq!(
            checks(sql),
            vec![
                ("t_a_check".into(), "CHECK (\"a\" IN ('x)', 'y''s'))".into()),
                ("CHECK (b > (1 + 2))".into(), "CHECK (b > (1 + 2))".into()),
                ("t b".into(), "CHECK (length(b) > 0)".into()),
            ]
        );
    }
}
