// Test helpers for the cache: a plain-JS build of the CAS for child processes, and a child runner.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { transpileSources } from './transpile.js';

/** A child script: `<dir> <digest> <file> <goFile>`; waits for `goFile` to exist, then stores `file` under `digest`. */
const WRITER = `
import { existsSync } from 'node:fs';
import { LocalCas } from './cache/local/cas.js';
const [dir, digest, file, go] = process.argv.slice(2);
const cas = new LocalCas({ dir });
process.stdout.write('ready\\n');
while (go !== '-' && !existsSync(go)) await new Promise((r) => setTimeout(r, 1));
process.stdout.write('writing\\n');
await cas.putBlobFromFile(digest, file);
process.stdout.write('done\\n');
`;

/** The real CAS code, transpiled into `outDir`, plus the writer script; returns the writer script's path. */
export async function buildCasWriter(outDir: string): Promise<string> {
  transpileSources(outDir);
  const writer = path.join(outDir, 'writer.mjs');
  await writeFile(writer, WRITER);
  return writer;
}

/** A running writer child: its process, a promise per stdout line it prints, and its exit. */
export interface Writer {
  readonly child: ChildProcess;
  /** Resolves when the child printed `line` (rejects if it exits first). */
  printed(line: string): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts the writer script built by `buildCasWriter`. */
export function startWriter(script: string, args: string[]): Writer {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let closed = false;
  const waiters: { line: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  const check = () => {
    for (const w of waiters.splice(0)) {
      if (stdout.split('\n').includes(w.line)) w.resolve();
      else if (closed) w.reject(new Error(`writer exited before "${w.line}": ${stderr}`));
      else waiters.push(w);
    }
  };
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    check();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      closed = true;
      check();
      resolve({ code, signal, stderr });
    });
  });
  return {
    child,
    exited,
    printed: (line) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ line, resolve, reject });
        check();
      }),
  };
}
