//! Problems found in a `schema.toml`, collected all at once and rendered for people (rustc-style,
//! with a snippet) or for CI (GitHub Actions annotations).

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use crate::ir::Span;

/// One mistake in a schema file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// A stable id, such as `schema::unknown_key`.
    pub code: &'static str,
    pub message: String,
    /// Where in the file; `None` only when the file could not be located at all.
    pub span: Option<Span>,
    /// The text under the snippet's caret.
    pub label: String,
    /// Other places the problem involves, each with its own label: the first definition of a
    /// name defined twice.
    pub related: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
            span: Some(span),
            label: "here".into(),
            related: Vec::new(),
            help: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Point at another place the problem involves, such as where a duplicated name is first
    /// defined.
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every problem found in one schema file, with the text needed to show where each one is.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {} problem(s) in the schema", problems.len())]
pub struct SchemaError {
    pub file: String,
    pub source_text: String,
    pub problems: Vec<Problem>,
}

impl SchemaError {
    /// The problems as rustc-style reports with a source snippet, without colours, so the text
    /// is the same in a terminal, a CI log and a golden file.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for problem in &self.problems {
            let mut diag = MietteDiagnostic::new(problem.message.clone()).with_code(problem.code);
            if let Some(span) = &problem.span {
                diag = diag.with_label(LabeledSpan::new_with_span(
                    Some(problem.label.clone()),
                    span.clone(),
                ));
            }
            for (span, label) in &problem.related {
                diag =
                    diag.and_label(LabeledSpan::new_with_span(Some(label.clone()), span.clone()));
            }
            if let Some(help) = &problem.help {
                diag = diag.with_help(help.clone());
            }
            render_one(&mut out, diag, &self.file, &self.source_text);
        }
        let n = self.problems.len();
        let _ = writeln!(
            out,
            "error: {} found {n} problem{} in the schema",
            self.file,
            if n == 1 { "" } else { "s" }
        );
        out
    }

    /// One GitHub Actions `::error` annotation per problem, pointing at its line and column.
    pub fn github_annotations(&self) -> String {
        let mut out = String::new();
        for problem in &self.problems {
            let (line, col) = problem
                .span
                .as_ref()
                .map_or((1, 1), |span| line_col(&self.source_text, span.start));
            let _ = writeln!(
                out,
                "::error file={},line={line},col={col},title={}::{}",
                escape_property(&self.file),
                escape_property(problem.code),
                escape_annotation(&problem.message)
            );
        }
        out
    }

    /// `file:line:column` of a problem, for one-line summaries.
    pub fn position(&self, problem: &Problem) -> String {
        let (line, col) =
            problem.span.as_ref().map_or((1, 1), |span| line_col(&self.source_text, span.start));
        format!("{}:{line}:{col}", self.file)
    }
}

/// One diagnostic as a rustc-style report with a snippet of `text`, without colours, so the
/// text is the same in a terminal, a CI log and a golden file.
pub(crate) fn render_one(out: &mut String, diag: MietteDiagnostic, file: &str, text: &str) {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .with_links(false);
    let report =
        miette::Report::new(diag).with_source_code(NamedSource::new(file, text.to_owned()));
    handler.render_report(out, report.as_ref()).expect("writing to a String cannot fail");
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// GitHub's workflow commands need `%`, CR and LF escaped in the message.
pub(crate) fn escape_annotation(message: &str) -> String {
    message.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// GitHub's workflow commands end their properties at the first `::` and split them at `,`, so
/// a property value (a title such as `schema::invalid_value`, a file name) needs `:` and `,`
/// escaped as well; the runner shows them unescaped.
pub fn escape_property(value: &str) -> String {
    escape_annotation(value).replace(':', "%3A").replace(',', "%2C")
}

/// The number of single-character edits between two words, to suggest the closest known key or
/// rule for a misspelt one.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
