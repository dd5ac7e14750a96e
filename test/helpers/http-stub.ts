// A stub HTTP service on 127.0.0.1 for tests of outgoing requests: it records every request and answers each as the
// test says. Close it with `close()` (afterEach).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stub received it. */
export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How the stub answers a request. */
export interface StubAnswer {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

/** A started stub: its base URL, what it received, and how to stop it. */
export interface HttpStub {
  readonly url: string;
  readonly received: StubRequest[];
  close(): Promise<void>;
}

/** Starts a stub that answers the n-th request (1-based) with `answer(n, request)`. */
export async function startHttpStub(answer: (n: number, request: StubRequest) => StubAnswer): Promise<HttpStub> {
  const received: StubRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      const a = answer(received.length, request);
      res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8', ...a.headers }).end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Waits until `check` holds (polling every 10 ms), or fails naming `what`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
