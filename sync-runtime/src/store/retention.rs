//! Tombstone retention (docs/server.md): a task of the server that prunes tombstones older than a
//! window, in small batches, so that `_sync_tombstone` does not grow for ever.
//!
//! Each store records how far it pruned and refuses a pull whose cursor is older than that with
//! `resync_required` (see `postgres/retention.rs` and `sqlite/retention.rs` for what "older" means
//! with each store's cursors); clients then pull everything again. The window is therefore how
//! long a device may stay offline and still catch up by pulling only what changed.
//!
//! Every batch that deletes a tombstone also counts one prune (`_sync_pruned.prunes`), and every
//! cursor carries the count read before its page was read ([`tag`]): a cursor older than the
//! pruned point is still served while no prune happened since it was issued, which lets a pull
//! from a null cursor (a resync, a new device) page through old rows without being refused.

use std::sync::Arc;
use std::time::Duration;

use super::{Store, StoreError};

/// A cursor as a store issues it: its position, `~`, and the store's prune count read before the
/// page's rows were read.
pub(crate) fn tag(position: &str, prunes: i64) -> String {
    format!("{position}~{prunes}")
}

/// A cursor's position and prune count; a cursor issued before the count existed has none, and
/// is all position. Positions never end in `~` and digits, so the split is unambiguous.
pub(crate) fn untag(cursor: &str) -> (&str, Option<i64>) {
    match cursor.rsplit_once('~') {
        Some((position, count)) if count.bytes().all(|b| b.is_ascii_digit()) => {
            count.parse().map_or((cursor, None), |count| (position, Some(count)))
        }
        _ => (cursor, None),
    }
}

/// How long tombstones are kept by default: 90 days.
pub const DEFAULT_KEEP: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// How many tombstones one prune transaction deletes at most.
pub const DEFAULT_BATCH: usize = 1000;

/// How tombstones are pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Tombstones older than this are pruned.
    pub keep: Duration,
    /// How often the task looks for tombstones to prune.
    pub every: Duration,
    /// The most tombstones one transaction deletes, so that no prune holds locks for long.
    pub batch: usize,
}

impl Retention {
    /// Keep tombstones for `keep`, looking every quarter of that (between 1 s and a minute).
    pub fn keeping(keep: Duration) -> Self {
        let every = (keep / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        Retention { keep, every, batch: DEFAULT_BATCH }
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention::keeping(DEFAULT_KEEP)
    }
}

/// Prune every tombstone older than the window, batch after batch, until a batch comes back
/// short; returns how many were pruned.
pub async fn prune_all<S: Store>(store: &S, retention: &Retention) -> Result<usize, StoreError> {
    let mut pruned = 0;
    loop {
        let deleted = store.prune(retention.keep, retention.batch).await?;
        pruned += deleted;
        if deleted < retention.batch {
            return Ok(pruned);
        }
        // Each batch is its own transaction; let requests in between.
        tokio::task::yield_now().await;
    }
}

/// Prune in the background every `retention.every` until the task is aborted (or the runtime
/// ends). Failures are logged and tried again next time: a database away for a while only
/// delays pruning.
pub fn spawn<S: Store>(store: Arc<S>, retention: Retention) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(retention.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match prune_all(&*store, &retention).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(
                    pruned,
                    keep_secs = retention.keep.as_secs(),
                    "pruned tombstones older than the retention window"
                ),
                Err(error) => {
                    tracing::warn!(%error, "pruning tombstones failed; trying again later")
                }
            }
        }
    })
}

/// A duration as the flag takes it: a whole number followed by `s`, `m`, `h` or `d`
/// (`90d`, `12h`), or `off` for none.
pub fn parse_window(text: &str) -> Result<Option<Duration>, String> {
    if text == "off" {
        return Ok(None);
    }
    let bad = || {
        format!(
            "`{text}` is not a duration: write a whole number and a unit, s, m, h or d (`30d`, \
             `12h`), or `off` to keep tombstones for ever"
        )
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => return Err(bad()),
    };
    if number == 0 {
        return Err(format!("`{text}`: the retention window must be at least 1s"));
    }
    number.checked_mul(unit).map(|s| Some(Duration::from_secs(s))).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_cursor_splits_back_into_its_position_and_count() {
        for position in ["s0", "1234", r#"77:3:["a~1",1]"#] {
            assert_eq!(untag(&tag(position, 7)), (position, Some(7)));
        }
        for untagged in
            ["s5", r#"9:0:["t",{"id":"x~1"}]"#, "s5~", "s5~x", "s5~99999999999999999999"]
        {
            assert_eq!(untag(untagged), (untagged, None), "{untagged}");
        }
    }

    #[test]
    fn windows_are_a_number_and_a_unit_or_off() {
        assert_eq!(parse_window("90d"), Ok(Some(DEFAULT_KEEP)));
        assert_eq!(parse_window("12h"), Ok(Some(Duration::from_secs(12 * 3600))));
        assert_eq!(parse_window("15m"), Ok(Some(Duration::from_secs(900))));
        assert_eq!(parse_window("2s"), Ok(Some(Duration::from_secs(2))));
        assert_eq!(parse_window("off"), Ok(None));
        for bad in ["", "d", "30", "30 d", "1.5d", "-1d", "30w", "0s", "99999999999999999999d"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_task_looks_a_quarter_of_the_window_apart_within_bounds() {
        assert_eq!(Retention::default().every, Duration::from_secs(60));
        assert_eq!(Retention::keeping(Duration::from_secs(8)).every, Duration::from_secs(2));
        assert_eq!(Retention::keeping(Duration::from_secs(1)).every, Duration::from_secs(1));
    }
}
