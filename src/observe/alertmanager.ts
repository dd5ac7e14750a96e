// An Alertmanager configuration for Kiln's alerts: every alert reaches Kiln's own alert log (POST /v1/alerts, with a
// trigger token read from a file), and the alerts of a project whose team has a receiver reach that team too.
// Grouped by project and pipeline; a page silences the tickets of the same project.
import type { AlertingConfig } from '../config/index.js';

/** The receiver that writes Kiln's alert log. */
export const KILN_RECEIVER = 'kiln-alert-log';

/** The Alertmanager configuration (alertmanager.yml as an object) for `alerting`; `serverUrl` is Kiln's URL. */
export function alertmanagerConfig(alerting: AlertingConfig, serverUrl: string): Record<string, unknown> {
  const teams = Object.keys(alerting.teams).sort();
  const teamReceiver = (team: string) => `team-${team.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return {
    route: {
      receiver: KILN_RECEIVER,
      group_by: ['project', 'pipeline'],
      group_wait: alerting.groupWait,
      group_interval: alerting.groupInterval,
      repeat_interval: alerting.repeatInterval,
      routes: [
        { receiver: KILN_RECEIVER, continue: true }, // every alert is in Kiln's log, whoever else gets it
        ...teams.map((team) => ({ receiver: teamReceiver(team), matchers: [`team=${JSON.stringify(team)}`] })),
      ],
    },
    receivers: [
      {
        name: KILN_RECEIVER,
        webhook_configs: [
          {
            url: `${alerting.kilnUrl ?? serverUrl}/v1/alerts`,
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials_file: alerting.tokenFile } },
          },
        ],
      },
      ...teams.map((team) => ({
        name: teamReceiver(team),
        webhook_configs: [{ url: alerting.teams[team]?.webhook, send_resolved: true }],
      })),
    ],
    inhibit_rules: [
      {
        // A page already has someone on it: the same project's tickets would only add noise.
        source_matchers: ['severity="page"'],
        target_matchers: ['severity="ticket"'],
        equal: ['project'],
      },
      {
        // Out of disk, a worker fails every build it takes: the disk page says why, the failures' pages do not.
        source_matchers: ['alertname="KilnWorkerDiskLow"'],
        target_matchers: ['alertname=~"KilnWorkerFailures.*"'],
      },
    ],
  };
}
