// This process and the others it deals with, as the operating system knows them: the only file outside the CLI that
// reads process state. Locks record who holds them, work dirs are private to a user, steps run in process groups,
// and an SBOM lists the packages npm would install on this platform.
import { closeSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { freemem, hostname, totalmem } from 'node:os';

/** The process facts a lock needs, injectable so tests can fake a dead holder or an old clock. */
export interface LockEnv {
  readonly pid: number;
  readonly host: string;
  now(): number;
  isAlive(pid: number): boolean;
  sleep(ms: number): Promise<void>;
}

/** The real process: its pid and host, the wall clock, and `kill(pid, 0)` to test liveness. */
export const PROCESS_LOCK_ENV: LockEnv = Object.freeze({
  pid: process.pid,
  host: hostname(),
  now: () => Date.now(),
  isAlive: (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
});

/** The name of the machine this process runs on (a control-plane worker's host, in its builds' provenance). */
export function hostName(): string {
  return hostname();
}

/** The machine's free and total memory, and this process's resident set, in bytes (a worker's health report). */
export function memoryUsage(): { readonly freeBytes: number; readonly totalBytes: number; readonly rssBytes: number } {
  return { freeBytes: freemem(), totalBytes: totalmem(), rssBytes: process.memoryUsage.rss() };
}

/**
 * This process as one string that no other process shares, even after its pid is reused: host, pid namespace, pid,
 * and the start time the kernel keeps for it (`host/pid:[4026531836]/4242/81234567`). Written on records that a
 * later process must be able to call abandoned (see processGone).
 */
export function processIdentity(pid: number = process.pid): string {
  return `${hostname()}/${pidNamespace()}/${pid}/${startTime(pid) ?? '?'}`;
}

/**
 * Whether the process `identity` (processIdentity) names is certainly gone: it ran on this host and in this pid
 * namespace, and no process with its pid and start time exists now. Another host's or namespace's is never gone here.
 */
export function processGone(identity: string): boolean {
  const [host, namespace, pid, started] = identity.split('/');
  if (host !== hostname() || namespace !== pidNamespace() || !/^\d+$/.test(pid ?? '')) return false;
  const now = startTime(Number(pid));
  return now === undefined ? !PROCESS_LOCK_ENV.isAlive(Number(pid)) : now !== started;
}

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return 'pid:[?]';
  }
}

/** Field 22 of /proc/PID/stat (clock ticks after boot), read after the command name, which may hold spaces. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This process's id (temp file names carry it, so a sweep can tell whose they are). */
export function ownPid(): number {
  return process.pid;
}

/** The user id this process runs as; undefined where there is none (Windows). */
export function ownUid(): number | undefined {
  return process.getuid?.();
}

/** Sends `signal` to the process group `pid` leads; a group already gone is not an error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** O_CLOEXEC in the octal `flags:` line of /proc/self/fdinfo/N. */
const CLOSE_ON_EXEC = 0o2000000;

/**
 * Descriptors above stderr that this process holds open without close-on-exec: what it inherited from its own
 * parent (`kiln build 20</secret`). Every child started by exec would inherit them too. Node opens all of its own
 * descriptors close-on-exec, so this is exactly what leaked in. Empty where /proc is not there.
 */
export function inheritableFds(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  const fds: number[] = [];
  for (const fd of names.map(Number).filter((n) => n > 2)) {
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile, e.g. the descriptor of the listing itself
    }
    const flags = /^flags:\s*([0-7]+)$/m.exec(info)?.[1];
    if (flags !== undefined && (Number.parseInt(flags, 8) & CLOSE_ON_EXEC) === 0) fds.push(fd);
  }
  return fds.sort((a, b) => a - b);
}

/**
 * Closes what `inheritableFds()` lists (bar Node's IPC channel), for a process that uses no descriptor it inherited
 * beyond stdin, stdout and stderr: the CLI. Then nothing it starts (git, a step) gets them either.
 */
export function closeInheritedFds(): void {
  const ipc = Number(process.env.NODE_CHANNEL_FD ?? -1);
  for (const fd of inheritableFds()) {
    if (fd === ipc) continue;
    try {
      closeSync(fd);
    } catch {
      // Closed meanwhile.
    }
  }
}

/** The platform a build installs for, in npm's terms (os, cpu, libc family), read once per process. */
export interface HostPlatform {
  readonly os: string;
  readonly cpu: string;
  /** 'glibc' or 'musl' on Linux; undefined elsewhere or when unknown. */
  readonly libc?: string | undefined;
}

let host: HostPlatform | undefined;

/** This machine's platform (libc from the process report, as npm reads it). */
export function hostPlatform(): HostPlatform {
  host ??= { os: process.platform, cpu: process.arch, libc: hostLibc() };
  return host;
}

function hostLibc(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const report = process.report as typeof process.report & { excludeNetwork?: boolean };
  const excludeNetwork = report.excludeNetwork;
  report.excludeNetwork = true; // the report would otherwise resolve host names of open sockets
  try {
    const { header, sharedObjects } = report.getReport() as {
      header?: { glibcVersionRuntime?: string };
      sharedObjects?: unknown;
    };
    if (header?.glibcVersionRuntime !== undefined) return 'glibc';
    const musl = (so: unknown) => typeof so === 'string' && (so.includes('libc.musl-') || so.includes('ld-musl-'));
    return Array.isArray(sharedObjects) && sharedObjects.some(musl) ? 'musl' : undefined;
  } finally {
    report.excludeNetwork = excludeNetwork;
  }
}
