// Runs steps in bubblewrap: own namespaces (no network unless asked), read-only toolchain, tmpfs /tmp, a clean
// environment, only the step's directory writable at /work. Keys, cache, store and home are never mounted.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { KilnError } from '../core/errors.js';
import { bwrapArgs } from './bwrap-args.js';
import { DEFAULT_TOOLCHAIN, hostLayout, rootfsLayout, type SandboxLayout } from './layout.js';
import type { StepInvocation, StepOutcome, StepRunner } from './runner.js';
import { runProcess } from './spawn-step.js';

/** Where Debian and most distributions install bubblewrap. */
export const DEFAULT_BWRAP = '/usr/bin/bwrap';

/** How the sandbox is built; every field has a production default. */
export interface BubblewrapOptions {
  readonly bwrapPath?: string;
  /** Host directories bound read-only at the same paths (missing ones skipped; symlinked ones become symlinks). */
  readonly toolchain?: readonly string[];
  /** A builder root filesystem directory shown read-only at / instead of host directories. */
  readonly rootfs?: string;
  /** Host paths masked should the toolchain or rootfs contain them (Kiln home, signing key, credentials, store). */
  readonly hidden?: readonly string[];
  readonly now?: () => number;
}

/** A sandboxing StepRunner: each step in a fresh bubblewrap sandbox whose whole process tree ends with it. */
export function bubblewrapRunner(opts: BubblewrapOptions = {}): StepRunner {
  const bwrap = opts.bwrapPath ?? DEFAULT_BWRAP;
  const now = opts.now ?? Date.now;
  let layout: Promise<SandboxLayout> | undefined;
  const getLayout = () => {
    layout ??= opts.rootfs
      ? rootfsLayout(opts.rootfs, opts.hidden ?? [])
      : hostLayout(opts.toolchain ?? DEFAULT_TOOLCHAIN, opts.hidden ?? []);
    layout.catch(() => {
      layout = undefined; // a later step tries again rather than repeating a stale failure
    });
    return layout;
  };
  return {
    kind: 'bubblewrap',
    sandboxed: true,
    run: async (step) => runInSandbox(bwrap, await getLayout(), step, now),
    withRootfs: (dir) => bubblewrapRunner({ ...opts, rootfs: dir }),
    hiding: (paths) => bubblewrapRunner({ ...opts, hidden: [...(opts.hidden ?? []), ...paths] }),
  };
}

async function runInSandbox(
  bwrap: string,
  layout: SandboxLayout,
  step: StepInvocation,
  now: () => number,
): Promise<StepOutcome> {
  const options = bwrapArgs(layout, { cwd: resolve(step.cwd), env: step.env, network: step.network });
  // Options go through fd 3 so the host paths and env values stay out of the sandbox's /proc/1/cmdline;
  // bubblewrap itself gets an empty environment, which is what its pid 1 shows in /proc/1/environ.
  const spec = {
    argv: [bwrap, '--args', '3', '--', '/bin/sh', '-c', step.command] as const,
    cwd: '/',
    env: {},
    fd3: Buffer.from(options.map((arg) => `${arg}\0`).join('')),
  };
  try {
    return await runProcess(spec, step, now);
  } catch (cause) {
    throw new KilnError('KILN_SANDBOX', `cannot start bubblewrap (${bwrap}) for step ${step.name}`, {
      hint: 'install bubblewrap (apt-get install bubblewrap), pass its path, or choose the host runner explicitly',
      cause,
    });
  }
}

/** Whether bubblewrap can actually create a sandbox here, and if not, why (missing, user namespaces forbidden…). */
export function probeBubblewrap(bwrapPath = DEFAULT_BWRAP): Promise<{ ok: true } | { ok: false; reason: string }> {
  const args = ['--die-with-parent', '--unshare-all', '--cap-drop', 'ALL', '--ro-bind', '/', '/', '--proc', '/proc'];
  return new Promise((done) => {
    execFile(
      bwrapPath,
      [...args, '--dev', '/dev', '--', '/bin/sh', '-c', ':'],
      { env: {}, timeout: 10_000 },
      (err, _out, stderr) => {
        if (!err) return done({ ok: true });
        const detail = stderr.trim().split('\n')[0] || err.message;
        done({ ok: false, reason: `bubblewrap (${bwrapPath}) cannot create a sandbox: ${detail}` });
      },
    );
  });
}

/** True when bubblewrap works here, so callers can fall back to the host runner with a clear message. */
export async function isBubblewrapAvailable(bwrapPath?: string): Promise<boolean> {
  return (await probeBubblewrap(bwrapPath)).ok;
}
