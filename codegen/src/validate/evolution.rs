//! `[[evolution.allow]]`: the breaking changes a schema makes on purpose, each with a reason.
//!
//! What can be checked from this version alone is checked here (a known rule, a reason, the
//! right subject for the rule); whether the table or column exists in either version is checked
//! when two versions are compared (`evolve::compare`), since a dropped table exists only in the
//! old one.

use crate::diag::{Problem, edit_distance};
use crate::ir::{Allowance, Rule, Span, Subject};
use crate::raw;

pub(crate) fn allowances(
    evolution: &raw::Evolution,
    problems: &mut Vec<Problem>,
) -> Vec<Allowance> {
    let mut out = Vec::new();
    for spanned in &evolution.allow {
        let allow = spanned.get_ref();
        let id = allow.rule.get_ref();
        let Some(rule) = Rule::from_id(id) else {
            problems.push(unknown_rule(id, allow.rule.span()));
            continue;
        };
        let reason = allow.reason.get_ref().trim();
        if reason.is_empty() {
            problems.push(
                Problem::new(
                    "schema::empty_reason",
                    allow.reason.span(),
                    format!("the allowance for `{id}` gives no reason"),
                )
                .help("say why this change is safe for the app, so that reviewers can judge it"),
            );
        }
        if let Some(problem) = subject_problem(rule, allow) {
            problems.push(problem);
        }
        out.push(Allowance {
            rule,
            table: allow.table.as_ref().map(|t| t.get_ref().clone()),
            column: allow.column.as_ref().map(|c| c.get_ref().clone()),
            reason: reason.to_owned(),
            span: spanned.span(),
        });
    }
    out
}

fn unknown_rule(id: &str, span: Span) -> Problem {
    let problem = Problem::new("schema::unknown_rule", span, format!("unknown rule `{id}`"))
        .label("not a rule of `cargo xtask check --against`");
    match Rule::ALL.iter().map(|r| r.id()).find(|known| edit_distance(known, id) <= 3) {
        Some(known) => problem.help(format!("did you mean `{known}`?")),
        None => {
            let ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
            problem.help(format!("the rules are: {}", ids.join(", ")))
        }
    }
}

/// An allowance names exactly what its rule is about: nothing for `[schema]` rules, a table for
/// table rules, a table and optionally a column for column rules.
fn subject_problem(rule: Rule, allow: &raw::Allowance) -> Option<Problem> {
    let id = rule.id();
    let (span, message, help) = match (rule.subject(), &allow.table, &allow.column) {
        (Subject::Schema, Some(written), _) | (Subject::Schema, None, Some(written)) => {
            let field = if allow.table.is_some() { "table" } else { "column" };
            (
                written.span(),
                format!("rule `{id}` is about the whole schema, not a table or column"),
                format!("remove `{field}` from this allowance"),
            )
        }
        (Subject::Table | Subject::Column, None, _) => (
            allow.rule.span(),
            format!("the allowance for `{id}` names no table"),
            "add `table = \"...\"`: an allowance covers one table".to_owned(),
        ),
        (Subject::Table, Some(table), Some(column)) => (
            column.span(),
            format!("rule `{id}` is about table `{}` as a whole, not one column", table.get_ref()),
            "remove `column` from this allowance".to_owned(),
        ),
        _ => return None,
    };
    Some(
        Problem::new("schema::allowance_subject", span, message)
            .label("does not fit the rule")
            .help(help),
    )
}
