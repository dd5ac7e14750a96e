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

/** A JSON body as the tests read it (whatever JSON.parse gives). */
// biome-ignore lint/suspicious/noExplicitAny: API bodies are asserted on, not typed
export type Body = any;

/** GETs `url` (or POSTs `body` as JSON) with a bearer token: the status and the parsed body. */
export async function callApi(url: string, token: string, body?: unknown): Promise<{ status: number; json: Body }> {
  const r = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, json: JSON.parse(await r.text()) };
}

const started: ChildProcess[] = [];

/** Kills every server a test started (afterEach). */
export function stopServers(): void {
  for (const child of started.splice(0)) child.kill('SIGKILL');
}

/** Starts `kiln serve --listen 127.0.0.1:0 ARGS` on `home`; resolves once it prints its listening line. */
export async function startServe(
  home: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<Served> {
  const { child, output, match } = await startKiln(
    home,
    ['serve', '--listen', '127.0.0.1:0', ...args],
    env,
    /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  return { url: match[1] as string, child, output };
}

/** A running `kiln worker`: the process and everything it printed so far. */
export interface StartedWorker {
  readonly child: ChildProcess;
  output(): string;
}

/** Starts `kiln worker ARGS` on `home` (killed by `stopServers`); resolves once it says it builds. */
export async function startWorker(
  home: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<StartedWorker> {
  const { child, output } = await startKiln(home, ['worker', ...args], env, /building on \d+ worker/);
  return { child, output };
}

/** Starts `kiln ARGV` on `home` (killed by `stopServers`); resolves once its output matches `ready`. */
function startKiln(
  home: string,
  argv: readonly string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; output: () => string; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [KILN, ...argv], {
    env: { ...process.env, KILN_HOME: home, KILN_SIGNING_KEY: '', ...env },
  });
  started.push(child);
  let out = '';
  const output = () => out;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln ${argv[0]} was not ready in 20 s:\n${out}`)), 20_000);
    const read = (chunk: Buffer) => {
      out += chunk;
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, output, match });
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.on('exit', (code) => reject(new Error(`kiln ${argv[0]} exited ${code} before it was ready:\n${out}`)));
  });
}
