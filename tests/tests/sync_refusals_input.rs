//! End-to-end refusals of bad input (issue 4, docs/sync.md), on both stores: malformed requests
//! sent with a good token to a real server on 127.0.0.1. Each is a 4xx (never a 500) whose body
//! names the problem by its code and, where there is one, the table, key and column; and each
//! writes nothing, although a valid change comes before the bad one in the same request, so a
//! request applied halfway would show in the snapshot of the database.

use integration_tests::server::{Options, Served, request, token};
use integration_tests::sync::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sync_runtime::engine;
use sync_runtime::server::HttpConfig;

integration_tests::for_each_store!(bad_input_is_4xx_naming_the_problem_and_writes_nothing);

#[path = "sync_refusals_input/cases.rs"]
mod cases;

use cases::*;

fn bad_input_is_4xx_naming_the_problem_and_writes_nothing<S: TestStore>() {
    let options = Options {
        engine: engine::Config { max_changes: MAX_CHANGES, ..Default::default() },
        http: HttpConfig { max_body_bytes: MAX_BODY_BYTES, ..Default::default() },
        auth: None,
    };
    let served = Served::start::<S>(options);
    let me = me();
    let authorization = format!("Bearer {}", token(&me));
    let seed = request(None, seed());
    let seeded = served.post(Some(&authorization), seed.to_string());
    assert_eq!(seeded.status, StatusCode::OK, "the seed is accepted: {}", seeded.body);
    assert_eq!(seeded.body["rejected"], json!([]));
    let before = served.snapshot();

    let cases = cases::all();
    // Every case is tried, and the test fails with the list of those that failed.
    let failed: Vec<&str> = cases
        .iter()
        .filter(|case| {
            let check = || check(&served, &authorization, &before, case);
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).is_err()
        })
        .map(|case| case.name)
        .collect();
    assert!(failed.is_empty(), "{} of {} cases failed: {failed:#?}", failed.len(), cases.len());

    // The valid change alone is accepted, so the cases were refused for their bad part.
    let (alone, written) = valid_alone();
    let answer = served.post(Some(&authorization), alone.to_string());
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["rejected"], json!([]));
    assert!(served.snapshot().row("tune", written).is_some(), "the valid change is written");
    served.stop();
}

/// Send `case` and check its answer and that it wrote nothing.
fn check(served: &Served, authorization: &str, before: &Snapshot, case: &Case) {
    let Case { name, status, code, .. } = *case;
    let answer = served.post(Some(authorization), case.body.clone());
    let body = &answer.body;
    assert!(
        answer.status.is_client_error(),
        "{name}: answered {}, not a 4xx: {body}",
        answer.status
    );
    assert_eq!(answer.status, status, "{name}: {body}");
    let error = body["error"].as_object().unwrap_or_else(|| panic!("{name}: no error: {body}"));
    assert_eq!(error["code"], code, "{name}: {body}");
    let field = |name: &str| error.get(name).filter(|v| !v.is_null());
    assert_eq!(field("table").and_then(Value::as_str), case.table, "{name}: the table: {body}");
    let (key, column) = (field("key"), field("column").and_then(Value::as_str));
    assert_eq!(key, case.key.as_ref(), "{name}: the key: {body}");
    assert_eq!(column, case.column, "{name}: the column: {body}");
    let message = error["message"].as_str().unwrap_or_default();
    let column = case.column.map(|c| format!("`{c}`"));
    for words in case.says.iter().chain(column.as_ref()) {
        assert!(message.contains(words), "{name}: the message does not say {words:?}: {message}");
    }
    served.assert_unchanged(before, name);
}
