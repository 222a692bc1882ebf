//! What a table's row-level security policies say about its sync scope, read from their text
//! as `pg_get_expr` prints it: the table's columns compared with the current user's id
//! (`auth.uid()`, `( SELECT auth.uid() AS uid)`, `current_setting('request.jwt.claim.sub', ...)`,
//! `auth.jwt() ->> 'sub'`), the columns they read, and whether they let everyone read every row
//! and nobody write (`FOR SELECT USING (true)`).

use crate::import::introspect::{Policy, Table};

/// Whether `text` is, or contains, the current user's id as Supabase or PostgREST say it.
fn is_user(text: &str) -> bool {
    ["auth.uid()", "request.jwt.claim", "auth.jwt()"].iter().any(|u| text.contains(u))
}

fn expressions(policy: &Policy) -> impl Iterator<Item = &str> {
    policy.using.iter().chain(policy.check.iter()).map(String::as_str)
}

/// Whether any policy of `table` mentions the current user's id.
pub fn mentions_user(table: &Table) -> bool {
    table.policies.iter().any(|p| expressions(p).any(is_user))
}

/// The policies of `table` whose text reads `column` (as a whole word).
pub fn reading(table: &Table, column: &str) -> Vec<String> {
    let reads = |text: &str| {
        text.match_indices(column).any(|(at, _)| {
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(text[..at].chars().next_back()) && !word(text[at + column.len()..].chars().next())
        })
    };
    table.policies.iter().filter(|p| expressions(p).any(reads)).map(|p| p.name.clone()).collect()
}

/// The name of a policy that lets everyone read every row, when no policy of `table` lets
/// anyone write: what a `public` catalog's policies say.
pub fn read_only_for_all(table: &Table) -> Option<&str> {
    let writes = table.policies.iter().any(|p| p.command != "r");
    let open = table.policies.iter().find(|p| {
        p.permissive && p.command == "r" && p.using.as_deref().is_some_and(|u| unwrap(u) == "true")
    });
    open.filter(|_| !writes).map(|p| p.name.as_str())
}

/// The columns of `table` that `policy` compares with the current user's id (`col =
/// auth.uid()`, either way round, with casts and parentheses), in order.
pub fn user_columns(table: &Table, policy: &Policy) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for text in expressions(policy) {
        for (left, right) in comparisons(text) {
            let column = match (is_user(left), is_user(right)) {
                (false, true) => column_of(table, left),
                (true, false) => column_of(table, right),
                _ => None,
            };
            if let Some(column) = column.filter(|c| !out.contains(c)) {
                out.push(column);
            }
        }
    }
    out
}

/// The operands of every `=` in `text`.
fn comparisons(text: &str) -> Vec<(&str, &str)> {
    let b = text.as_bytes();
    (0..b.len())
        .filter(|&i| {
            b[i] == b'='
                && (i == 0 || !b"<>!=:".contains(&b[i - 1]))
                && b.get(i + 1).is_none_or(|c| !b"=>".contains(c))
        })
        .map(|i| (operand_before(text, i), operand_after(text, i + 1)))
        .collect()
}

fn ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"_.\"".contains(&c)
}

