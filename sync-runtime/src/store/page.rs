//! A pull page bounded in changes and in bytes, built from several sources (each table, and the
//! tombstones) that each come in the pull's order, so that the server never holds more than
//! about one page's worth of encoded changes, however large the sources are.
//!
//! A page is the longest prefix of the merged order of every source's changes that holds at
//! most `changes` changes and at most `bytes` bytes of JSON, but never less than one change: a
//! single change larger than the budget is served alone, so paging always moves on. Sources are
//! read one after the other; while one is read, the changes already taken from the others stay
//! sorted, and a new change is placed among them by its position. As soon as a change cannot be
//! in the page (what comes before it already fills the page), neither can anything after it:
//! the source stops there, the changes of other sources after it are dropped, and its position
//! becomes the page's ceiling, which later sources are read below. Memory is therefore the
//! page itself plus one change, and `has_more` is true exactly when a change was left out.

use std::fmt;
use std::ops::Index;

use crate::protocol::PulledChange;

/// How large a page may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit {
    /// The most changes in a page.
    pub changes: usize,
    /// The most bytes of JSON of the changes of a page, unless a single change is larger.
    pub bytes: usize,
}

/// The changes of a page in the pull's order, each the JSON text of one [`PulledChange`], as the
/// store wrote it: the server sends them as they are, and only tests parse them.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Changes {
    items: Vec<String>,
    bytes: usize,
}

impl Changes {
    /// Changes from their JSON texts, in order.
    pub fn new(items: Vec<String>) -> Self {
        let bytes = items.iter().map(String::len).sum();
        Changes { items, bytes }
    }

    /// How many changes.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The bytes of JSON of all changes together.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Each change's JSON, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(String::as_str)
    }

    /// The changes, parsed.
    pub fn decode(&self) -> Result<Vec<PulledChange>, serde_json::Error> {
        self.iter().map(serde_json::from_str).collect()
    }

    /// Each change's JSON, in order, freed as it is taken.
    pub fn into_json(self) -> std::vec::IntoIter<String> {
        self.items.into_iter()
    }
}

impl Index<usize> for Changes {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        &self.items[i]
    }
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.items.join(","))
    }
}

/// One change taken for a page: its position `at` in the pull's order, and its JSON. Changes of
/// one source share no position with another source's (the source is part of it).
pub(crate) struct Entry<P> {
    pub at: P,
    pub json: String,
}

/// A page being built; see the module's documentation.
pub(crate) struct Builder<P> {
    limit: PageLimit,
    /// The changes taken so far, in order.
    entries: Vec<Entry<P>>,
    bytes: usize,
    /// No change at or after this position can be in the page.
    ceiling: Option<P>,
    has_more: bool,
}

impl<P: Ord + Copy> Builder<P> {
    pub fn new(limit: PageLimit) -> Self {
        let limit = PageLimit { changes: limit.changes.max(1), bytes: limit.bytes };
        Builder { limit, entries: Vec::new(), bytes: 0, ceiling: None, has_more: false }
    }

    /// The position no change of the page reaches: read sources below it.
    pub fn ceiling(&self) -> Option<P> {
        self.ceiling
    }

    /// Start reading the next source.
    pub fn source(&mut self) -> Source<'_, P> {
        Source { builder: self, new: Vec::new(), new_bytes: 0, before: 0, before_bytes: 0 }
    }

    /// The page's changes, in order, with their positions, and whether more are waiting.
    pub fn finish(self) -> (Vec<Entry<P>>, bool) {
        (self.entries, self.has_more)
    }

    /// A change at `at` exists and is not in the page.
    fn beyond(&mut self, at: P) {
        self.has_more = true;
        self.ceiling = Some(self.ceiling.map_or(at, |c| c.min(at)));
    }
}

/// The changes of one source, in its order, joining a [`Builder`].
pub(crate) struct Source<'b, P: Ord + Copy> {
    builder: &'b mut Builder<P>,
    /// This source's changes taken so far.
    new: Vec<Entry<P>>,
    new_bytes: usize,
    /// How many of the builder's changes come before the last change offered, and their bytes.
    before: usize,
    before_bytes: usize,
}

