//! `[extra_sql]`: the team's own SQL files, read through the loader's reader and checked only
//! as far as pasting them into a generated file needs: a relative `.sql` path, listed once per
//! target, readable, and ending its last statement with `;` so that nothing pasted after it
//! joins it. The SQL itself is the team's; the databases judge it when the DDL is applied.

use toml::Spanned;

use crate::diag::Problem;
use crate::ir::{ExtraSql, ExtraTarget};
use crate::load::ReadExtra;
use crate::raw;

pub(super) fn extra_sql(
    raw: &raw::ExtraSql,
    read: ReadExtra<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<ExtraSql> {
    let targets = [
        (ExtraTarget::Postgres, "postgres", &raw.postgres),
        (ExtraTarget::Sqlite, "sqlite", &raw.sqlite),
        (ExtraTarget::SqliteServer, "sqlite_server", &raw.sqlite_server),
    ];
    let mut out = Vec::new();
    for (target, key, paths) in targets {
        for (i, spanned) in paths.iter().enumerate() {
            if let Some(first) = paths[..i].iter().find(|p| p.get_ref() == spanned.get_ref()) {
                problems.push(
                    Problem::new(
                        "schema::duplicate_extra_sql",
                        spanned.span(),
                        format!("`{}` is listed twice in extra_sql.{key}", spanned.get_ref()),
                    )
                    .label("listed again here")
                    .also(first.span(), "first listed here"),
                );
                continue;
            }
            if let Some(sql) = file(spanned, key, read, problems) {
                out.push(ExtraSql {
                    target,
                    path: spanned.get_ref().clone(),
                    sql,
                    span: spanned.span(),
                });
            }
        }
    }
    out
}

/// The text of one listed file, or a problem at its path.
fn file(
    spanned: &Spanned<String>,
    key: &str,
    read: ReadExtra<'_>,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let path = spanned.get_ref();
    let problem = |code, message: String| Problem::new(code, spanned.span(), message);
    if path.starts_with('/') || path.contains('\\') || !path.ends_with(".sql") {
        problems.push(
            problem("schema::extra_sql_path", format!("extra_sql.{key} lists `{path}`")).help(
                "name a `.sql` file by its path relative to the folder of schema.toml, with `/`",
            ),
        );
        return None;
    }
    let sql = match read(path) {
        Ok(sql) => sql.trim_end().to_owned(),
        Err(why) => {
            problems.push(
                problem("schema::extra_sql_unreadable", format!("cannot read `{path}`: {why}"))
                    .label("this file")
                    .help("extra_sql paths are relative to the folder of schema.toml"),
            );
            return None;
        }
    };
    if !terminated(&sql) {
        problems.push(
            problem(
                "schema::extra_sql_unterminated",
                format!("the last statement of `{path}` does not end with `;`"),
            )
            .help("end every statement with `;`: the file is pasted into the generated DDL"),
        );
        return None;
    }
    Some(sql)
}

/// Whether the last line that is not blank or a `--` comment ends with `;` (an empty file has
/// nothing to end).
fn terminated(sql: &str) -> bool {
    let last = sql.lines().map(str::trim).rfind(|l| !l.is_empty() && !l.starts_with("--"));
    last.is_none_or(|l| l.ends_with(';'))
}

#[cfg(test)]
mod tests {
    use super::terminated;

    #[test]
    fn the_last_statement_must_end_with_a_semicolon() {
        assert!(terminated(""));
        assert!(terminated("CREATE VIEW v AS SELECT 1;\n-- the end\n"));
        assert!(!terminated("CREATE VIEW v AS SELECT 1\n-- the end"));
    }
}
