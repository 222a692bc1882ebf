//! The unified diff `cargo xtask check` prints for a stale generated file, bounded: the lines
//! both versions share at the start and at the end are skipped in linear time, and a differing
//! middle too large to diff line by line (a first `check` after a big schema change) is shown as
//! its first lines on each side and a count, instead of minutes of work.

use similar::TextDiff;

/// The most lines (on disk and expected, together) of a differing middle that are diffed line
/// by line; the diff's cost grows with the square of this.
const MAX_DIFFED_LINES: usize = 2_000;

/// Lines of each side a diff too large to compute shows.
const SHOWN_LINES: usize = 20;

/// Lines of context around a change.
const CONTEXT: usize = 3;

/// A stale file's diff, from the file on disk (`old`) to the expected contents (`new`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The unified diff, with `path` in its headers.
    pub text: String,
    /// The first line (1-based) of the file on disk that differs, or the line after its end
    /// when lines are only added there.
    pub first_line: usize,
}

/// The diff of `old` to `new`, which differ, as messages show file `path`.
pub fn unified(path: &str, old: &str, new: &str) -> Diff {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = old_lines.iter().zip(&new_lines).take_while(|(a, b)| a == b).count();
    let suffix = old_lines[prefix..]
        .iter()
        .rev()
        .zip(new_lines[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_middle = &old_lines[prefix..old_lines.len() - suffix];
    let new_middle = &new_lines[prefix..new_lines.len() - suffix];
    let first_line = prefix + 1;
    let (on_disk, expected) = (format!("{path} (on disk)"), format!("{path} (from schema.toml)"));
    if old_middle.len() + new_middle.len() <= MAX_DIFFED_LINES {
        let text = TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(CONTEXT)
            .header(&on_disk, &expected)
            .to_string();
        return Diff { text, first_line };
    }
    let context = &old_lines[prefix.saturating_sub(CONTEXT)..prefix];
    let mut text = format!(
        "--- {on_disk}\n+++ {expected}\n@@ -{},{} +{},{} @@\n",
        first_line - context.len(),
        context.len() + old_middle.len(),
        first_line - context.len(),
        context.len() + new_middle.len(),
    );
    let mut push = |mark: char, line: &str| {
        text.push(mark);
        text.push_str(line);
        if !line.ends_with('\n') {
            text.push('\n');
        }
    };
    context.iter().for_each(|line| push(' ', line));
    old_middle.iter().take(SHOWN_LINES).for_each(|line| push('-', line));
    new_middle.iter().take(SHOWN_LINES).for_each(|line| push('+', line));
    text.push_str(&format!(
        "... {} line(s) on disk and {} from schema.toml differ from line {first_line} on: \
         too many to diff line by line, the first {SHOWN_LINES} of each are shown\n",
        old_middle.len(),
        new_middle.len(),
    ));
    Diff { text, first_line }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_change_is_a_unified_diff_with_context() {
        let diff = unified("f", "a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(diff.first_line, 2);
        assert_eq!(
            diff.text,
            "--- f (on disk)\n+++ f (from schema.toml)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }

    #[test]
    fn lines_added_at_the_end_start_after_the_last_line() {
        assert_eq!(unified("f", "a\n", "a\nb\n").first_line, 2);
    }

    #[test]
    fn a_huge_change_shows_its_first_lines_and_a_count() {
        let old: String = (0..50_000).map(|i| format!("old {i}\n")).collect();
        let new: String = (0..30_000).map(|i| format!("new {i}\n")).collect();
        let (old, new) = (format!("same\n{old}end\n"), format!("same\n{new}end\n"));
        let started = std::time::Instant::now();
        let diff = unified("f", &old, &new);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(diff.first_line, 2);
        assert!(diff.text.starts_with("--- f (on disk)\n+++ f (from schema.toml)\n"));
        assert!(diff.text.contains("@@ -1,50001 +1,30001 @@\n same\n-old 0\n"), "{}", diff.text);
        assert!(diff.text.contains("-old 19\n+new 0\n"), "{}", diff.text);
        assert!(!diff.text.contains("old 20\n"), "{}", diff.text);
        assert!(diff.text.ends_with(
            "... 50000 line(s) on disk and 30000 from schema.toml differ from line 2 on: \
             too many to diff line by line, the first 20 of each are shown\n"
        ));
    }
}
