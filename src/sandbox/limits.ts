// A step's resource limits: a control group bounds its processes and memory as a whole where the host allows one
// (see cgroup.ts); rlimits, set by a shell just before the runner's own command, bound each process otherwise, and
// always bound open files. Output is counted as it is read (spawn-step.ts).
import type { StepCgroup } from './cgroup.js';
import type { LimitHit, StepLimits } from './runner.js';

/**
 * $1 open files, $2 data KiB and $3 processes ("-": the control group bounds them), then the `cgroup.procs` files to
 * join up to `--`, then the command. A limit that cannot be raised stays at the lower one the host already sets.
 * RLIMIT_NPROC is `-u` in bash and `-p` in dash.
 */
const LIMIT_SCRIPT = [
  'ulimit -n "$1" 2>/dev/null; [ "$2" = - ] || ulimit -d "$2" 2>/dev/null',
  '[ "$3" = - ] || ulimit -u "$3" 2>/dev/null || ulimit -p "$3" 2>/dev/null; shift 3',
  'while [ "$1" != -- ]; do echo $$ > "$1" || { echo "kiln: cannot join the step\'s control group $1" >&2; exit 125; }; shift; done',
  'shift; exec "$@"',
].join('\n');

/** `argv` run under `limits`, joining `cgroup` first when there is one. */
export function limitedArgv(
  argv: readonly [string, ...string[]],
  limits: StepLimits,
  cgroup: StepCgroup | undefined,
): [string, ...string[]] {
  // A control group bounds the whole step, and its kernel counters say which limit was hit: no rlimits then.
  const rlimits = cgroup
    ? [String(limits.openFiles), '-', '-']
    : [String(limits.openFiles), String(limits.memory * 1024), String(limits.processes)];
  return ['/bin/sh', '-c', LIMIT_SCRIPT, 'kiln-limits', ...rlimits, ...(cgroup?.procs ?? []), '--', ...argv];
}

/** How a limit reads in an error: `memory limit (512 MiB)`. */
export function limitHit(limit: keyof StepLimits, limits: StepLimits): LimitHit {
  const text = {
    processes: `process limit (${limits.processes})`,
    memory: `memory limit (${limits.memory} MiB)`,
    openFiles: `open files limit (${limits.openFiles} per process)`,
    output: `output limit (${limits.output} MiB)`,
  }[limit];
  return { limit, text };
}

/**
 * Which limit a failed step hit: output (counted here), then what its control group counted, then what only the
 * step sees (EMFILE, and ENOMEM under rlimits), so its log saying "Too many open files" or "out of memory" is the sign.
 */
export async function failedOnLimit(
  limits: StepLimits,
  found: { output: boolean; cgroup: StepCgroup | undefined; tail: readonly string[] },
): Promise<LimitHit | undefined> {
  if (found.output) return limitHit('output', limits);
  const counted = await found.cgroup?.hit();
  if (counted) return limitHit(counted, limits);
  if (found.tail.some((line) => line.includes('Too many open files'))) return limitHit('openFiles', limits);
  // Without a control group, memory is bounded per process (RLIMIT_DATA): an allocation fails in the step (not
  // V8 reaching its own heap size, "JavaScript heap out of memory", which is no limit of ours).
  if (!found.cgroup && found.tail.some((line) => /Cannot allocate memory|(?<!heap )out of memory/i.test(line))) {
    return limitHit('memory', limits);
  }
  return undefined;
}
