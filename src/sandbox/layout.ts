// Decides what of the host a sandbox sees: the read-only toolchain (host dirs or a builder rootfs) and the
// masks over secrets inside it. Data here; bwrap-args.ts turns it into bubblewrap options.
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { KilnError } from '../core/errors.js';

/** One filesystem operation in the sandbox, in the order bubblewrap applies them. */
export type MountOp =
  | { readonly kind: 'ro-bind'; readonly src: string; readonly dest: string }
  | { readonly kind: 'symlink'; readonly target: string; readonly dest: string }
  | { readonly kind: 'tmpfs'; readonly dest: string }
  | { readonly kind: 'mask-file'; readonly dest: string };

/** The toolchain part of a sandbox; `network` adds what only steps with network access need. */
export interface SandboxLayout {
  readonly toolchain: readonly MountOp[];
  readonly network: readonly MountOp[];
}

/** Host directories bound read-only when no builder rootfs is given (those missing on the host are skipped). */
export const DEFAULT_TOOLCHAIN: readonly string[] = Object.freeze([
  '/usr',
  '/bin',
  '/lib',
  '/lib64',
  '/lib32',
  '/sbin',
  '/etc',
]);

/** Paths under /etc that hold host secrets (password hashes, private keys) and are never shown to a step. */
const ETC_SECRET_FILES = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers'];
const ETC_SECRET_DIRS = ['/etc/ssl/private', '/etc/sudoers.d'];
/** Top-level names a sandbox always gets fresh, whatever a rootfs holds there. */
const SANDBOX_OWNED = new Set(['dev', 'proc', 'tmp', 'work']);

/** Host toolchain dirs bound at the same paths; symlinked ones (/bin → usr/bin) become symlinks; `hidden` paths masked. */
export async function hostLayout(dirs: readonly string[], hidden: readonly string[]): Promise<SandboxLayout> {
  const entries = [];
  for (const dir of dirs) {
    const dest = normalize(dir).replace(/(.)\/$/, '$1');
    if (!isAbsolute(dir) || dest === '/' || [...SANDBOX_OWNED].some((own) => within(dest, `/${own}`))) {
      throw new KilnError(
        'KILN_SANDBOX',
        `sandbox toolchain entry "${dir}" must be an absolute directory other than / and outside /tmp, /dev, /proc, /work`,
        {
          hint: 'list host directories such as /usr and /opt/node; /tmp, /dev, /proc and /work are the sandbox’s own',
        },
      );
    }
    const stat = await lstat(dest).catch(() => undefined);
    if (stat) entries.push({ dest, real: await realpath(dest), symlink: stat.isSymbolicLink() });
  }
  const bound = entries.filter((e) => !e.symlink).sort((a, b) => depth(a.dest) - depth(b.dest));
  /** Where a host path (fully resolved) appears inside the sandbox, if a toolchain bind shows it at all. */
  const locate = (real: string): string | undefined => {
    const dir = bound.findLast((b) => within(real, b.real));
    return dir && dir.dest + real.slice(dir.real.length);
  };
  const ops: MountOp[] = bound.map((e) => ({ kind: 'ro-bind', src: e.real, dest: e.dest }));
  for (const e of entries.filter((e) => e.symlink)) {
    const target = locate(e.real);
    ops.push(target ? { kind: 'symlink', target, dest: e.dest } : { kind: 'ro-bind', src: e.real, dest: e.dest });
  }
  ops.push(...(await masks(hidden, locate)));
  const resolv = locate('/etc') ? await realpath('/etc/resolv.conf').catch(() => undefined) : undefined;
  const network: MountOp[] = resolv && !locate(resolv) ? [{ kind: 'ro-bind', src: resolv, dest: resolv }] : []; // e.g. systemd-resolved's stub
  return Object.freeze({ toolchain: Object.freeze(ops), network: Object.freeze(network) });
}

/** Every top-level entry of a builder rootfs bound read-only at /, except what the sandbox provides itself. */
export async function rootfsLayout(rootfs: string, hidden: readonly string[] = []): Promise<SandboxLayout> {
  const root = await realpath(rootfs).catch((cause: unknown) => {
    throw new KilnError('KILN_SANDBOX', `builder rootfs ${rootfs} cannot be opened`, {
      hint: 'give the path of an unpacked root filesystem directory',
      cause,
    });
  });
  const ops: MountOp[] = [];
  for (const entry of (await readdir(root, { withFileTypes: true })).sort((a, b) => cmp(a.name, b.name))) {
    if (SANDBOX_OWNED.has(entry.name)) continue;
    const src = join(root, entry.name);
    const dest = `/${entry.name}`;
    ops.push(
      entry.isSymbolicLink() ? { kind: 'symlink', target: await readlink(src), dest } : { kind: 'ro-bind', src, dest },
    );
  }
  const shown = new Set(ops.filter((op) => op.kind === 'ro-bind').map((op) => op.dest));
  const locate = (real: string): string | undefined => {
    const dest = within(real, root) && real !== root ? real.slice(root.length) : undefined;
    return dest && shown.has(`/${dest.split('/')[1]}`) ? dest : undefined;
  };
  ops.push(...(await masks(hidden, locate)));
  return Object.freeze({ toolchain: Object.freeze(ops), network: Object.freeze([]) });
}

/** Masks for /etc secrets and the caller's hidden paths (keys, credentials, store) wherever a bind would show them. */
async function masks(hidden: readonly string[], locate: (real: string) => string | undefined): Promise<MountOp[]> {
  const sshKeys = (await readdir('/etc/ssh').catch(() => []))
    .filter((name) => /^ssh_host_.*_key$/.test(name))
    .map((name) => `/etc/ssh/${name}`);
  const candidates = [...ETC_SECRET_FILES, ...ETC_SECRET_DIRS, ...sshKeys, ...hidden];
  const found: MountOp[] = [];
  for (const path of candidates) {
    const real = await realpath(path).catch(() => undefined);
    const dest = real && locate(real);
    if (!real || !dest) continue;
    const stat = await lstat(real);
    found.push(stat.isDirectory() ? { kind: 'tmpfs', dest } : { kind: 'mask-file', dest });
  }
  // A path inside a masked directory is hidden already (and the read-only tmpfs could not take another mount).
  const dirs = found.filter((op) => op.kind === 'tmpfs').map((op) => op.dest);
  const inMasked = (op: MountOp) => dirs.some((dir) => dir !== op.dest && within(op.dest, dir));
  return found.filter((op, i) => !inMasked(op) && found.findIndex((o) => o.dest === op.dest) === i);
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

function depth(path: string): number {
  return path.split('/').length;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
