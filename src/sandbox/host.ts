// Runs steps directly on the host: no isolation (provenance says so). The step's whole process group is
// stopped when its shell exits, on timeout and on abort, so nothing a step started outlives it.
import type { StepRunner } from './runner.js';
import { runProcess } from './spawn-step.js';

/** A StepRunner that spawns `sh -c` on the host with the given environment only. */
export function hostRunner(opts: { now?: () => number } = {}): StepRunner {
  const now = opts.now ?? Date.now;
  return {
    kind: 'host',
    sandboxed: false,
    run: (step) => runProcess({ argv: ['/bin/sh', '-c', step.command], cwd: step.cwd, env: step.env }, step, now),
  };
}
