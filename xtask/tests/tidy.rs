//! Tidiness of the repository as a whole: its text points readers only at documents it carries
//! (the user documentation in `docs/`), and the links between those documents resolve.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Folders that hold build output or installed packages, not the repository's own text.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Every file of the repository that is UTF-8 text, with its contents.
fn text_files(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_ref()) {
                text_files(&path, out);
            }
        } else if let Ok(text) = fs::read_to_string(&path) {
            out.push((path, text));
        }
    }
}

/// Whether `line` names the design document this repository was built from: users of the
/// repository do not have it, so a pointer to it explains nothing. The needle is built from
/// parts so that this file does not match itself.
fn points_outside(line: &str) -> bool {
    let needle = ["DES", "IGN"].concat();
    line.match_indices(&needle).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

#[test]
fn no_pointer_to_a_document_the_repository_does_not_carry() {
    let root = root();
    let mut files = Vec::new();
    text_files(&root, &mut files);
    let mut found = Vec::new();
    for (path, text) in &files {
        for (i, line) in text.lines().enumerate() {
            if points_outside(line) {
                let rel = path.strip_prefix(&root).unwrap().display();
                found.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "point to the page of docs/ that says it instead (docs/README.md lists them):\n{}",
        found.join("\n")
    );
}

/// A heading's anchor as GitHub makes it: lower case, punctuation other than `-` and `_`
/// dropped, spaces turned into `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The text of a Markdown file outside its fenced code blocks.
fn prose(text: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The targets of the inline links `[text](target)` in `prose`.
fn link_targets(prose: &str) -> Vec<&str> {
    prose
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &prose[at + 2..];
            rest.find(')').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn links_between_the_documents_resolve() {
    let root = root();
    let mut documents = vec![root.join("README.md")];
    for entry in fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            documents.push(path);
        }
    }
    let mut broken = Vec::new();
    for document in &documents {
        let prose = prose(&fs::read_to_string(document).unwrap());
        for target in link_targets(&prose) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
            let file = if path.is_empty() {
                document.clone()
            } else {
                document.parent().unwrap().join(path)
            };
            let rel = document.strip_prefix(&root).unwrap().display();
            if !file.exists() {
                broken.push(format!("{rel}: {target}: no such file"));
                continue;
            }
            if fragment.is_empty() {
                continue;
            }
            let headings: HashSet<String> = prose_of(&file)
                .lines()
                .filter(|l| l.starts_with('#'))
                .map(|l| anchor(l.trim_start_matches('#')))
                .collect();
            if !headings.contains(fragment) {
                broken.push(format!("{rel}: {target}: no heading with that anchor"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

fn prose_of(file: &Path) -> String {
    prose(&fs::read_to_string(file).unwrap_or_default())
}
