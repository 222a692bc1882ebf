// The browser test's page: starts the device worker and relays the test's calls to it
// (`window.device(op, args)`, called through Playwright's page.evaluate).

interface Answer {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const waiting = new Map<number, (answer: Answer) => void>();
let next = 0;
worker.onmessage = ({ data }: MessageEvent<Answer>) => waiting.get(data.id)?.(data);

(globalThis as unknown as { device: unknown }).device = (op: string, args: Record<string, unknown> = {}) =>
  new Promise((resolve, reject) => {
    const id = (next += 1);
    waiting.set(id, (answer) => {
      waiting.delete(id);
      if (answer.ok) resolve(answer.value);
      else reject(new Error(answer.error));
    });
    worker.postMessage({ id, op, args });
  });
