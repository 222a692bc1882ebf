//! Server pokes (docs/sync.md): the server tells a user's devices that their data changed, so they
//! sync now rather than on their next timer, without a third-party realtime service.
//!
//! After the engine commits a push that wrote at least one row, the store announces a [`Poke`]:
//! the Postgres store with `NOTIFY _sync_poke` inside the transaction (delivered only if it
//! commits, to every server instance listening on the database), the SQLite store in process once
//! `COMMIT` succeeded. Writes by other paths (an admin's SQL, a cascade) poke no one: devices see
//! them at their next sync.
//!
//! `GET /api/events` (authenticated like `POST /api/sync`) serves the pokes of the token's user
//! as server-sent events: `event: poke` with `data: {"client_id":"<uuid>"}`, the device whose push
//! caused it (it may ignore its own poke), or `null` when the server does not know, and a
//! keep-alive comment every 15 s. A poke only means "sync": one is never an error to miss or to
//! get twice, so a subscriber that falls behind gets one poke for all it missed. Browsers read the
//! stream with `fetch` (the token travels in the `Authorization` header, which `EventSource`
//! cannot send).
//!
//! [`PokeStream`] (feature `client`) reads that stream.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "client")]
mod reader;
#[cfg(feature = "client")]
mod sse;
#[cfg(feature = "client")]
pub(crate) use self::reader::retry_after;
#[cfg(feature = "client")]
pub use self::reader::{PokeError, PokeStream};

/// The name of `GET /api/events`' events that mean "your data changed: sync".
pub const POKE_EVENT: &str = "poke";

/// A push that wrote rows of `user`, by the device `client_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poke {
    /// The user whose data changed (the JWT subject of the push).
    pub user: String,
    /// The device that pushed, so that it can ignore its own poke.
    pub client_id: Uuid,
}

/// The data of one `poke` event of `GET /api/events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PokeEvent {
    /// The device whose push caused the poke; `None` when the server does not know (it fell
    /// behind and stands in one poke for several).
    pub client_id: Option<Uuid>,
}

impl PokeEvent {
    /// Whether device `me` should sync: a poke caused by its own push brings nothing new.
    pub fn concerns(&self, me: Uuid) -> bool {
        self.client_id != Some(me)
    }
}

#[cfg(feature = "server")]
pub use self::subscription::UserPokes;

#[cfg(feature = "server")]
mod subscription;
