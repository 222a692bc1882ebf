//! The client side of `GET /api/events`: connect with the user's token, then read pokes as they
//! come.

use std::collections::VecDeque;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};

use super::sse::{Event, Parser};
use super::{POKE_EVENT, PokeEvent};

/// Why the event stream could not be opened or read. Each one ends the stream: connect again
/// (after a pause) to go on.
#[derive(Debug, thiserror::Error)]
pub enum PokeError {
    #[error("cannot reach the event stream {url}: {source}")]
    Connect { url: String, source: reqwest::Error },
    /// `retry_after` is the answer's `Retry-After`: the client's listener waits at least that
    /// long before it connects again.
    #[error("GET {url} answered {status}: {body}")]
    Status { url: String, status: StatusCode, body: String, retry_after: Option<Duration> },
    #[error(
        "GET {url} answered `{content_type}`, not `text/event-stream`: is it the sync server's \
         /api/events?"
    )]
    NotEventStream { url: String, content_type: String },
    #[error("the event stream {url} broke: {source}")]
    Read { url: String, source: reqwest::Error },
    #[error("a poke of {url} is not `{{\"client_id\": <uuid or null>}}` ({reason}): {data}")]
    Malformed { url: String, data: String, reason: serde_json::Error },
}

/// The wait an answer's `Retry-After` asks for, in its delta-seconds form (what the sync server
/// sends with 429 and 503); an HTTP date or a malformed value is ignored, and the client's
/// backoff alone applies. The sync requests of the client read it too.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse().ok().map(Duration::from_secs)
}

/// The most of an error answer's body a [`PokeError::Status`] quotes.
const QUOTED_BODY: usize = 500;

/// An open `GET /api/events` stream of one user's pokes.
#[derive(Debug)]
pub struct PokeStream {
    url: String,
    response: reqwest::Response,
    parser: Parser,
    ready: VecDeque<Event>,
}

impl PokeStream {
    /// Open the event stream at `events_url` (`https://host/api/events`) with `bearer` as the
    /// token. Once this returns, the server has subscribed: every later push of the user pokes
    /// this stream. `http` must have no overall request timeout, which would cut the stream.
    pub async fn connect(
        http: &reqwest::Client,
        events_url: &str,
        bearer: &str,
    ) -> Result<PokeStream, PokeError> {
        let url = events_url.to_owned();
        let response = match http
            .get(events_url)
            .bearer_auth(bearer)
            .header(ACCEPT, "text/event-stream")
            .send()
            .await
        {
            Ok(response) => response,
            Err(source) => return Err(PokeError::Connect { url, source }),
        };
        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after(response.headers());
            let mut body = response.text().await.unwrap_or_default();
            if body.len() > QUOTED_BODY {
                let end = (0..=QUOTED_BODY).rev().find(|&i| body.is_char_boundary(i)).unwrap_or(0);
                body.truncate(end);
                body.push_str("...");
            }
            return Err(PokeError::Status { url, status, body, retry_after });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if !content_type.trim_start().starts_with("text/event-stream") {
            return Err(PokeError::NotEventStream { url, content_type });
        }
        Ok(PokeStream { url, response, parser: Parser::default(), ready: VecDeque::new() })
    }

    /// The next poke; `None` when the server ended the stream (it is shutting down, say).
    /// After `None` or an error, connect again. Cancel-safe: dropping the future loses nothing,
    /// so it can wait in a `select!` next to a shutdown signal.
    pub async fn next(&mut self) -> Option<Result<PokeEvent, PokeError>> {
        loop {
            while let Some(event) = self.ready.pop_front() {
                // Other events are for later versions of the server.
                if event.name == POKE_EVENT {
                    return Some(serde_json::from_str(&event.data).map_err(|reason| {
                        PokeError::Malformed { url: self.url.clone(), data: event.data, reason }
                    }));
                }
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.parser.feed(&chunk, &mut self.ready),
                Ok(None) => return None,
                Err(source) => return Some(Err(PokeError::Read { url: self.url.clone(), source })),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_delta_seconds_only() {
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, value.parse().unwrap());
            headers
        };
        assert_eq!(retry_after(&headers("3")), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(&headers(" 0 ")), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
