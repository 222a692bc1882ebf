//! The sync runtime's integration tests, one test binary (one link instead of one per file); each
//! module is one suite, and its opening comment says what it shows.

mod auth;
mod sqlite_store;
mod sync_server;
mod typescript_client;
