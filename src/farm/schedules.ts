// The cron schedules of `kiln serve --config`: one loop that sleeps on a single timer until the next tick of any
// schedule, then submits the ref of each due schedule to the build service. A schedule missed while the server was
// down runs once at start, not once per missed tick; one first seen only records when it was, and fires from its
// next tick on. Each run is claimed in the store before its build is submitted (at most once per tick).

import type { ServerConfig } from '../config/index.js';
import type { Log } from '../core/log.js';
import {
  claimScheduleRun,
  recordScheduleBaseline,
  recordScheduleOutcome,
  type Store,
  scheduleRuns,
} from '../store/index.js';
import { dueRuns, nextFireAt, type ProjectSchedule, projectSchedules } from './schedule-times.js';
import type { BuildService } from './service.js';

/** Everything the scheduler runs over. */
export interface SchedulerDeps {
  readonly config: ServerConfig;
  readonly store: Store;
  readonly service: Pick<BuildService, 'submit'>;
  readonly log?: Log;
  /** The clock (tests pass a fixed one); the timer itself is the runtime's. */
  readonly now?: () => Date;
}

/** A started scheduler. */
export interface Scheduler {
  /** Resolves once the pass at start (which runs the schedules missed while the server was down) has ended. */
  readonly started: Promise<void>;
  /** Stops: a sleep ends at once, no further build is submitted; resolves when a submission under way has ended. */
  stop(): Promise<void>;
}

/** The longest a timer may be set for (setTimeout's limit); a later tick is slept towards in steps. */
const MAX_SLEEP_MS = 2 ** 31 - 1;

/** Starts the scheduler of `config`'s schedules over the build service. */
export function startScheduler(deps: SchedulerDeps): Scheduler {
  const schedules = projectSchedules(deps.config);
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? (() => {});
  let stopped = false;
  let wake: (() => void) | undefined;
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
    });

  const describe = (s: ProjectSchedule) =>
    `schedule "${s.schedule.cron}" (${s.schedule.timezone}) of ${s.project} for ${s.schedule.ref}`;

  async function fire(s: ProjectSchedule & { tick: Date }): Promise<void> {
    const fireAt = s.tick.toISOString();
    if (!(await claimScheduleRun(deps.store, s.project, s.key, fireAt))) return; // another pass took this tick
    try {
      const job = await deps.service.submit({ project: s.project, ref: s.schedule.ref });
      await recordScheduleOutcome(deps.store, s.project, s.key, fireAt, { jobId: job.id });
      log(`${describe(s)}: tick ${fireAt} queued job ${job.id}${job.deduplicated ? ' (already queued)' : ''}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await recordScheduleOutcome(deps.store, s.project, s.key, fireAt, { error: message });
      log(`${describe(s)}: tick ${fireAt} could not be queued: ${message}`);
    }
  }

  async function pass(): Promise<void> {
    const at = now();
    const plan = dueRuns(schedules, await scheduleRuns(deps.store), at);
    for (const s of plan.baselines) await recordScheduleBaseline(deps.store, s.project, s.key, at.toISOString());
    for (const s of plan.due) {
      if (stopped) return;
      await fire(s);
    }
  }

  const safePass = () => pass().catch((err: unknown) => log(`schedules: a pass failed: ${String(err)}`));

  async function loop(): Promise<void> {
    await safePass();
    markStarted();
    while (!stopped) {
      const next = nextFireAt(schedules, now());
      if (next === null) return; // no schedule ever fires again
      await sleep(Math.min(Math.max(next.getTime() - now().getTime(), 0), MAX_SLEEP_MS));
      if (!stopped) await safePass();
    }
  }

  const done = loop();
  return {
    started,
    async stop() {
      stopped = true;
      wake?.();
      markStarted();
      await done;
    },
  };
}
