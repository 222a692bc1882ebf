//! The answer to a sync with its pulled page as the store wrote it, and the response body made
//! from it in pieces: the changes' JSON goes out as it is, each freed once it is sent, so a
//! response never needs a second copy of its page in memory.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::protocol::{Rejected, SyncResponse};
use crate::store::Changes;

/// The pieces of the body are about this large: big enough for few writes, small enough that
/// the one being sent costs little memory next to the page.
const CHUNK_BYTES: usize = 64 * 1024;

/// A [`SyncResponse`] whose changes are still the JSON the store wrote.
#[derive(Debug)]
pub struct Answer {
    pub changes: Changes,
    pub cursor: String,
    pub has_more: bool,
    pub server_time: DateTime<Utc>,
    pub rejected: Vec<Rejected>,
}

/// The fields after `changes`, in the order of [`SyncResponse`].
#[derive(Serialize)]
struct Tail<'a> {
    cursor: &'a str,
    has_more: bool,
    #[serde(with = "::sync_meta::wire::timestamp")]
    server_time: DateTime<Utc>,
    rejected: &'a [Rejected],
}

impl Answer {
    /// The answer with its changes parsed (for callers in process, such as tests).
    pub fn into_response(self) -> Result<SyncResponse, serde_json::Error> {
        Ok(SyncResponse {
            changes: self.changes.decode()?,
            cursor: self.cursor,
            has_more: self.has_more,
            server_time: self.server_time,
            rejected: self.rejected,
        })
    }

    /// The JSON of the response, `{"changes":[...],"cursor":...}` as [`SyncResponse`] prints
    /// it, in pieces of about 64 KiB, and its length in bytes.
    pub fn into_body(self) -> Result<Body, serde_json::Error> {
        let tail = Tail {
            cursor: &self.cursor,
            has_more: self.has_more,
            server_time: self.server_time,
            rejected: &self.rejected,
        };
        let mut tail = serde_json::to_vec(&tail)?;
        // `{"cursor":...}` becomes `],"cursor":...}`: the end of the changes and the rest.
        tail[0] = b',';
        tail.insert(0, b']');
        let head = b"{\"changes\":[";
        let commas = self.changes.len().saturating_sub(1);
        let len = head.len() + self.changes.bytes() + commas + tail.len();
        let mut piece = Vec::with_capacity(CHUNK_BYTES);
        piece.extend_from_slice(head);
        Ok(Body {
            len,
            changes: self.changes.into_json(),
            piece: Some(piece),
            first: true,
            tail: Some(tail),
        })
    }
}

/// The body of an [`Answer`]: an iterator of pieces that make up [`Body::len`] bytes.
pub struct Body {
    len: usize,
    changes: std::vec::IntoIter<String>,
    /// The piece being filled; `None` once the last has been given.
    piece: Option<Vec<u8>>,
    first: bool,
    tail: Option<Vec<u8>>,
}

impl Body {
    /// The length of the whole body, in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Iterator for Body {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let piece = self.piece.as_mut()?;
        for change in self.changes.by_ref() {
            if !std::mem::take(&mut self.first) {
                piece.push(b',');
            }
            piece.extend_from_slice(change.as_bytes());
            if piece.len() >= CHUNK_BYTES {
                let full = std::mem::replace(piece, Vec::with_capacity(CHUNK_BYTES));
                return Some(full);
            }
        }
        let mut last = self.piece.take()?;
        last.extend(self.tail.take().unwrap_or_default());
        Some(last)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn answer(changes: Vec<String>) -> Answer {
        Answer {
            changes: Changes::new(changes),
            cursor: "c".into(),
            has_more: true,
            server_time: DateTime::UNIX_EPOCH,
            rejected: Vec::new(),
        }
    }

    /// The body is the response as serde prints it, whatever the pieces, and as long as it says.
    #[test]
    fn the_body_is_the_response_in_pieces() {
        let big = format!(r#"{{"table":"t","row":{{"x":"{}"}}}}"#, "y".repeat(100_000));
        for changes in [
            vec![],
            vec![r#"{"table":"t","row":{"id":1}}"#.to_owned()],
            vec![big.clone(), r#"{"table":"t","key":{"id":2},"deleted":true}"#.to_owned(), big],
        ] {
            let expected = serde_json::to_vec(&answer(changes.clone()).into_response().unwrap());
            let body = answer(changes).into_body().unwrap();
            let len = body.len();
            let pieces: Vec<Vec<u8>> = body.collect();
            let whole = pieces.concat();
            assert_eq!(whole.len(), len);
            assert_eq!(whole, expected.unwrap());
            assert!(pieces.iter().all(|p| p.len() < 2 * CHUNK_BYTES + 100_100));
        }
        let parsed: serde_json::Value = serde_json::from_slice(
            &answer(vec![]).into_body().unwrap().collect::<Vec<_>>().concat(),
        )
        .unwrap();
        assert_eq!(
            parsed,
            json!({ "changes": [], "cursor": "c", "has_more": true,
                    "server_time": "1970-01-01T00:00:00.000Z", "rejected": [] })
        );
    }
}
