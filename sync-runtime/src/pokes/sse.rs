//! Reading server-sent events from bytes as they arrive: `field: value` lines, an event ended by
//! a blank line, comments (`:` lines) and unknown fields ignored, a line possibly split across
//! chunks. Line ends may be `\n`, `\r\n` or `\r`, as the format allows.

use std::collections::VecDeque;

/// One event: its name (`message` when it has no `event:` line) and its data lines joined by
/// `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Event {
    pub name: String,
    pub data: String,
}

/// The state between chunks: the line read so far and the event it belongs to.
#[derive(Debug, Default)]
pub(super) struct Parser {
    line: Vec<u8>,
    name: Option<String>,
    data: Vec<String>,
    /// The last byte was a `\r`, so a `\n` right after it ends no second line.
    after_cr: bool,
}

impl Parser {
    /// Read `chunk`, appending every event it completes to `events`.
    pub fn feed(&mut self, chunk: &[u8], events: &mut VecDeque<Event>) {
        for &byte in chunk {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line_ended(&String::from_utf8_lossy(&line), events);
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(byte);
                }
            }
        }
    }

    fn line_ended(&mut self, line: &str, events: &mut VecDeque<Event>) {
        if line.is_empty() {
            let name = self.name.take();
            // An event without data is dispatched as nothing, as browsers do.
            if !self.data.is_empty() {
                let data = std::mem::take(&mut self.data).join("\n");
                events.push_back(Event { name: name.unwrap_or_else(|| "message".into()), data });
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.name = Some(value.to_owned()),
            "data" => self.data.push(value.to_owned()),
            // `id` and `retry` steer browsers' reconnection; pokes need neither.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<(String, String)> {
        let mut parser = Parser::default();
        let mut out = VecDeque::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out);
        }
        out.into_iter().map(|e| (e.name, e.data)).collect()
    }

    fn event(name: &str, data: &str) -> (String, String) {
        (name.to_owned(), data.to_owned())
    }

    #[test]
    fn several_events_in_one_chunk() {
        let stream =
            b"event: poke\ndata: {\"a\":1}\n\nevent: poke\ndata: {\"a\":2}\n\ndata: plain\n\n";
        assert_eq!(
            events(&[stream]),
            [event("poke", "{\"a\":1}"), event("poke", "{\"a\":2}"), event("message", "plain")]
        );
    }

    #[test]
    fn chunks_split_anywhere_read_the_same() {
        let stream: &[u8] = b": hello\r\nevent: poke\r\ndata: {\"client_id\":null}\r\n\r\n";
        let whole = events(&[stream]);
        assert_eq!(whole, [event("poke", "{\"client_id\":null}")]);
        for split in 1..stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(events(&[a, b]), whole, "split at {split}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(events(&bytes), whole, "one byte at a time");
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored() {
        let stream = b":\n\n: keep-alive\n\nid: 7\nretry: 10\nevent: poke\n: between\ndata: x\n\n";
        assert_eq!(events(&[stream]), [event("poke", "x")]);
    }

    #[test]
    fn data_lines_join_and_an_event_without_data_is_nothing() {
        let stream = b"event: poke\n\ndata: a\ndata\ndata:b\n\n";
        assert_eq!(events(&[stream]), [event("message", "a\n\nb")]);
    }

    #[test]
    fn an_event_not_yet_ended_waits_for_its_blank_line() {
        let mut parser = Parser::default();
        let mut out = VecDeque::new();
        parser.feed(b"event: poke\ndata: x\n", &mut out);
        assert!(out.is_empty());
        parser.feed(b"\r", &mut out);
        assert_eq!(out.pop_front(), Some(Event { name: "poke".into(), data: "x".into() }));
    }
}
