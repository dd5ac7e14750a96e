// When the cron schedules of kiln-server.yaml fire, as pure functions of `now` (croner, in each schedule's time zone):
// which schedules are due (once, however many of their ticks were missed) and when the next one fires.
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import type { Schedule, ServerConfig } from '../config/index.js';

/** A schedule of a project, with the key its runs are recorded under. */
export interface ProjectSchedule {
  readonly project: string;
  readonly schedule: Schedule;
  /** SHA-256 (hex) of its cron, time zone and ref: editing any of them makes a new schedule. */
  readonly key: string;
}

/** A schedule's last recorded run: the tick it fired for, or when it was first seen. */
export interface LastRun {
  readonly project: string;
  readonly key: string;
  readonly lastFireAt: string;
}

/** What a pass over the schedules does at `now`. */
export interface DuePlan {
  /** Schedules to submit now, each with the latest tick it fires for. */
  readonly due: readonly (ProjectSchedule & { readonly tick: Date })[];
  /** Schedules first seen: `now` is recorded as their last run; they fire from their next tick on. */
  readonly baselines: readonly ProjectSchedule[];
}

/** The key a schedule's runs are recorded under. */
export function scheduleKey(schedule: Schedule): string {
  return createHash('sha256')
    .update(JSON.stringify([schedule.cron, schedule.timezone, schedule.ref]))
    .digest('hex');
}

/** Every schedule of the configured projects, in file order. */
export function projectSchedules(config: ServerConfig): readonly ProjectSchedule[] {
  return Object.freeze(
    config.projects.flatMap((p) =>
      p.schedules.map((schedule) => Object.freeze({ project: p.name, schedule, key: scheduleKey(schedule) })),
    ),
  );
}

function cronOf(schedule: Schedule): Cron {
  return new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
}

/** The latest tick of `schedule` at or before `now`; null when it never fired before. */
export function latestTick(schedule: Schedule, now: Date): Date | null {
  const cron = cronOf(schedule);
  try {
    return cron.previousRuns(1, new Date(now.getTime() + 1))[0] ?? null; // previousRuns excludes its reference
  } finally {
    cron.stop();
  }
}

/** The first tick of `schedule` strictly after `now`; null when it never fires again. */
export function nextTick(schedule: Schedule, now: Date): Date | null {
  const cron = cronOf(schedule);
  try {
    return cron.nextRun(now);
  } finally {
    cron.stop();
  }
}

/**
 * The schedules due at `now`: those whose latest tick is after their last recorded run (one run, however many ticks
 * were missed). A schedule without a recorded run is not due: it gets a baseline.
 */
export function dueRuns(schedules: readonly ProjectSchedule[], lastRuns: readonly LastRun[], now: Date): DuePlan {
  const last = new Map(lastRuns.map((r) => [`${r.project}\n${r.key}`, Date.parse(r.lastFireAt)]));
  const due: (ProjectSchedule & { tick: Date })[] = [];
  const baselines: ProjectSchedule[] = [];
  for (const s of schedules) {
    const lastAt = last.get(`${s.project}\n${s.key}`);
    if (lastAt === undefined) {
      baselines.push(s);
      continue;
    }
    const tick = latestTick(s.schedule, now);
    if (tick !== null && tick.getTime() > lastAt) due.push(Object.freeze({ ...s, tick }));
  }
  return Object.freeze({ due: Object.freeze(due), baselines: Object.freeze(baselines) });
}

/** When the next of `schedules` fires after `now`; null when none ever fires again. */
export function nextFireAt(schedules: readonly ProjectSchedule[], now: Date): Date | null {
  let next: Date | null = null;
  for (const s of schedules) {
    const t = nextTick(s.schedule, now);
    if (t !== null && (next === null || t < next)) next = t;
  }
  return next;
}
