// Observability use cases: the metrics (Prometheus exposition, from the store), the SLO rules and Alertmanager
// configuration made from kiln-server.yaml, and the alert log Alertmanager writes to.
import { promises as fsp } from 'node:fs';
import { stringify } from 'yaml';
import { defaultObservability, type ServerConfig } from '../config/index.js';
import { KilnError } from '../core/errors.js';
import { parseObject } from '../core/json.js';
import { alertmanagerConfig } from '../observe/alertmanager.js';
import { renderExposition } from '../observe/exposition.js';
import { metricFamilies, type WorkerGauge } from '../observe/metrics.js';
import { sloRules } from '../observe/rules.js';
import { packageFile } from '../platform/assets.js';
import {
  type AlertRow,
  alertRows,
  currentFacts,
  metricFacts,
  recordAlerts,
  type Store,
  WORKER_REPORT_MS,
  workerRows,
} from '../store/index.js';
import type { KilnPorts } from './ports.js';

/** The store's metrics as Prometheus exposition text; `config` gives teams and branch classes (defaults without). */
export async function metricsText(
  ports: Pick<KilnPorts, 'store' | 'now'>,
  config: Pick<ServerConfig, 'projects' | 'slo'> | undefined,
): Promise<string> {
  const store = await ports.store();
  const now = ports.now().getTime();
  const [facts, current, workers] = await Promise.all([
    metricFacts(store),
    currentFacts(store),
    workerGauges(store, now),
  ]);
  const { projects, slo } = config ?? defaultObservability();
  const families = metricFamilies({ facts, current, workers, projects, slo, now });
  return renderExposition(families);
}

async function workerGauges(store: Store, now: number): Promise<WorkerGauge[]> {
  const rows = await workerRows(store, new Date(now - 3_600_000).toISOString());
  return rows.map((row) => {
    const age = Math.max(0, now - Date.parse(row.heartbeat_at));
    const health = parseObject(row.health);
    const bytes = (key: string) => (typeof health[key] === 'number' ? (health[key] as number) : null);
    return {
      id: row.id,
      host: row.host,
      up: row.state !== 'stopped' && age <= 3 * WORKER_REPORT_MS,
      heartbeatAgeMs: age,
      workFreeBytes: bytes('workFreeBytes'),
      cacheFreeBytes: bytes('cacheFreeBytes'),
      memFreeBytes: bytes('memFreeBytes'),
    };
  });
}

/** What the rules and Alertmanager config read of kiln-server.yaml (its defaults without one). */
export type ObservabilityConfig = Pick<ServerConfig, 'listen' | 'slo' | 'alerting'>;

/** The server's URL as Alertmanager and runbook links name it: `alerting.kilnUrl`, else http:// and `listen`. */
export function serverUrlOf(config: Pick<ServerConfig, 'listen' | 'alerting'>): string {
  if (config.alerting.kilnUrl) return config.alerting.kilnUrl;
  const { host, port } = config.listen;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Prometheus recording and alerting rules (YAML) for the file's SLOs. */
export function sloRulesYaml(config: ObservabilityConfig = defaultObservability()): string {
  return stringify(sloRules(config.slo, serverUrlOf(config)), { lineWidth: 0 });
}

/** An Alertmanager configuration (YAML) for the file's `alerting`. */
export function alertmanagerYaml(config: ObservabilityConfig = defaultObservability()): string {
  return stringify(alertmanagerConfig(config.alerting, serverUrlOf(config)), { lineWidth: 0 });
}

/** One alert of an Alertmanager webhook (version 4). */
interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt?: string;
  readonly fingerprint: string;
}

/** Records the alerts of an Alertmanager webhook body in the alert log; returns how many. */
export async function receiveAlerts(ports: Pick<KilnPorts, 'store' | 'now'>, body: unknown): Promise<number> {
  const alerts = webhookAlerts(body);
  await recordAlerts(
    await ports.store(),
    alerts.map((a) => ({
      fingerprint: a.fingerprint,
      starts_at: a.startsAt,
      status: a.status,
      alertname: a.labels.alertname ?? '',
      severity: a.labels.severity ?? '',
      project: a.labels.project ?? '',
      team: a.labels.team ?? '',
      labels: JSON.stringify(a.labels),
      annotations: JSON.stringify(a.annotations),
      // Alertmanager sends 0001-01-01T00:00:00Z for "not ended".
      ends_at: a.status === 'resolved' && a.endsAt ? a.endsAt : null,
      received_at: ports.now().toISOString(),
    })),
  );
  return alerts.length;
}

/** A runbook the alerts link to (Markdown, from docs/runbooks/ of Kiln's package); undefined for no such name. */
export async function readRunbook(name: string): Promise<string | undefined> {
  if (!/^[a-z0-9-]+$/.test(name)) return undefined;
  return fsp.readFile(packageFile(`docs/runbooks/${name}.md`), 'utf8').catch(() => undefined);
}

/** The alert log, newest first. */
export async function alertLog(
  ports: Pick<KilnPorts, 'store'>,
  query: { readonly limit: number; readonly status?: 'firing' | 'resolved' | undefined },
): Promise<AlertRow[]> {
  return alertRows(await ports.store(), query);
}

function webhookAlerts(body: unknown): WebhookAlert[] {
  const bad = (what: string) =>
    new KilnError('KILN_BAD_REQUEST', `not an Alertmanager webhook: ${what}`, {
      hint: 'POST /v1/alerts takes the JSON Alertmanager sends to a webhook_config (version 4)',
    });
  if (body === null || typeof body !== 'object' || !Array.isArray((body as { alerts?: unknown }).alerts)) {
    throw bad('no "alerts" array');
  }
  const alerts = (body as { alerts: unknown[] }).alerts;
  return alerts.map((a, i) => {
    const x = a as Partial<WebhookAlert> | null;
    const strings = (o: unknown) =>
      o !== null && typeof o === 'object' && Object.values(o).every((v) => typeof v === 'string');
    if (
      x === null ||
      typeof x !== 'object' ||
      (x.status !== 'firing' && x.status !== 'resolved') ||
      typeof x.fingerprint !== 'string' ||
      x.fingerprint === '' ||
      typeof x.startsAt !== 'string' ||
      Number.isNaN(Date.parse(x.startsAt)) ||
      !strings(x.labels) ||
      !strings(x.annotations ?? {})
    ) {
      throw bad(`alerts[${i}] lacks status, fingerprint, startsAt or string labels`);
    }
    return { ...x, annotations: x.annotations ?? {} } as WebhookAlert;
  });
}
