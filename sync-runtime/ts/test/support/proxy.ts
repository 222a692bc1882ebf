// A loopback HTTP proxy in front of the sync server that can lose or hold the next answer of
// `POST /api/sync`: the server has applied the request, the device never hears back (lost) or
// hears back only when the test lets it (held), so a test can write meanwhile; or refuse the
// next sync itself, as a server at its limits does (429 or 503 with Retry-After). It notes when
// each sync arrived.

import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

type Mode =
  | { kind: "pass" }
  | { kind: "drop" }
  | { kind: "hold"; release: Promise<void>; arrived: () => void }
  | { kind: "refuse"; status: number; code: string; retryAfterSeconds: number };

export class FaultProxy {
  readonly url: string;
  private mode: Mode = { kind: "pass" };
  /** When each sync reached the proxy (epoch ms), in order. */
  readonly syncArrivals: number[] = [];

  private constructor(
    private readonly server: Server,
    target: string,
  ) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on("request", (req, res) => this.forward(new URL(target), req, res));
  }

  static async start(target: string): Promise<FaultProxy> {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    return new FaultProxy(server, target);
  }

  /** Lose the answer of the next sync. */
  dropNext(): void {
    this.mode = { kind: "drop" };
  }

  /** Hold the answer of the next sync: `arrived` resolves once the server has answered, the
   * device gets the answer after `release()`. */
  holdNext(): { arrived: Promise<void>; release: () => void } {
    let release!: () => void;
    let arrived!: () => void;
    const released = new Promise<void>((done) => (release = done));
    const answered = new Promise<void>((done) => (arrived = done));
    this.mode = { kind: "hold", release: released, arrived };
    return { arrived: answered, release };
  }

  /** Answer the next sync here with `status`, the protocol's error body of `code` and
   * `Retry-After: <retryAfterSeconds>`, without passing it on. */
  refuseNext(status: number, code: string, retryAfterSeconds: number): void {
    this.mode = { kind: "refuse", status, code, retryAfterSeconds };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((done) => this.server.close(() => done()));
  }

  private forward(target: URL, req: IncomingMessage, res: ServerResponse): void {
    const mode = req.url === "/api/sync" ? this.mode : ({ kind: "pass" } as Mode);
    if (req.url === "/api/sync") this.syncArrivals.push(Date.now());
    if (mode.kind !== "pass") this.mode = { kind: "pass" };
    if (mode.kind === "refuse") {
      req.resume();
      const body = JSON.stringify({ error: { code: mode.code, message: "refused by the proxy" } });
      res.writeHead(mode.status, { "content-type": "application/json", "retry-after": String(mode.retryAfterSeconds) });
      res.end(body);
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      async (answer) => {
        if (mode.kind === "pass") {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of answer) chunks.push(chunk as Buffer);
        if (mode.kind === "drop") {
          res.destroy();
          return;
        }
        mode.arrived();
        await mode.release;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.end(Buffer.concat(chunks));
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  }
}
