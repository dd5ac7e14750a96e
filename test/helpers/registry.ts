// Debian's docker-registry (distribution 2.8) on 127.0.0.1 with its own config, a token service and a fault proxy.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { freePort } from './net.js';

/** A running registry; `stop()` kills it (and its token service) and removes its temp dir. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`, as a registry reference names it. */
  readonly host: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly storageDir: string;
  /** The token service, when started with `auth: 'token'`. */
  readonly tokens: TokenService | undefined;
  /** SIGKILL, as a crash would; the storage dir stays. */
  kill(): Promise<void>;
  /** Starts the registry again on the same port and storage (after `kill`). */
  restart(): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * `users` get every action on every repository (htpasswd and token auth); default `{ alice: 's3cret-pw' }`.
 * `identityTokens` (token auth only) maps OAuth2 refresh tokens to users, as `docker login` stores them.
 */
export interface TestRegistryOptions {
  readonly auth?: 'none' | 'htpasswd' | 'token';
  readonly users?: Readonly<Record<string, string>>;
  readonly identityTokens?: Readonly<Record<string, string>>;
}

/** A token service the way distribution expects one: ES256 JWTs with an x5c header, scoped access claims. */
export interface TokenService {
  readonly realm: string;
  readonly service: string;
  /** One entry per token request: the user (undefined = anonymous) and the scopes asked for. */
  readonly requests: { readonly user: string | undefined; readonly scopes: readonly string[] }[];
  /** The next token issued is already expired (beyond the registry's 60 s leeway): a client must refresh it. */
  expireNext(): void;
}

const SERVICE = 'kiln-test-registry';
const ISSUER = 'kiln-test-issuer';
const live = new Set<() => Promise<void>>();

afterAll(async () => {
  for (const stop of [...live]) await stop();
});

/** Starts docker-registry on a free loopback port with filesystem storage in a temp dir and deletes enabled. */
export async function startRegistry(opts: TestRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-registry-'));
  const storageDir = join(dir, 'storage');
  mkdirSync(storageDir);
  const users = opts.users ?? { alice: 's3cret-pw' };
  const closers: (() => Promise<void>)[] = [];
  let tokens: TokenService | undefined;
  let authYaml = '';
  if (opts.auth === 'htpasswd') {
    const lines = Object.entries(users).map(([u, p]) =>
      execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim(),
    );
    writeFileSync(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: kiln-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.auth === 'token') {
    const started = await startTokenService(dir, users, opts.identityTokens ?? {});
    tokens = started.service;
    closers.push(started.close);
    authYaml = `auth:\n  token:\n    realm: ${started.service.realm}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${join(dir, 'token-cert.pem')}\n`;
  }
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storageDir}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
  );
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let log = '';
  const launch = async (): Promise<void> => {
    const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await waitReady(url, proc, () => log);
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };
  const stop = async (): Promise<void> => {
    live.delete(stop);
    await kill();
    for (const close of closers) await close();
    rmSync(dir, { recursive: true, force: true });
  };
  live.add(stop);
  try {
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: `127.0.0.1:${port}`, url, port, storageDir, tokens, kill, restart: launch, logs: () => log, stop };
}

