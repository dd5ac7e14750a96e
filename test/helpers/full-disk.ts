// A real full (or read-only) disk without touching the host: the kiln CLI runs in a private user and mount namespace
// (`unshare --user --map-root-user --mount`) where the chosen directories are tmpfs mounts of a given size.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KILN, type KilnRun } from './repo.js';

/** A directory to mount over, its size (`256k`, `2m`) and whether it is read-only. */
export interface SmallDisk {
  readonly dir: string;
  readonly size: string;
  readonly readOnly?: boolean;
  /** A directory whose content is copied onto the fresh disk before the commands run. */
  readonly seed?: string;
}

const CANNOT_MOUNT = 97;

/** Why small disks cannot be made on this machine (no unshare, user namespaces off), or undefined when they can. */
export const smallDisksUnavailable: string | undefined = probe();

/** Runs `kiln args` with KILN_HOME = `home`, each of `disks` mounted as a fresh tmpfs first (their content hidden). */
export function kilnOnSmallDisks(
  args: string[],
  opts: { cwd: string; home: string; disks: readonly SmallDisk[]; env?: Record<string, string> },
): KilnRun {
  const [run] = kilnRunsOnSmallDisks([args], opts);
  return run as KilnRun;
}

/**
 * Runs several kiln commands one after the other in one namespace (so they see the same small disks), each disk
 * first filled with a copy of its `seed` directory when given; returns each command's result.
 */
export function kilnRunsOnSmallDisks(
  commands: readonly string[][],
  opts: { cwd: string; home: string; disks: readonly SmallDisk[]; env?: Record<string, string> },
): KilnRun[] {
  for (const d of opts.disks) mkdirSync(d.dir, { recursive: true });
  const results = mkdtempSync(join(tmpdir(), 'kiln-small-disk-'));
  try {
    const runs = commands.map((args, i) => {
      const out = join(results, String(i));
      const argv = [process.execPath, KILN, ...args].map(quote).join(' ');
      return `${argv} >${quote(`${out}.out`)} 2>${quote(`${out}.err`)}; echo $? >${quote(`${out}.status`)}`;
    });
    const mounts = opts.disks.map((d) => {
      const mount = `mount -t tmpfs -o ${quote(`size=${d.size}${d.readOnly ? ',ro' : ''}`)} tmpfs ${quote(d.dir)}`;
      const seed = d.seed ? ` && cp -a ${quote(`${d.seed}/.`)} ${quote(d.dir)}` : '';
      return `{ ${mount}${seed}; } || exit ${CANNOT_MOUNT}`;
    });
    const script = [...mounts, ...runs].join('\n');
    const env = { ...process.env, KILN_HOME: opts.home, KILN_SIGNING_KEY: '', ...opts.env };
    const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script], {
      cwd: opts.cwd,
      env,
      encoding: 'utf8',
    });
    if (r.status === CANNOT_MOUNT) throw new Error(`could not mount the small disks: ${r.stderr}`);
    return commands.map((_, i) => {
      const read = (ext: string) => readFileSync(join(results, `${i}.${ext}`), 'utf8');
      return { status: Number(read('status')), signal: null, stdout: read('out'), stderr: read('err') };
    });
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
}

/** `s` as one shell word. */
function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function probe(): string | undefined {
  const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt'], {
    encoding: 'utf8',
  });
  if (r.error) return `unshare cannot run here: ${r.error.message}`;
  if (r.status !== 0) return `unprivileged mount namespaces are not allowed here: ${r.stderr.trim()}`;
  return undefined;
}
