// Git servers on 127.0.0.1 for tests, started and stopped by the test: `git daemon` (git://) and `git http-backend`
// behind a small Node HTTP server that requires Basic auth (http://).
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './net.js';

/** A running server: its base URL (append the repository's directory name) and how to stop it. */
export interface GitServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** `git daemon` exporting every repository under `root` on a free port of 127.0.0.1. */
export async function startGitDaemon(root: string): Promise<GitServer> {
  const port = await freePort(); // git daemon needs a fixed port: one nothing listens on now
  const child = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--listen=127.0.0.1',
      `--port=${port}`,
      '--export-all',
      '--informative-errors',
      `--base-path=${root}`,
      root,
    ],
    { stdio: 'ignore', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } },
  );
  await waitForPort(port, child);
  return { url: `git://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/**
 * A Node HTTP server on 127.0.0.1 running `git http-backend` as a CGI for the repositories under `root`; every
 * request needs `Authorization: Basic base64(username:password)`, else 401. `requests` counts what it served.
 */
export async function startGitHttp(root: string, auth: { username: string; password: string }): Promise<GitHttpServer> {
  const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const requests: string[] = [];
  let held = 0;
  const pending: [IncomingMessage, ServerResponse][] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="kiln-test"' }).end('unauthorized\n');
      return;
    }
    if (handle.holdPacks && req.method === 'POST') {
      held++; // not answered until released: the client is stuck mid-transfer
      pending.push([req, res]);
      return;
    }
    cgi(root, auth.username, req, res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const handle: GitHttpServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    holdPacks: false,
    held: () => held,
    release() {
      handle.holdPacks = false;
      for (const [req, res] of pending.splice(0)) cgi(root, auth.username, req, res);
    },
    stop: () => closeServer(server),
  };
  return handle;
}

/** The HTTP git server: what it was asked, and a switch that leaves pack requests (the transfer) unanswered. */
export interface GitHttpServer extends GitServer {
  readonly requests: string[];
  holdPacks: boolean;
  /** How many pack requests were held so far. */
  held(): number;
  /** Answers the held requests and holds no more. */
  release(): void;
}

/** One request through `git http-backend`: CGI variables in, `Status:` and headers parsed from its stdout. */
function cgi(root: string, user: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: user,
      REMOTE_ADDR: '127.0.0.1',
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let sent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (sent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    sent = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.on('close', () => {
    if (!sent) res.writeHead(500);
    res.end();
  });
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`git daemon exited with ${child.exitCode}`);
    const up = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`git daemon did not listen on 127.0.0.1:${port}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((done) => server.close(() => done()));
}

/** Every file under `dir` (recursively, whatever it is) whose bytes contain any of `needles`. */
export function filesContaining(dir: string, needles: readonly string[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const bytes = readFileSync(file);
    if (needles.some((n) => bytes.includes(n))) found.push(file);
  }
  return found;
}
