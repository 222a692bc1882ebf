//! The two-device demo (`cargo run -p sync-runtime --example two_devices`) runs and shows what
//! it says: a create reaches the other device, the later of two offline edits wins on both, and
//! a delete disappears from both.

#[expect(dead_code, reason = "the example's `main`: the test calls `run` instead")]
#[path = "../../sync-runtime/examples/two_devices.rs"]
mod two_devices;

use std::collections::BTreeSet;

/// The titles of a device's tunes.
fn titles(tunes: &std::collections::BTreeMap<String, String>) -> BTreeSet<&str> {
    tunes.values().map(String::as_str).collect()
}

#[test]
fn the_two_devices_demo_converges() {
    let mut out = Vec::new();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let steps = runtime.block_on(two_devices::run(&mut out)).expect("the demo runs");
    let out = String::from_utf8(out).expect("UTF-8 output");
    let [created, offline, synced, deleted] = steps.as_slice() else {
        panic!("four steps expected, got {steps:#?}");
    };
    for step in &steps {
        assert!(out.contains(step.caption), "`{}` is printed:\n{out}", step.caption);
    }

    assert_eq!(titles(&created.a), BTreeSet::from(["The Kesh", "Drowsy Maggie"]));
    assert_eq!(created.b, created.a, "B has A's tunes, with the same ids");
    assert_eq!(created.unsynced, (0, 0));

    assert!(titles(&offline.a).contains("The Kesh (A's setting)"), "{offline:?}");
    assert!(titles(&offline.b).contains("The Kesh (B's setting)"), "{offline:?}");
    assert_eq!(offline.unsynced, (1, 1), "each offline edit waits in its outbox");

    assert_eq!(titles(&synced.a), BTreeSet::from(["The Kesh (B's setting)", "Drowsy Maggie"]));
    assert_eq!(synced.b, synced.a, "the later edit wins on both devices");
    assert_eq!(synced.unsynced, (0, 0));

    assert_eq!(titles(&deleted.a), BTreeSet::from(["The Kesh (B's setting)"]));
    assert_eq!(deleted.b, deleted.a, "the deletion reached B");
    assert_eq!(deleted.unsynced, (0, 0));
}
