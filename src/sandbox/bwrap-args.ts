// The bubblewrap command line for one step, as a pure function of the layout and the step: easy to read in
// tests and logs, and nothing about the host leaks in except what the layout names.
import { KilnError } from '../core/errors.js';
import type { MountOp, SandboxLayout } from './layout.js';

/** Where the step's working directory appears inside the sandbox. */
export const SANDBOX_WORKDIR = '/work';
/** The step's HOME: writable, empty at start, gone afterwards (on the /tmp tmpfs). */
export const SANDBOX_HOME = '/tmp/home';
/** PATH inside the sandbox when the step does not set one. */
export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The whole environment a step sees: its declared env plus fixed PATH, HOME, LANG and TZ. */
export function sandboxEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {
    ...env,
    PATH: env.PATH ?? SANDBOX_PATH,
    HOME: SANDBOX_HOME,
    LANG: env.LANG ?? 'C.UTF-8',
    TZ: 'UTC',
  };
  const bad = Object.keys(out).filter((k) => k === '' || /[=\0]/.test(k) || (out[k] ?? '').includes('\0'));
  if (bad.length > 0) {
    throw new KilnError(
      'KILN_SANDBOX',
      `step environment has invalid variables: ${bad.map((k) => JSON.stringify(k)).join(', ')}`,
      {
        hint: 'variable names must be non-empty without "=" or NUL, and values must not contain NUL',
      },
    );
  }
  return out;
}

/** bubblewrap options (everything before `--`) for a step; `cwd` is the host directory shown at /work. */
export function bwrapArgs(
  layout: SandboxLayout,
  step: { readonly cwd: string; readonly env: Readonly<Record<string, string>>; readonly network: boolean },
): string[] {
  const env = sandboxEnv(step.env);
  return [
    '--die-with-parent',
    '--new-session',
    '--unshare-all',
    ...(step.network ? ['--share-net'] : []),
    '--cap-drop', // as root bwrap keeps every capability, enough to remount the toolchain read-write
    'ALL',
    '--clearenv',
    ...Object.keys(env)
      .sort()
      .flatMap((k) => ['--setenv', k, env[k] ?? '']),
    ...layout.toolchain.flatMap(mountArgs),
    ...(step.network ? layout.network.flatMap(mountArgs) : []),
    ...['--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--dir', SANDBOX_HOME],
    ...['--bind', step.cwd, SANDBOX_WORKDIR, '--chdir', SANDBOX_WORKDIR],
    ...['--remount-ro', '/'], // the sandbox root itself: only /work and /tmp are writable
  ];
}

function mountArgs(op: MountOp): string[] {
  switch (op.kind) {
    case 'ro-bind':
      return ['--ro-bind', op.src, op.dest];
    case 'symlink':
      return ['--symlink', op.target, op.dest];
    case 'tmpfs':
      return ['--tmpfs', op.dest, '--remount-ro', op.dest]; // hides a directory, stays read-only
    case 'mask-file':
      return ['--ro-bind', '/dev/null', op.dest];
  }
}
