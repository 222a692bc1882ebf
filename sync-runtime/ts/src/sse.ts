// Reading server-sent events from text as it arrives (the format of `GET /api/events`, see
// sync-runtime/src/pokes/sse.rs): `field: value` lines, an event ended by a blank line, comments
// and unknown fields ignored, a line possibly split across chunks, line ends `\n`, `\r\n` or `\r`.

export interface ServerEvent {
  /** `message` when the event has no `event:` line. */
  name: string;
  /** Its data lines joined by `\n`. */
  data: string;
}

export class SseParser {
  private line = "";
  private name: string | undefined;
  private data: string[] = [];
  private afterCr = false;

  /** Read `chunk`; the events it completes. */
  feed(chunk: string): ServerEvent[] {
    const events: ServerEvent[] = [];
    for (const char of chunk) {
      if (char === "\n" && this.afterCr) {
        this.afterCr = false;
      } else if (char === "\n" || char === "\r") {
        this.afterCr = char === "\r";
        const line = this.line;
        this.line = "";
        this.lineEnded(line, events);
      } else {
        this.afterCr = false;
        this.line += char;
      }
    }
    return events;
  }

  private lineEnded(line: string, events: ServerEvent[]): void {
    if (line === "") {
      const name = this.name ?? "message";
      this.name = undefined;
      // An event without data is dispatched as nothing, as browsers do.
      if (this.data.length > 0) events.push({ name, data: this.data.join("\n") });
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.name = value;
    else if (field === "data") this.data.push(value);
  }
}