impl<P: Ord + Copy> Source<'_, P> {
    /// The position no change of the page reaches, as it stands now.
    pub fn ceiling(&self) -> Option<P> {
        self.builder.ceiling
    }

    /// Whether a change at `at` (after every change of this source offered so far) may still
    /// be in the page. Once it may not, nothing later of this source may either: stop reading.
    pub fn wants(&mut self, at: P) -> bool {
        if self.builder.ceiling.is_some_and(|c| at >= c) {
            return false;
        }
        let entries = &self.builder.entries;
        while self.before < entries.len() && entries[self.before].at < at {
            self.before_bytes += entries[self.before].json.len();
            self.before += 1;
        }
        if self.before + self.new.len() >= self.builder.limit.changes {
            self.cut(at);
            return false;
        }
        true
    }

    /// Take the change at `at`, which [`wants`](Self::wants) accepted. False when it does not
    /// fit in the page's bytes: it is left out, and the source must stop.
    pub fn push(&mut self, at: P, json: String) -> bool {
        let taken = self.before + self.new.len();
        if taken > 0 && self.before_bytes + self.new_bytes + json.len() > self.builder.limit.bytes {
            self.cut(at);
            return false;
        }
        self.new_bytes += json.len();
        self.new.push(Entry { at, json });
        // The builder's changes after this one may no longer fit: the last ones go first.
        let builder = &mut *self.builder;
        while builder.entries.len() > self.before
            && (builder.entries.len() + self.new.len() > builder.limit.changes
                || builder.bytes + self.new_bytes > builder.limit.bytes)
        {
            let last = builder.entries.pop().expect("more entries than `before`");
            builder.bytes -= last.json.len();
            builder.beyond(last.at);
        }
        true
    }

    /// The change at `at` is not in the page, so nothing after it is.
    fn cut(&mut self, at: P) {
        let builder = &mut *self.builder;
        builder.entries.truncate(self.before);
        builder.bytes = self.before_bytes;
        builder.beyond(at);
    }

    /// Merge this source's changes into the page.
    pub fn finish(self) {
        if self.new.is_empty() {
            return;
        }
        let builder = self.builder;
        let old = std::mem::take(&mut builder.entries);
        let mut merged = Vec::with_capacity(old.len() + self.new.len());
        let (mut old, mut new) = (old.into_iter().peekable(), self.new.into_iter().peekable());
        loop {
            let take_old = match (old.peek(), new.peek()) {
                (Some(o), Some(n)) => o.at < n.at,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let next = if take_old { old.next() } else { new.next() };
            merged.extend(next);
        }
        builder.entries = merged;
        builder.bytes += self.new_bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a page from sources of `(position, size)` changes, each read until it stops.
    fn page(limit: PageLimit, sources: &[&[(u32, usize)]]) -> (Vec<u32>, bool, Option<u32>) {
        let mut builder = Builder::new(limit);
        for changes in sources {
            let mut source = builder.source();
            for &(at, size) in *changes {
                if !source.wants(at) || !source.push(at, "x".repeat(size)) {
                    break;
                }
            }
            source.finish();
        }
        let ceiling = builder.ceiling();
        let (entries, more) = builder.finish();
        (entries.iter().map(|e| e.at).collect(), more, ceiling)
    }

    /// The page as the definition says: the merged order's longest prefix within the limits.
    fn expected(limit: PageLimit, sources: &[&[(u32, usize)]]) -> (Vec<u32>, bool) {
        let mut all: Vec<(u32, usize)> = sources.iter().flat_map(|s| s.iter().copied()).collect();
        all.sort();
        let (mut taken, mut bytes) = (Vec::new(), 0);
        for &(at, size) in &all {
            if taken.len() == limit.changes || (!taken.is_empty() && bytes + size > limit.bytes) {
                break;
            }
            taken.push(at);
            bytes += size;
        }
        let more = taken.len() < all.len();
        (taken, more)
    }

    #[test]
    fn pages_are_the_longest_prefix_within_both_limits() {
        let limit = PageLimit { changes: 4, bytes: 10 };
        let cases: &[&[&[(u32, usize)]]] = &[
            &[&[(1, 2), (4, 2)], &[(2, 2), (3, 2), (5, 2)]],
            &[&[(10, 3), (11, 3), (12, 3)], &[(1, 3), (2, 3)]],
            &[&[(5, 20)], &[(6, 1)]],
            &[&[(5, 20)], &[(1, 1)]],
            &[&[(1, 1), (2, 1), (3, 1)], &[(4, 1), (5, 1)], &[(0, 9)]],
            &[&[], &[(3, 10)], &[(1, 1)]],
            &[&[(1, 5), (3, 5)], &[(2, 1)]],
        ];
        for sources in cases {
            let (got, more, _) = page(limit, sources);
            let (want, want_more) = expected(limit, sources);
            assert_eq!(got, want, "{sources:?}");
            assert_eq!(more, want_more, "{sources:?}: has_more");
        }
    }

    #[test]
    fn the_ceiling_bounds_later_sources() {
        let limit = PageLimit { changes: 2, bytes: 100 };
        let (got, more, ceiling) = page(limit, &[&[(1, 1), (5, 1), (9, 1)]]);
        assert_eq!((got, more, ceiling), (vec![1, 5], true, Some(9)));
        let (got, more, ceiling) = page(limit, &[&[(1, 1), (5, 1)], &[(2, 1)]]);
        assert_eq!((got, more, ceiling), (vec![1, 2], true, Some(5)));
    }
}
