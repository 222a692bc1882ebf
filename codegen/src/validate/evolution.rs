//! `[[evolution.allow]]`: the breaking changes a schema makes on purpose, each with a reason.
//!
//! What can be checked from this version alone is checked here (a known rule, a reason, the
//! right subject for the rule); whether the table or column exists in either version is checked
//! when two versions are compared (`evolve::compare`), since a dropped table exists only in the
//! old one.

use crate::diag::Problem;
use crate::evolve::{Rule, Subject};
use crate::ir::{Allowance, Span};
use crate::load::{Locator, Seg, edit_distance};
use crate::raw;

pub(crate) fn allowances(
    evolution: &raw::Evolution,
    loc: &Locator<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<Allowance> {
    let mut out = Vec::new();
    for (i, allow) in evolution.allow.iter().enumerate() {
        let at = |field: Option<&str>| {
            let mut path = vec![Seg::Key("evolution"), Seg::Key("allow"), Seg::Index(i)];
            path.extend(field.map(Seg::Key));
            loc.find(&path, false)
        };
        let Some(rule) = Rule::from_id(&allow.rule) else {
            problems.push(unknown_rule(&allow.rule, at(Some("rule"))));
            continue;
        };
        if allow.reason.trim().is_empty() {
            problems.push(
                Problem::new(
                    "schema::empty_reason",
                    at(Some("reason")),
                    format!("the allowance for `{}` gives no reason", allow.rule),
                )
                .help("say why this change is safe for the app, so that reviewers can judge it"),
            );
        }
        if let Some(problem) = subject_problem(rule, allow, &at) {
            problems.push(problem);
        }
        out.push(Allowance {
            rule,
            table: allow.table.clone(),
            column: allow.column.clone(),
            reason: allow.reason.trim().to_owned(),
            span: at(None),
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
fn subject_problem(
    rule: Rule,
    allow: &raw::Allowance,
    at: &dyn Fn(Option<&str>) -> Span,
) -> Option<Problem> {
    let id = rule.id();
    let (field, message, help) = match (rule.subject(), &allow.table, &allow.column) {
        (Subject::Schema, Some(_), _) | (Subject::Schema, None, Some(_)) => {
            let field = if allow.table.is_some() { "table" } else { "column" };
            (
                field,
                format!("rule `{id}` is about the whole schema, not a table or column"),
                format!("remove `{field}` from this allowance"),
            )
        }
        (Subject::Table | Subject::Column, None, _) => (
            "rule",
            format!("the allowance for `{id}` names no table"),
            "add `table = \"...\"`: an allowance covers one table".to_owned(),
        ),
        (Subject::Table, Some(table), Some(_)) => (
            "column",
            format!("rule `{id}` is about table `{table}` as a whole, not one column"),
            "remove `column` from this allowance".to_owned(),
        ),
        _ => return None,
    };
    Some(
        Problem::new("schema::allowance_subject", at(Some(field)), message)
            .label("does not fit the rule")
            .help(help),
    )
}