async function startTokenService(
  dir: string,
  users: Readonly<Record<string, string>>,
  identityTokens: Readonly<Record<string, string>>,
): Promise<{ service: TokenService; close: () => Promise<void> }> {
  const keyPath = join(dir, 'token-key.pem');
  const certPath = join(dir, 'token-cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=kiln-test-token-issuer',
    ],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const x5c = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
  const requests: { user: string | undefined; scopes: string[] }[] = [];
  let expireNext = false;
  const issue = (
    res: ServerResponse,
    user: string | undefined,
    service: string | null,
    scopes: string[],
    field: string,
  ): void => {
    requests.push({ user, scopes });
    const now = Math.floor(Date.now() / 1000);
    const exp = expireNext ? now - 300 : now + 300;
    expireNext = false;
    const access = user === undefined ? [] : scopes.map(grant);
    const claims = {
      iss: ISSUER,
      sub: user ?? '',
      aud: service,
      exp,
      nbf: exp - 600,
      iat: exp - 600,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [x5c] }))}.${b64url(JSON.stringify(claims))}`;
    // distribution verifies through libtrust, which wants the ECDSA signature as r‖s (IEEE P1363), not DER.
    const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }).toString(
      'base64url',
    );
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ [field]: `${signingInput}.${signature}`, expires_in: 300 }));
  };
  const denied = (res: ServerResponse): void => {
    res
      .writeHead(401, { 'Content-Type': 'application/json' })
      .end('{"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]}');
  };
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST') {
      // OAuth2 refresh-token grant (distribution docs/spec/auth/oauth.md): answers `access_token`.
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const user = identityTokens[form.get('refresh_token') ?? ''];
        if (form.get('grant_type') !== 'refresh_token' || user === undefined) return denied(res);
        issue(
          res,
          user,
          form.get('service'),
          (form.get('scope') ?? '').split(' ').filter((x) => x !== ''),
          'access_token',
        );
      });
      return;
    }
    const user = basicUser(req, users);
    if (user === null) return denied(res);
    issue(res, user, url.searchParams.get('service'), url.searchParams.getAll('scope'), 'token');
  });
  const port = await listen(server);
  return {
    service: {
      realm: `http://127.0.0.1:${port}/token`,
      service: SERVICE,
      requests,
      expireNext: () => (expireNext = true),
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `repository:name:a,b` → an access claim for every action asked for (test users may do anything). */
function grant(scope: string): { type: string; name: string; actions: string[] } {
  const [type = '', ...rest] = scope.split(':');
  const actions = rest.pop() ?? '';
  return { type, name: rest.join(':'), actions: actions.split(',').filter((a) => a !== '') };
}

/** The user of a request's Basic credentials: undefined when it has none, null when they are wrong. */
function basicUser(req: IncomingMessage, users: Readonly<Record<string, string>>): string | undefined | null {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return colon > 0 && users[user] === decoded.slice(colon + 1) ? user : null;
}

/** What the proxy does with one request: pass it on (undefined), answer it, drop the connection, or rewrite it. */
export type Fault =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly headers?: Record<string, string>;
      readonly body?: string;
    }
  | { readonly kind: 'reset' }
  | { readonly kind: 'rewrite'; readonly path: string };

/** A proxy on 127.0.0.1 in front of a registry that injects faults chosen per request by `rule`. */
export interface FaultProxy {
  readonly host: string;
  readonly url: string;
  /** `METHOD /path?query` of every request, and the Authorization scheme it carried (or `-`). */
  readonly requests: string[];
  /** `scheme` is the Authorization scheme the request carried (`Basic`, `Bearer`), undefined without one. */
  rule: (req: {
    readonly method: string;
    readonly path: string;
    readonly scheme: string | undefined;
  }) => Fault | undefined;
  stop(): Promise<void>;
}

/** Starts a fault proxy forwarding to `target` (the Host header is kept, so Location headers name the proxy). */
export async function startFaultProxy(target: { readonly port: number }): Promise<FaultProxy> {
  const requests: string[] = [];
  const proxy: FaultProxy = {
    host: '',
    url: '',
    requests,
    rule: () => undefined,
    stop: async () => {
      live.delete(proxy.stop);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createHttpServer((req, res) => {
    const path = req.url ?? '/';
    const scheme = req.headers.authorization?.split(' ')[0];
    requests.push(`${req.method} ${path} ${scheme ?? '-'}`);
    const fault = proxy.rule({ method: req.method ?? 'GET', path, scheme });
    if (fault?.kind === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault?.kind === 'answer') {
      req.resume();
      res.writeHead(fault.status, { 'Content-Type': 'application/json', ...fault.headers }).end(fault.body ?? '');
      return;
    }
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target.port, method: req.method, path: fault?.path ?? path, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.resetAndDestroy());
    req.pipe(upstream);
  });
  const port = await listen(server);
  Object.assign(proxy, { host: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}` });
  live.add(proxy.stop);
  return proxy;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : 0);
    });
  });
}

async function waitReady(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`docker-registry exited early:\n${logs()}`);
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry did not become ready on ${url}:\n${logs()}`);
}

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

export { freePort } from './net.js';
