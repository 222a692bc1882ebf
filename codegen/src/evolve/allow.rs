//! `[[evolution.allow]]` against two versions: each allowance names a table that exists in one
//! of them, lets through the findings it matches, and is stale when it matches none (a column
//! that is in neither version only makes it stale: the finding it meant still blocks).

use super::{Finding, Version};
use crate::diag::{Problem, SchemaError};
use crate::ir::{Allowance, Schema};

/// Every allowance of `new` names a table of the old or the new version.
pub(super) fn check_subjects(old: &Schema, new: Version<'_>) -> Result<(), SchemaError> {
    let mut problems = Vec::new();
    for allow in &new.schema.allowances {
        let Some(table) = &allow.table else { continue };
        if old.table(table).is_none() && new.schema.table(table).is_none() {
            let mut names: Vec<&str> = new.schema.tables.iter().map(|t| t.name.as_str()).collect();
            for name in old.tables.iter().map(|t| t.name.as_str()) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            problems.push(
                Problem::new(
                    "schema::unknown_table",
                    allow.span.clone(),
                    format!(
                        "the allowance for `{}` names table `{table}`, which is in neither the old \
                         nor the new version",
                        allow.rule.id()
                    ),
                )
                .label("no such table")
                .help(format!(
                    "the tables are: {}; if the change it allowed is already in the old version, \
                     remove the allowance",
                    names.join(", ")
                )),
            );
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(SchemaError { file: new.file.to_owned(), source_text: new.text.to_owned(), problems })
}

/// Mark each finding an allowance matches as allowed, with its reason; returns the allowances
/// that match nothing.
pub(super) fn apply(findings: &mut [Finding], allowances: &[Allowance]) -> Vec<Allowance> {
    let mut used = vec![false; allowances.len()];
    for finding in findings.iter_mut() {
        if let Some(i) = allowances.iter().position(|a| matches(a, finding)) {
            used[i] = true;
            finding.allowed = Some(allowances[i].reason.clone());
        }
    }
    allowances.iter().zip(used).filter(|(_, used)| !used).map(|(a, _)| a.clone()).collect()
}

fn matches(allow: &Allowance, finding: &Finding) -> bool {
    allow.rule == finding.rule
        && allow.table == finding.table
        && (allow.column.is_none() || allow.column == finding.column)
}
