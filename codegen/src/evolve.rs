//! The breaking-change gate: compare two validated versions of a schema and classify every
//! change for the databases already deployed and the clients still in the field on an older
//! app version (`cargo xtask check --against`).
//!
//! Each [`Finding`] has a stable [`Rule`] id, a [`Class`], a one-line message naming the table
//! and column, and its place in the new `schema.toml` (or in the old one for what was removed).
//! Breaking changes and mistakes fail the gate unless the new schema allows them with
//! `[[evolution.allow]]` and a reason. Comments, constraint names written for legacy databases
//! and column order are not compared: the wire and the stored data do not depend on them.

mod allow;
mod columns;
mod renames;
mod render;
mod rule;
mod tables;
#[cfg(test)]
mod tests;

use crate::diag::SchemaError;
use crate::ir::{Allowance, Schema, Span, TimestampStorage};

pub use crate::ir::Rule;
pub use rule::Class;

/// One version of the schema: the file it was read from (as shown in reports), its text and
/// the schema loaded from it.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub schema: &'a Schema,
}

/// Where a finding points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A span in the new `schema.toml`.
    New(Span),
    /// Something removed: its span in the old file, and the closest place in the new file that
    /// is still there (the table a column was dropped from), if any.
    Removed { old: Span, anchor: Option<Span> },
}

/// One classified change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub class: Class,
    /// The table the change is on; `None` for changes of `[schema]`.
    pub table: Option<String>,
    pub column: Option<String>,
    /// One line naming the table and column.
    pub message: String,
    pub place: Place,
    /// Whether clients that sync see the change, so that `[schema] version` must go up.
    pub client_visible: bool,
    /// The reason of the `[[evolution.allow]]` entry that lets this change through.
    pub allowed: Option<String>,
}

impl Finding {
    /// Whether the finding fails the gate: a breaking change or a mistake, not allowed.
    pub fn blocks(&self) -> bool {
        self.class.blocks() && self.allowed.is_none()
    }
}

/// Every change between two versions, with what is needed to show where each one is.
#[derive(Debug, Clone)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Allowances that match no change (left over from an earlier release): warnings.
    pub stale: Vec<Allowance>,
    old_file: String,
    old_text: String,
    old_version: u32,
    new_file: String,
    new_text: String,
}

impl Report {
    /// Whether the gate passes: no breaking change or mistake that `schema.toml` does not allow.
    pub fn passes(&self) -> bool {
        !self.findings.iter().any(Finding::blocks)
    }
}

/// Classify every change from `old` to `new`. Fails when an allowance of `new` names a table or
/// column that exists in neither version, with the problems located in the new file.
pub fn compare(old: Version<'_>, new: Version<'_>) -> Result<Report, SchemaError> {
    allow::check_subjects(old.schema, new)?;
    let mut findings = Findings::default();
    if old.schema.timestamp_storage != new.schema.timestamp_storage {
        findings.push(
            Rule::ChangeTimestampStorage,
            About::schema(),
            Place::New(new.schema.timestamp_storage_span.clone()),
            format!(
                "`[schema] timestamp_storage` changes from {} to {}: every timestamp on every \
                 device is stored differently",
                storage(old.schema.timestamp_storage),
                storage(new.schema.timestamp_storage)
            ),
        );
    }
    // Renames first, then everything else between the old version under the new names and
    // the new one.
    let renamed = crate::rename::renamed(old.schema, new.schema);
    renames::findings(&renamed, old.schema, new.schema, &mut findings);
    tables::compare(&renamed.old, new.schema, &mut findings);
    version(old.schema, new.schema, &mut findings);
    let mut findings = findings.0;
    let stale = allow::apply(&mut findings, &new.schema.allowances);
    Ok(Report {
        findings,
        stale,
        old_file: old.file.to_owned(),
        old_text: old.text.to_owned(),
        old_version: old.schema.version,
        new_file: new.file.to_owned(),
        new_text: new.text.to_owned(),
    })
}

fn storage(storage: TimestampStorage) -> &'static str {
    match storage {
        TimestampStorage::Text => "text",
        TimestampStorage::Integer => "integer",
    }
}

/// The version must go up with every change clients see, and never go down.
fn version(old: &Schema, new: &Schema, findings: &mut Findings) {
    let place = Place::New(new.version_span.clone());
    if new.version < old.version {
        let message =
            format!("`[schema] version` goes down from {} to {}", old.version, new.version);
        findings.push(Rule::VersionDecreased, About::schema(), place, message);
        return;
    }
    let visible: Vec<&Finding> = findings.0.iter().filter(|f| f.client_visible).collect();
    if new.version == old.version && !visible.is_empty() {
        let mut rules: Vec<&str> = Vec::new();
        for id in visible.iter().map(|f| f.rule.id()) {
            if !rules.contains(&id) {
                rules.push(id);
            }
        }
        let message = format!(
            "`[schema] version` stays at {} although clients see {} change{} ({})",
            new.version,
            visible.len(),
            if visible.len() == 1 { "" } else { "s" },
            rules.join(", ")
        );
        findings.push(Rule::VersionNotBumped, About::schema(), place, message);
    }
    // Allowed or not, a breaking change breaks the clients of the old version: the server must
    // stop syncing them.
    let mut breaking: Vec<&str> = Vec::new();
    for finding in findings.0.iter().filter(|f| f.class == Class::Breaking) {
        if !breaking.contains(&finding.rule.id()) {
            breaking.push(finding.rule.id());
        }
    }
    if !breaking.is_empty() && new.min_client_version <= old.version {
        let message = format!(
            "`[schema] min_client_version` is {}, so the server still syncs clients of version {} \
             although this change breaks them ({})",
            new.min_client_version,
            old.version,
            breaking.join(", ")
        );
        let place = Place::New(new.min_client_version_span.clone());
        findings.push(Rule::MinClientVersionTooLow, About::schema(), place, message);
    }
}

/// What a finding is about: the table and column, and whether some client syncs the table.
#[derive(Debug, Clone, Default)]
struct About<'a> {
    table: Option<&'a str>,
    column: Option<&'a str>,
    synced: bool,
}

impl<'a> About<'a> {
    fn schema() -> Self {
        About::default()
    }
}

/// Findings in the order they are found.
#[derive(Debug, Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn push(&mut self, rule: Rule, about: About<'_>, place: Place, message: String) {
        self.0.push(Finding {
            rule,
            class: rule.class(about.synced),
            table: about.table.map(str::to_owned),
            column: about.column.map(str::to_owned),
            message,
            place,
            client_visible: about.synced && rule.client_visible(),
            allowed: None,
        });
    }
}
