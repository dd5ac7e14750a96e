// `kiln serve` as a real process for e2e tests: started on a free loopback port, resolved once it prints where it
// listens, and killed after each test by `stopServers` (register it with afterEach).
import { type ChildProcess, spawn } from 'node:child_process';
import { KILN } from './repo.js';

/** A running `kiln serve`: its base URL, the process, and everything it printed so far. */
export interface Served {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
}

const started: ChildProcess[] = [];

/** Kills every server a test started (afterEach). */
export function stopServers(): void {
  for (const child of started.splice(0)) child.kill('SIGKILL');
}

/** Starts `kiln serve --listen 127.0.0.1:0 ARGS` on `home`; resolves once it prints its listening line. */
export function startServe(
  home: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<Served> {
  const child = spawn(process.execPath, [KILN, 'serve', '--listen', '127.0.0.1:0', ...args], {
    env: { ...process.env, KILN_HOME: home, KILN_SIGNING_KEY: '', ...env },
  });
  started.push(child);
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 20 s:\n${out}`)), 20_000);
    child.stdout?.on('data', () => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, child, output: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`kiln serve exited ${code} before listening:\n${out}`)));
  });
}

/** A running `kiln worker`: the process and everything it printed so far. */
export interface StartedWorker {
  readonly child: ChildProcess;
  output(): string;
}

/** Starts `kiln worker ARGS` on `home` (killed by `stopServers`); resolves once it says it builds. */
export function startWorker(
  home: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<StartedWorker> {
  const child = spawn(process.execPath, [KILN, 'worker', ...args], {
    env: { ...process.env, KILN_HOME: home, KILN_SIGNING_KEY: '', ...env },
  });
  started.push(child);
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln worker did not start in 20 s:\n${out}`)), 20_000);
    child.stderr?.on('data', () => {
      if (/building on \d+ worker/.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`kiln worker exited ${code} before building:\n${out}`)));
  });
}
