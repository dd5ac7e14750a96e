// A real full (or read-only) disk without touching the host: the kiln CLI runs in a private user and mount namespace
// (`unshare --user --map-root-user --mount`) where the chosen directories are tmpfs mounts of a given size.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { KILN, type KilnRun } from './repo.js';

/** A directory to mount over, its size (`256k`, `2m`) and whether it is read-only. */
export interface SmallDisk {
  readonly dir: string;
  readonly size: string;
  readonly readOnly?: boolean;
}

const CANNOT_MOUNT = 97;

/** Why small disks cannot be made on this machine (no unshare, user namespaces off), or undefined when they can. */
export const smallDisksUnavailable: string | undefined = probe();

/** Runs `kiln args` with KILN_HOME = `home`, each of `disks` mounted as a fresh tmpfs first (their content hidden). */
export function kilnOnSmallDisks(
  args: string[],
  opts: { cwd: string; home: string; disks: readonly SmallDisk[]; env?: Record<string, string> },
): KilnRun {
  for (const d of opts.disks) mkdirSync(d.dir, { recursive: true });
  const env = { ...process.env, KILN_HOME: opts.home, KILN_SIGNING_KEY: '', ...opts.env };
  const r = spawnSync('unshare', unshareArgs(opts.disks, [process.execPath, KILN, ...args]), {
    cwd: opts.cwd,
    env,
    encoding: 'utf8',
  });
  if (r.status === CANNOT_MOUNT) throw new Error(`could not mount the small disks: ${r.stderr}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function unshareArgs(disks: readonly SmallDisk[], command: string[]): string[] {
  const mounts = disks.map(
    (_, i) =>
      `mount -t tmpfs -o "size=$${2 * i + 1}${disks[i]?.readOnly ? ',ro' : ''}" tmpfs "$${2 * i + 2}" || exit ${CANNOT_MOUNT}`,
  );
  const script = `${mounts.join('\n')}\nshift ${2 * disks.length}\nexec "$@"`;
  return [
    '--user',
    '--map-root-user',
    '--mount',
    'sh',
    '-c',
    script,
    'sh',
    ...disks.flatMap((d) => [d.size, d.dir]),
    ...command,
  ];
}

function probe(): string | undefined {
  const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt'], {
    encoding: 'utf8',
  });
  if (r.error) return `unshare cannot run here: ${r.error.message}`;
  if (r.status !== 0) return `unprivileged mount namespaces are not allowed here: ${r.stderr.trim()}`;
  return undefined;
}
