// A cron schedule of kiln-server.yaml is checked with the scheduler that will run it (croner), without starting it.
import { Cron } from 'croner';

/** The problems of one cron schedule: its expression, its time zone, and whether it ever fires. */
export function scheduleProblems(cron: string, timezone: string): { path: string[]; message: string }[] {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    return [
      {
        path: ['timezone'],
        message: `unknown time zone "${timezone}": expected an IANA name such as Europe/Paris or UTC`,
      },
    ];
  }
  if (!cron.startsWith('@') && cron.trim().split(/\s+/).length !== 5) {
    return [
      { path: ['cron'], message: 'expected 5 fields: minute hour day-of-month month day-of-week (e.g. "0 3 * * *")' },
    ];
  }
  let job: Cron | undefined;
  try {
    job = new Cron(cron, { timezone, paused: true });
    if (job.nextRun() === null) return [{ path: ['cron'], message: 'the expression never fires (no such date)' }];
    return [];
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    return [{ path: ['cron'], message: `not a cron expression: ${why}` }];
  } finally {
    job?.stop();
  }
}
