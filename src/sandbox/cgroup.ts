// A control group per step, where this host lets Kiln make one under its own (cgroup v2 with the pids and memory
// controllers delegated, or writable v1 pids and memory hierarchies): the only way to bound a step's processes and
// memory as a whole, and the only bound on processes for root, whom RLIMIT_NPROC does not stop.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';
const MIB = 1024 * 1024;

/** A step's control group: the files its first process writes its pid to, and what the kernel counted. */
export interface StepCgroup {
  /** `cgroup.procs` files the step's first process joins before it starts anything. */
  readonly procs: readonly string[];
  /** Which limit the kernel enforced during the step, if any. */
  hit(): Promise<'processes' | 'memory' | undefined>;
  /** Removes the group once its processes are gone (best effort: an empty group left behind is harmless). */
  remove(): Promise<void>;
}

/** A new control group bounding processes and memory (MiB), or undefined where none can be made here. */
export async function stepCgroup(limits: { processes: number; memory: number }): Promise<StepCgroup | undefined> {
  const own = await fsp.readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  const name = `kiln-step-${randomBytes(6).toString('hex')}`;
  const v2 = /^0::(\/.*)$/m.exec(own)?.[1];
  if (v2 !== undefined && (await exists(join(ROOT, 'cgroup.controllers')))) {
    return (await unified(join(ROOT, v2, name), limits)) ?? undefined;
  }
  const pids = /^\d+:pids:(\/.*)$/m.exec(own)?.[1];
  const memory = /^\d+:memory:(\/.*)$/m.exec(own)?.[1];
  if (pids === undefined || memory === undefined) return undefined;
  return legacy(join(ROOT, 'pids', pids, name), join(ROOT, 'memory', memory, name), limits);
}

async function unified(dir: string, limits: { processes: number; memory: number }) {
  if (!(await made(dir))) return undefined;
  const controllers = await fsp.readFile(join(dir, 'cgroup.controllers'), 'utf8').catch(() => '');
  const set = await Promise.all([
    write(join(dir, 'pids.max'), limits.processes),
    write(join(dir, 'memory.max'), limits.memory * MIB),
  ]);
  if (!/\bpids\b/.test(controllers) || !/\bmemory\b/.test(controllers) || set.includes(false)) {
    await fsp.rmdir(dir).catch(() => undefined); // controllers not delegated to Kiln's group: rlimits only
    return undefined;
  }
  await write(join(dir, 'memory.swap.max'), 0); // else the limit only moves the step's memory to swap
  return {
    procs: [join(dir, 'cgroup.procs')],
    hit: async () => {
      if ((await counter(join(dir, 'pids.events'), 'max')) > 0) return 'processes' as const;
      if ((await counter(join(dir, 'memory.events'), 'oom_kill')) > 0) return 'memory' as const;
      return undefined;
    },
    remove: async () => {
      await write(join(dir, 'cgroup.kill'), 1);
      await removeDir(dir);
    },
  };
}

async function legacy(pids: string, memory: string, limits: { processes: number; memory: number }) {
  if (!(await made(pids))) return undefined;
  if (!(await made(memory))) {
    await removeDir(pids);
    return undefined;
  }
  const set = await Promise.all([
    write(join(pids, 'pids.max'), limits.processes),
    write(join(memory, 'memory.limit_in_bytes'), limits.memory * MIB),
  ]);
  if (set.includes(false)) {
    await Promise.all([removeDir(pids), removeDir(memory)]);
    return undefined;
  }
  await write(join(memory, 'memory.memsw.limit_in_bytes'), limits.memory * MIB); // swap included, where accounted
  return {
    procs: [join(pids, 'cgroup.procs'), join(memory, 'cgroup.procs')],
    hit: async () => {
      if ((await counter(join(pids, 'pids.events'), 'max')) > 0) return 'processes' as const;
      if ((await counter(join(memory, 'memory.oom_control'), 'oom_kill')) > 0) return 'memory' as const;
      return undefined;
    },
    remove: async () => {
      await Promise.all([removeDir(pids), removeDir(memory)]);
    },
  };
}

/** The number after `key` in a flat-keyed cgroup file (`max 3`, `oom_kill 1`); 0 when absent. */
async function counter(file: string, key: string): Promise<number> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

async function made(dir: string): Promise<boolean> {
  return fsp.mkdir(dir).then(
    () => true,
    () => false,
  );
}

async function write(file: string, value: number): Promise<boolean> {
  return fsp.writeFile(file, String(value)).then(
    () => true,
    () => false,
  );
}

async function exists(path: string): Promise<boolean> {
  return fsp.access(path).then(
    () => true,
    () => false,
  );
}

/** rmdir, retried briefly: the kernel lets a group go only once its last (killed) process has been reaped. */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const gone = await fsp.rmdir(dir).then(
      () => true,
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
    );
    if (gone) return;
    await new Promise((wait) => setTimeout(wait, 50));
  }
}
