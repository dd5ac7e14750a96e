import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bubblewrapRunner } from '../../../src/sandbox/index.js';
import { alive } from '../../helpers/process.js';
import { pidsMentioning, pidsRunning, runStep, uniqueSeconds } from '../../helpers/sandbox-steps.js';

// Inside the sandbox's pid namespace the step's pids mean nothing on the host, so the tests find the
// processes from the host side: the sleeps by their unique command line, and everything whose command line
// mentions the step's command (bubblewrap, its pid-1 reaper, the shell).

/** Waits until both background sleeps run (exec'd, not just forked), then returns every host pid of the step. */
async function stepProcesses(sleeps: readonly string[], marker: string): Promise<number[]> {
  for (let i = 0; i < 200; i++) {
    const found = sleeps.map((s) => pidsRunning(['sleep', s]));
    if (found.every((pids) => pids.length === 1)) return [...found.flat(), ...pidsMentioning(marker)];
    await sleep(25);
  }
  throw new Error(`the step's sleeps never appeared: ${sleeps.join(', ')}`);
}

async function gone(pids: readonly number[]): Promise<number[]> {
  for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(50);
  return pids.filter(alive);
}

function treeCommand() {
  const sleeps = [uniqueSeconds(300), uniqueSeconds(301)];
  const command = `sh -c 'sleep ${sleeps[0]}' & sleep ${sleeps[1]} & echo started; wait`;
  return { sleeps, command, marker: sleeps[1] as string };
}

describe('bubblewrap sandbox: stopping a step', () => {
  const runner = bubblewrapRunner();

  it('on timeout stops the whole tree inside the sandbox, bubblewrap included', async () => {
    const { sleeps, command, marker } = treeCommand();
    let pids: Promise<number[]> | undefined;
    const run = await runStep(runner, command, {
      timeoutMs: 1500,
      onLine: (line) => {
        if (line === 'started') pids = stepProcesses(sleeps, marker);
      },
    });
    const seen = (await pids) ?? [];
    expect(seen.length).toBeGreaterThanOrEqual(5); // bwrap, its reaper, sh, sh -c sleep, sleep, sleep
    expect(run.exitCode).toBeNull();
    expect(run.logTail.at(-1)).toBe('kiln: step timed out after 2s and was stopped');
    expect(await gone(seen)).toEqual([]);
  });

  it('on abort stops the whole tree inside the sandbox', async () => {
    const { sleeps, command, marker } = treeCommand();
    const abort = new AbortController();
    let seen: number[] = [];
    const run = await runStep(runner, command, {
      signal: abort.signal,
      onLine: (line) => {
        if (line === 'started')
          void stepProcesses(sleeps, marker).then((pids) => {
            seen = pids;
            abort.abort();
          });
      },
    });
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(run.exitCode).not.toBe(0);
    expect(await gone(seen)).toEqual([]);
  });

  it('ends what the step left running once its shell exits, without waiting for it', async () => {
    const detached = uniqueSeconds(300);
    const holdsPipe = uniqueSeconds(302);
    let pids: Promise<number[]> | undefined;
    const run = await runStep(
      runner,
      `sleep ${detached} > /dev/null 2>&1 & sleep ${holdsPipe} & echo started; sleep 1`,
      {
        onLine: (line) => {
          if (line === 'started') pids = stepProcesses([detached, holdsPipe], holdsPipe);
        },
      },
    );
    expect(run.exitCode).toBe(0);
    expect(run.log).toBe('started\n');
    const seen = (await pids) ?? [];
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(await gone(seen)).toEqual([]);
  });

  it('reports a step killed by a signal inside the sandbox as a failure', async () => {
    const run = await runStep(runner, 'echo before; kill -KILL $$');
    expect(run.log).toBe('before\n');
    expect(run.exitCode).toBe(128 + 9); // bubblewrap's reaper turns the signal into an exit status
  });
});
