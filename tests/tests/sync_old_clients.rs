//! Clients of an older schema at a newer server (docs/drift.md, issue 6): through a change old
//! clients can live with (a new nullable column) and `[schema] min_client_version` still at their
//! version, they keep syncing, the server fills what they do not send, and they ignore what they
//! do not know; once `min_client_version` passes their version they get `upgrade_required`.

use std::sync::Arc;

use integration_tests::client::{TestClient, next_example_schema};
use integration_tests::server::{Options, TestServer, runtime, token};
use integration_tests::sync::*;
use serde_json::json;
use sync_runtime::client::{Client, ClientConfig, ClientError};

integration_tests::for_each_store!(
    an_old_client_keeps_syncing_through_a_compatible_change,
    an_old_client_gets_upgrade_required_once_its_version_is_dropped,
);

fn an_old_client_keeps_syncing_through_a_compatible_change<S: TestStore>() {
    let rt = runtime();
    let (schema, ddl) = next_example_schema(4, 3);
    let (store, db) = S::create(&rt, &schema, &ddl);
    let server = rt.block_on(TestServer::start_with(schema.meta, store, Options::default()));
    let url = server.url("");
    let me = user(1);

    // A device still on version 3 creates a tune: the server fills the column it does not know.
    let old = TestClient::open(&url, &me);
    old.execute(&format!(
        "INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{}');
         INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{me}', 'Old', '{}')",
        at(0),
        id(1),
        at(1)
    ));
    rt.block_on(old.client.sync_once()).expect("a version 3 client syncs with a version 4 server");

    // A device on version 4 sees it, and sets the new column.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = ClientConfig::new(&url, token(&me));
    let new = Arc::new(
        Client::open(&dir.path().join("new.db"), schema.meta, &ddl.sqlite, config).expect("open"),
    );
    db.settle();
    rt.block_on(new.sync_once()).expect("a version 4 client syncs");
    let tune = new.rows("tune").expect("rows").pop().expect("the old device's tune");
    assert_eq!((tune["title"].clone(), tune["mode"].clone()), (json!("Old"), json!(null)));
    new.with_db(|conn| {
        conn.execute("UPDATE tune SET mode = 'dorian', last_modified_at = ?1", [at(2)])
    })
    .expect("a local edit");
    rt.block_on(new.sync_once()).expect("push the new column");

    // The old device pulls the row without the column it does not know, edits another column,
    // and the server keeps the new column's value.
    db.settle();
    rt.block_on(old.client.sync_once()).expect("the old client pulls");
    old.execute(&format!("UPDATE tune SET title = 'Old, renamed', last_modified_at = '{}'", at(3)));
    rt.block_on(old.client.sync_once()).expect("the old client pushes an edit");
    db.settle();
    rt.block_on(new.sync_once()).expect("the new client pulls");
    let tune = new.rows("tune").expect("rows").pop().expect("the tune");
    assert_eq!(tune["title"], "Old, renamed");
    assert_eq!(tune["mode"], "dorian", "an old client's edit keeps what it did not send");
    assert_eq!(old.outbox_len(), 0);
    rt.block_on(server.stop());
}

fn an_old_client_gets_upgrade_required_once_its_version_is_dropped<S: TestStore>() {
    let rt = runtime();
    let (schema, ddl) = next_example_schema(5, 5);
    let (store, _db) = S::create(&rt, &schema, &ddl);
    let server = rt.block_on(TestServer::start_with(schema.meta, store, Options::default()));
    let me = user(1);
    let old = TestClient::open(&server.url(""), &me);
    old.execute(&format!(
        "INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{}')",
        at(0)
    ));
    match rt.block_on(old.client.sync_once()) {
        Err(ClientError::UpgradeRequired(message)) => {
            assert!(message.contains("version 3"), "{message}");
        }
        other => panic!("expected upgrade_required, got {other:?}"),
    }
    assert_eq!(old.outbox_len(), 1, "the local write waits for the updated app");
    rt.block_on(server.stop());
}