/// The operand that ends at `end`: a name, a call or a parenthesized expression, with casts.
fn operand_before(text: &str, end: usize) -> &str {
    let b = text.as_bytes();
    let mut i = end;
    loop {
        while i > 0 && b[i - 1] == b' ' {
            i -= 1;
        }
        if i > 0 && b[i - 1] == b')' {
            let mut depth = 0;
            while i > 0 {
                i -= 1;
                match b[i] {
                    b')' => depth += 1,
                    b'(' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
        }
        while i > 0 && ident(b[i - 1]) {
            i -= 1;
        }
        if i >= 2 && &b[i - 2..i] == b"::" {
            i -= 2;
            continue;
        }
        return text[i..end].trim();
    }
}

/// The operand that starts at `start`: a name or a call, or a parenthesized expression, with
/// casts.
fn operand_after(text: &str, start: usize) -> &str {
    let b = text.as_bytes();
    let mut i = start;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let from = i;
    loop {
        while i < b.len() && ident(b[i]) {
            i += 1;
        }
        if i < b.len() && b[i] == b'(' {
            let mut depth = 0;
            while i < b.len() {
                match b[i] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                i += 1;
                if depth == 0 {
                    break;
                }
            }
        }
        if b.get(i..i + 2) == Some(b"::") {
            i += 2;
            continue;
        }
        return &text[from..i];
    }
}

/// The column of `table` an operand is: a name, maybe quoted, maybe qualified by the table's
/// own name, in parentheses and casts.
fn column_of(table: &Table, operand: &str) -> Option<String> {
    let name = unwrap(operand.split("::").next()?);
    let name = match name.rsplit_once('.') {
        Some((qualifier, name)) if qualifier.trim_matches('"') == table.name => name,
        Some(_) => return None,
        None => name,
    };
    let name = name.trim_matches('"');
    table.column(name).map(|c| c.name.clone())
}

/// `text` without the parentheses around it.
fn unwrap(text: &str) -> &str {
    let mut text = text.trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner.trim();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::introspect::Column;

    fn table(policies: &[(&str, &str, &str)]) -> Table {
        let column = |name: &str| Column {
            name: name.into(),
            ty: "uuid".into(),
            enum_values: None,
            not_null: false,
            default: None,
            identity: None,
            generated: None,
            comment: None,
        };
        Table {
            name: "note".into(),
            columns: ["id", "user_ref", "playlist_ref"].map(column).to_vec(),
            policies: policies
                .iter()
                .map(|(name, command, using)| Policy {
                    name: (*name).into(),
                    command: (*command).into(),
                    permissive: true,
                    using: Some((*using).into()),
                    check: None,
                    roles: "public".into(),
                })
                .collect(),
            ..Table::default()
        }
    }

    #[test]
    fn the_columns_compared_with_the_user_are_found_as_postgres_prints_them() {
        for (using, expected) in [
            ("(user_ref = auth.uid())", &["user_ref"][..]),
            ("(auth.uid() = note.user_ref)", &["user_ref"]),
            ("(user_ref = ( SELECT auth.uid() AS uid))", &["user_ref"]),
            ("((user_ref IS NULL) OR (user_ref = auth.uid()))", &["user_ref"]),
            (
                "((user_ref)::text = current_setting('request.jwt.claim.sub'::text, true))",
                &["user_ref"],
            ),
            ("(\"user_ref\" = (auth.jwt() ->> 'sub'::text)::uuid)", &["user_ref"]),
            ("((id = auth.uid()) OR (user_ref = auth.uid()))", &["id", "user_ref"]),
            (
                "(EXISTS ( SELECT 1 FROM playlist p WHERE ((p.id = note.playlist_ref) AND \
                 (p.user_ref = auth.uid()))))",
                &[],
            ),
            ("(user_ref <= auth.uid())", &[]),
            ("true", &[]),
        ] {
            let table = table(&[("p", "*", using)]);
            assert_eq!(user_columns(&table, &table.policies[0]), expected, "{using}");
        }
    }

    #[test]
    fn a_select_only_policy_using_true_says_public() {
        assert_eq!(read_only_for_all(&table(&[("read", "r", "true")])), Some("read"));
        assert_eq!(read_only_for_all(&table(&[("read", "r", "(true)"), ("w", "w", "true")])), None);
        assert_eq!(read_only_for_all(&table(&[("all", "*", "true")])), None);
        let via =
            table(&[("mine", "r", "(EXISTS (SELECT 1 WHERE (note.playlist_ref = auth.uid())))")]);
        assert!(mentions_user(&via));
        assert_eq!(reading(&via, "playlist_ref"), ["mine"]);
        assert!(reading(&via, "playlist").is_empty());
    }
}
