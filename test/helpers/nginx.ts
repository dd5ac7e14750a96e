// Debian's nginx as a Bazel HTTP cache (WebDAV PUT) on 127.0.0.1, everything in one temp dir: the tests' real remote.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';

/** A running nginx cache; `stop()` kills it and waits for the exit. */
export interface NginxCache {
  /** Base URL such as `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  /** The served root: holds `ac/<key>` and `cas/<hex>` files. */
  readonly storeDir: string;
  /** `Authorization` value that the server accepts, when started with `auth`. */
  readonly authHeader: string | undefined;
  /** Relative paths of the stored entries, sorted (e.g. `cas/ab12…`). */
  stored(): string[];
  /** The request lines nginx logged, e.g. `PUT /cas/ab12… 201`. */
  requests(): string[];
  stop(): Promise<void>;
}

/** Options: basic-auth credentials to require; a store dir to reuse (kept on stop), else a fresh one (removed). */
export interface NginxCacheOptions {
  readonly auth?: { readonly user: string; readonly password: string };
  readonly storeDir?: string;
}

/** Starts nginx on a free loopback port and waits until it answers. */
export async function startNginxCache(opts: NginxCacheOptions = {}): Promise<NginxCache> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startOnce(opts, await freePort());
    } catch (err) {
      lastError = err; // Most likely the port was taken between probing and binding: try another.
    }
  }
  throw lastError;
}

async function startOnce(opts: NginxCacheOptions, port: number): Promise<NginxCache> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-nginx-'));
  const storeDir = opts.storeDir ?? join(dir, 'store');
  for (const d of [storeDir, join(dir, 'tmp')]) mkdirSync(d, { recursive: true });
  if (opts.auth) writeFileSync(join(dir, 'users'), `${opts.auth.user}:{PLAIN}${opts.auth.password}\n`);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config(dir, storeDir, port, opts.auth !== undefined));
  const errorLog = join(dir, 'error.log');
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', errorLog, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const cleanup = (): void => {
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, () => `${stderr}${safeRead(errorLog)}`);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw err;
  }
  const auth = opts.auth;
  return {
    url,
    port,
    storeDir,
    authHeader: auth ? `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` : undefined,
    stored: () => listFiles(storeDir),
    requests: () =>
      safeRead(join(dir, 'access.log'))
        .split('\n')
        .filter((l) => l !== ''),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}

function config(dir: string, storeDir: string, port: number, auth: boolean): string {
  const temp = (name: string): string => join(dir, 'tmp', name);
  const isRoot = process.getuid?.() === 0;
  return `${isRoot ? 'user root root;\n' : ''}worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  log_format cache '$request_method $uri $status';
  access_log ${join(dir, 'access.log')} cache;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${storeDir};
    location ~ "^/(ac|cas)/[0-9a-f]{64}$" {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      client_max_body_size 0;
${auth ? `      auth_basic "kiln cache";\n      auth_basic_user_file ${join(dir, 'users')};\n` : ''}    }
    location / { return 404; }
  }
}
`;
}

async function waitReady(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited early:\n${logs()}`);
    try {
      const res = await fetch(`${url}/ac/${'0'.repeat(64)}`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 404 || res.status === 401) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nginx did not become ready on ${url}:\n${logs()}`);
}

function listFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
