//! A report for people (rustc-style snippets grouped by class, then a summary) and for CI
//! (GitHub Actions annotations on the new `schema.toml`).

use std::fmt::Write as _;

use miette::{LabeledSpan, MietteDiagnostic, Severity};

use super::{Class, Finding, Place, Report};
use crate::diag::{escape_annotation, escape_property, line_col, render_one};
use crate::ir::Allowance;

const CLASSES: [(Class, &str); 4] = [
    (Class::Breaking, "breaking changes"),
    (Class::Mistake, "mistakes"),
    (Class::NeedsBackfill, "changes that need a backfill"),
    (Class::Safe, "safe changes"),
];

impl Report {
    /// Every finding grouped by class (breaking first; safe ones one line each), the stale
    /// allowances, and a summary that says what to do next.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (class, heading) in CLASSES {
            let group: Vec<&Finding> = self.findings.iter().filter(|f| f.class == class).collect();
            if group.is_empty() {
                continue;
            }
            let allowed = group.iter().filter(|f| f.allowed.is_some()).count();
            let allowed = if allowed > 0 { format!(" ({allowed} allowed)") } else { String::new() };
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "{heading}: {}{allowed}\n", group.len());
            for (i, finding) in group.into_iter().enumerate() {
                if class == Class::Safe {
                    let _ = writeln!(
                        out,
                        "  {}: {} ({})",
                        finding.rule.id(),
                        finding.message,
                        self.position(&finding.place)
                    );
                } else {
                    if i > 0 {
                        out.push('\n');
                    }
                    self.render_finding(&mut out, finding);
                }
            }
        }
        for allowance in &self.stale {
            out.push('\n');
            let diag = MietteDiagnostic::new(stale_message(allowance))
                .with_code("stale_allowance")
                .with_severity(Severity::Warning)
                .with_label(LabeledSpan::new_with_span(
                    Some("matches no change".into()),
                    allowance.span.clone(),
                ))
                .with_help("remove it: the change it allowed is already in the old version");
            render_one(&mut out, diag, &self.new_file, &self.new_text);
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&self.summary());
        out
    }

    fn render_finding(&self, out: &mut String, finding: &Finding) {
        let (severity, help) = match (&finding.allowed, finding.class) {
            (Some(reason), _) => {
                (Severity::Advice, Some(format!("allowed in schema.toml: {reason}")))
            }
            (None, Class::NeedsBackfill) => {
                (Severity::Warning, finding.rule.recipe().map(Into::into))
            }
            (None, _) => (Severity::Error, finding.rule.recipe().map(Into::into)),
        };
        let mut diag = MietteDiagnostic::new(finding.message.clone())
            .with_code(finding.rule.id())
            .with_severity(severity);
        if let Some(help) = help {
            diag = diag.with_help(help);
        }
        match &finding.place {
            Place::New(span) => {
                let diag =
                    diag.with_label(LabeledSpan::new_with_span(Some("here".into()), span.clone()));
                render_one(out, diag, &self.new_file, &self.new_text);
            }
            Place::Removed { old, .. } => {
                let label = format!("removed: this is the old version, {}", self.old_file);
                let diag = diag.with_label(LabeledSpan::new_with_span(Some(label), old.clone()));
                render_one(out, diag, &self.old_file, &self.old_text);
            }
        }
    }

    /// `file:line:column` of a place, in the old file for what was removed.
    fn position(&self, place: &Place) -> String {
        match place {
            Place::New(span) => {
                let (line, col) = line_col(&self.new_text, span.start);
                format!("{}:{line}:{col}", self.new_file)
            }
            Place::Removed { old, .. } => {
                let (line, col) = line_col(&self.old_text, old.start);
                format!("{}:{line}:{col}, removed", self.old_file)
            }
        }
    }

    /// Counts per class, then what the gate decided and what to do about it.
    pub fn summary(&self) -> String {
        let count = |class: Class| self.findings.iter().filter(|f| f.class == class).count();
        let allowed = self.findings.iter().filter(|f| f.allowed.is_some()).count();
        let blocking = self.findings.iter().filter(|f| f.blocks()).count();
        let mut out = format!(
            "summary: {} against {}: {} breaking, {} mistake(s), {} need(s) a backfill, {} safe",
            self.new_file,
            self.old_file,
            count(Class::Breaking),
            count(Class::Mistake),
            count(Class::NeedsBackfill),
            count(Class::Safe)
        );
        if allowed > 0 {
            let _ = write!(out, "; {allowed} allowed");
        }
        if !self.stale.is_empty() {
            let _ = write!(out, "; {} stale allowance(s)", self.stale.len());
        }
        out.push('\n');
        if blocking > 0 {
            let _ = writeln!(
                out,
                "error: {blocking} change(s) would break deployed databases or clients still on \
                 version {}, or are mistakes. Make them in expand/contract steps (see each help), \
                 or allow one on purpose in {} with [[evolution.allow]] rule, table, column and \
                 reason.",
                self.old_version, self.new_file
            );
        } else {
            let _ = writeln!(out, "ok: no change breaks deployed databases or clients");
        }
        out
    }

    /// One GitHub Actions annotation per finding on the new file's line (`::error` for what
    /// blocks, `::warning` for backfills and stale allowances, `::notice` for the rest); a
    /// removed thing is annotated where it was taken from, or on line 1.
    pub fn github_annotations(&self) -> String {
        let mut out = String::new();
        for finding in &self.findings {
            let level = match (finding.blocks(), finding.class) {
                (true, _) => "error",
                (false, Class::NeedsBackfill) if finding.allowed.is_none() => "warning",
                _ => "notice",
            };
            let (span, removed) = match &finding.place {
                Place::New(span) => (Some(span), String::new()),
                Place::Removed { old, anchor } => {
                    let (line, _) = line_col(&self.old_text, old.start);
                    (anchor.as_ref(), format!(" (removed; it was {}:{line})", self.old_file))
                }
            };
            let line = span.map_or(1, |s| line_col(&self.new_text, s.start).0);
            let mut message = format!("{}{removed}", finding.message);
            match (&finding.allowed, finding.rule.recipe()) {
                (Some(reason), _) => {
                    let _ = write!(message, "\nallowed: {reason}");
                }
                (None, Some(recipe)) => {
                    let _ = write!(message, "\n{recipe}");
                }
                (None, None) => {}
            }
            let _ = writeln!(
                out,
                "::{level} file={},line={line},title={}::{}",
                escape_property(&self.new_file),
                finding.rule.id(),
                escape_annotation(&message)
            );
        }
        for allowance in &self.stale {
            let (line, _) = line_col(&self.new_text, allowance.span.start);
            let _ = writeln!(
                out,
                "::warning file={},line={line},title=stale_allowance::{}",
                escape_property(&self.new_file),
                escape_annotation(&stale_message(allowance))
            );
        }
        out
    }
}

fn stale_message(allowance: &Allowance) -> String {
    let on = match (&allowance.table, &allowance.column) {
        (Some(table), Some(column)) => format!(" on `{table}.{column}`"),
        (Some(table), None) => format!(" on `{table}`"),
        _ => String::new(),
    };
    format!("the allowance for `{}`{on} matches no change", allowance.rule.id())
}
