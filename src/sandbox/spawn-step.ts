// Runs one step's process for any runner: its own process group, stopped as a whole when the top process
// exits, on timeout and on abort; output goes to the log file and a line tail. Runners only choose the argv.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { inheritableFds, signalGroup } from '../platform/processes.js';
import { type StepCgroup, stepCgroup } from './cgroup.js';
import { failedOnLimit, limitedArgv } from './limits.js';
import { LineTail } from './line-tail.js';
import type { StepInvocation, StepOutcome } from './runner.js';

const KILL_GRACE_MS = 2000;
const MIB = 1024 * 1024;

/** What to start for a step: the runner decides the argv, working directory and the process's own environment. */
export interface ProcessSpec {
  readonly argv: readonly [string, ...string[]];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Written to the child's fd 3, then closed (bubblewrap reads its options there, out of /proc/<pid>/cmdline). */
  readonly fd3?: Uint8Array;
}

/** Starts `spec` and settles with the step's outcome; rejects only when the process cannot be started at all. */
export async function runProcess(spec: ProcessSpec, step: StepInvocation, now: () => number): Promise<StepOutcome> {
  const cgroup = step.limits ? await stepCgroup(step.limits) : undefined;
  const argv = step.limits ? limitedArgv(spec.argv, step.limits, cgroup) : spec.argv;
  try {
    return await runLimited({ ...spec, argv }, step, now, cgroup);
  } finally {
    await cgroup?.remove();
  }
}

function runLimited(
  spec: ProcessSpec,
  step: StepInvocation,
  now: () => number,
  cgroup: StepCgroup | undefined,
): Promise<StepOutcome> {
  const started = now();
  const tail = new LineTail(step.onLine);
  const maxOutput = step.limits ? step.limits.output * MIB : Number.POSITIVE_INFINITY;
  let output = 0;
  return new Promise((resolve, reject) => {
    const log = createWriteStream(step.logFile, { flags: step.appendLog ? 'a' : 'w', mode: 0o644 });
    let logError: Error | undefined;
    log.on('error', (err) => {
      logError ??= err; // e.g. ENOSPC: the step is stopped and the failure reported, never a crash
      group.stop();
    });
    const [file, ...args] = spec.argv;
    const child = spawnSealed(file, args, {
      cwd: spec.cwd,
      env: { ...spec.env },
      stdio: spec.fd3 ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the whole tree can be signalled
    });
    const group = processGroup(child.pid);
    if (spec.fd3) feed(child.stdio[3] as Writable | null, spec.fd3);
    let timedOut = false;
    const timer = step.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          group.stop();
        }, step.timeoutMs)
      : undefined;
    const onAbort = () => group.stop();
    step.signal?.addEventListener('abort', onAbort, { once: true });
    if (step.signal?.aborted) group.stop(); // aborted before the process even started
    for (const [name, stream] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      const decoder = new StringDecoder('utf8');
      stream?.on('data', (chunk: Buffer) => {
        if (output > maxOutput) return; // over its output limit: being stopped, the rest is dropped
        const kept = output + chunk.length > maxOutput ? chunk.subarray(0, maxOutput - output) : chunk;
        output += chunk.length;
        if (output > maxOutput) group.stop();
        tail.push(name, decoder.write(kept));
        if (logError || log.write(kept)) return;
        stream.pause(); // the log file is slower than the step: hold the step back rather than buffer its output
        log.once('drain', () => stream.resume());
      });
      stream?.on('end', () => tail.end(name, decoder.end()));
    }
    child.on('error', (err) => {
      clearTimeout(timer);
      step.signal?.removeEventListener('abort', onAbort);
      log.end();
      reject(err);
    });
    child.on('exit', () => group.stop()); // the top process is done: whatever it left running goes too
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      step.signal?.removeEventListener('abort', onAbort);
      group.kill();
      const overOutput = output > maxOutput;
      const failed = timedOut || logError !== undefined || overOutput || code !== 0;
      const lines = tail.lines();
      const limit =
        failed && step.limits
          ? await failedOnLimit(step.limits, { output: overOutput, cgroup, tail: lines })
          : undefined;
      const outcome = (): StepOutcome => ({
        exitCode: timedOut || logError || overOutput ? null : code,
        signal: signal ?? null,
        durationMs: now() - started,
        logTail: [
          ...lines,
          ...(timedOut
            ? [`kiln: step timed out after ${Math.round((step.timeoutMs ?? 0) / 1000)}s and was stopped`]
            : []),
          ...(logError ? [`kiln: cannot write the step log ${step.logFile}: ${logError.message}`] : []),
          ...(limit ? [`kiln: the step hit its ${limit.text}`] : []),
        ],
        ...(limit ? { limitHit: limit } : {}),
      });
      if (logError) resolve(outcome());
      else log.end(() => resolve(outcome()));
    });
  });
}

/**
 * spawn() with every descriptor this process inherited without close-on-exec (`kiln build 20</secret 21</`)
 * replaced by /dev/null in the child. Node only sets up the descriptors named in `stdio`; the others go through
 * exec as they are, and bubblewrap hands them into the sandbox, where a directory one opens the host's
 * filesystem (/proc/self/fd/21/…) and a socket one reaches the host's network.
 */
function spawnSealed(
  file: string,
  args: string[],
  opts: SpawnOptions & { stdio: Array<'ignore' | 'pipe' | number> },
): ChildProcess {
  const leaked = inheritableFds().filter((fd) => fd >= opts.stdio.length);
  if (leaked.length === 0) return spawn(file, args, opts);
  const devNull = openSync('/dev/null', 'r'); // close-on-exec itself; dup'ed over each leaked number in the child
  try {
    const stdio = [...opts.stdio];
    for (let fd = stdio.length; fd <= Math.max(...leaked); fd++) stdio.push(leaked.includes(fd) ? devNull : 'ignore');
    return spawn(file, args, { ...opts, stdio });
  } finally {
    closeSync(devNull); // spawn() returns once the child has exec'ed
  }
}

/** Writes `data` to a child's extra input and closes it; a child that exits before reading it fails on its own. */
function feed(stream: Writable | null, data: Uint8Array): void {
  stream?.on('error', () => {
    // EPIPE: the child is gone already; its exit status and log say why.
  });
  stream?.end(data);
}

/** SIGTERM to the group, then SIGKILL after a grace period (the timer keeps Kiln alive until then). */
function processGroup(pid: number | undefined) {
  let timer: NodeJS.Timeout | undefined;
  const send = (sig: NodeJS.Signals) => {
    if (pid !== undefined) signalGroup(pid, sig);
  };
  return {
    stop(): void {
      if (timer) return;
      send('SIGTERM');
      timer = setTimeout(() => send('SIGKILL'), KILL_GRACE_MS);
    },
    kill(): void {
      clearTimeout(timer);
      send('SIGKILL');
    },
  };
}
