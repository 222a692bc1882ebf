//! No message of `cargo xtask` shows a database password, whichever way the URL carries it
//! (`user:pw@host` or `?password=pw`) and whichever command reads it: the unreachable or
//! unsupported URLs below fail, and the failure names the URL redacted.

use std::process::{Command, Output};

const SECRET: &str = "hunter2";

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().unwrap()
}

#[test]
fn no_command_shows_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("schema.toml");
    let out = out.to_str().unwrap();
    // Port 1 on the loopback refuses connections at once.
    let urls = [
        ("postgres://me:hunter2@127.0.0.1:1/db", "postgres://me:***@127.0.0.1:1/db"),
        (
            "postgres://me@127.0.0.1:1/db?password=hunter2",
            "postgres://me@127.0.0.1:1/db?password=***",
        ),
        (
            "mysql://me:hunter2@127.0.0.1/db?password=hunter2",
            "mysql://me:***@127.0.0.1/db?password=***",
        ),
    ];
    for (url, shown) in urls {
        for args in [
            vec!["check", "--database-url", url],
            vec!["import", "--database-url", url, "--out", out],
        ] {
            let output = xtask(&args);
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
            assert!(stderr.contains(shown), "{args:?} names the URL redacted: {stderr}");
            for text in [&stdout, &stderr] {
                assert!(!text.contains(SECRET), "{args:?} shows the password: {text}");
            }
        }
    }
}
