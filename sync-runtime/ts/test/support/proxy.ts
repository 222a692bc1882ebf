// A loopback HTTP proxy in front of the sync server that can lose or hold the next answer of
// `POST /api/sync`: the server has applied the request, the device never hears back (lost) or
// hears back only when the test lets it (held), so a test can write meanwhile.

import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

type Mode = { kind: "pass" } | { kind: "drop" } | { kind: "hold"; release: Promise<void>; arrived: () => void };

export class FaultProxy {
  readonly url: string;
  private mode: Mode = { kind: "pass" };

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

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((done) => this.server.close(() => done()));
  }

  private forward(target: URL, req: IncomingMessage, res: ServerResponse): void {
    const mode = req.url === "/api/sync" ? this.mode : ({ kind: "pass" } as Mode);
    if (mode.kind !== "pass") this.mode = { kind: "pass" };
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
