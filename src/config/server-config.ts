// kiln-server.yaml as the rest of Kiln uses it: every default filled in, the priority rules complete, secrets as
// references that say where they are written, file paths absolute; frozen.
import { isAbsolute, resolve } from 'node:path';
import { AlertingSchema, type NOTIFY_EVENTS, type ParsedServerConfig, SloSchema } from './server-schema.js';
import { githubRepositoryOf, normalRepository, parseListen } from './server-urls.js';

/** What a resolved secret must look like: any text, or a Standard Webhooks key (`whsec_` + base64). */
export type SecretFormat = 'text' | 'whsec';

interface SecretPlace {
  /** The project whose key it is. */
  readonly project: string;
  /** Its dot-path inside the project, e.g. `webhooks.github.secret`. */
  readonly key: string;
  readonly format: SecretFormat;
}

/** Where a secret is kept; resolveSecret reads it when it is needed. */
export type SecretRef =
  | (SecretPlace & { readonly kind: 'env'; readonly env: string })
  | (SecretPlace & { readonly kind: 'file'; readonly file: string });

/** A branch glob → priority class rule; the last rule of a normalized project matches every branch. */
export interface PriorityRule {
  readonly branches: readonly string[];
  readonly class: string;
}

/** A cron schedule (validated with croner in its time zone). */
export interface Schedule {
  readonly cron: string;
  readonly timezone: string;
  readonly ref: string;
}

/** A build event a notification target can receive. */
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** A downstream service told about builds. */
export interface NotifyTarget {
  readonly url: string;
  readonly secret: SecretRef;
  readonly events: readonly NotifyEvent[];
}

/** Where and how a project's commit statuses go to GitHub. */
export interface GitHubStatuses {
  readonly token: SecretRef;
  /** The API root, without a trailing "/". */
  readonly api: string;
  readonly owner: string;
  readonly repo: string;
  readonly context: string;
  /** The status link, "{job}" standing for the job id; none when undefined. */
  readonly targetUrl: string | undefined;
}

/** One configured project: the only repositories the server fetches. */
export interface ServerProject {
  readonly name: string;
  /** The URL as written. */
  readonly repository: string;
  /** The URL in the form every spelling of it shares (see normalRepository); what webhooks are matched against. */
  readonly repositoryKey: string;
  readonly path: string;
  readonly branches: readonly string[];
  readonly tags: readonly string[];
  /** Complete: ends with a rule for `**`, so every branch has a class. */
  readonly priority: readonly PriorityRule[];
  readonly team: string | undefined;
  readonly concurrency: number;
  readonly supersede: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly webhooks: {
    readonly github?: { readonly secret: SecretRef };
    readonly gitlab?: { readonly token: SecretRef };
    readonly standard?: { readonly secret: SecretRef };
  };
  readonly credentials: { readonly username: string; readonly password: SecretRef } | undefined;
  readonly schedules: readonly Schedule[];
  readonly notify: readonly NotifyTarget[];
  readonly statuses: { readonly github?: GitHubStatuses };
}

/** Where builds are recorded. */
export type ServerDatabase = { readonly kind: 'sqlite' } | { readonly kind: 'postgres'; readonly url: string };

/** kiln-server.yaml, validated and normalized. */
export interface ServerConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly database: ServerDatabase;
  readonly concurrency: number;
  /** How long a job's lease lasts without a heartbeat. */
  readonly leaseMs: number;
  /** How long ended jobs, their logs, finished notifications, webhook deliveries and silent workers are kept. */
  readonly historyMs: number;
  /** Highest first. */
  readonly classes: readonly string[];
  /** The class of a branch no rule matches: "normal", or the lowest class when `classes` has no "normal". */
  readonly defaultClass: string;
  readonly limits: { readonly webhookBodyBytes: number };
  readonly projects: readonly ServerProject[];
  readonly slo: SloConfig;
  readonly alerting: AlertingConfig;
}

/** The branch classes SLOs are kept per. */
export type BranchClass = 'main' | 'release' | 'other';

/** An SLI's objective per branch class, and the latency threshold for a latency SLI (seconds). */
export type Objective = Readonly<Record<BranchClass, number>> & { readonly seconds?: number };

/** kiln-server.yaml `slo`. */
export interface SloConfig {
  readonly mainBranches: readonly string[];
  readonly releaseBranches: readonly string[];
  /** Without a trailing slash; undefined: the server's own /runbooks. */
  readonly runbookUrl: string | undefined;
  readonly objectives: {
    readonly buildSuccess: Objective;
    readonly buildLatency: Objective & { readonly seconds: number };
    readonly publishTime: Objective & { readonly seconds: number };
    readonly queueWait: Objective & { readonly seconds: number };
    readonly workerFailures: Objective;
    readonly cacheHitRate: number;
  };
  readonly vulnerabilityDataMaxAgeHours: number;
  readonly workerDiskMinFreeBytes: number;
}

/** kiln-server.yaml `alerting`. */
export interface AlertingConfig {
  /** Without a trailing slash; undefined: http:// and `listen`. */
  readonly kilnUrl: string | undefined;
  readonly tokenFile: string;
  readonly teams: Readonly<Record<string, { readonly webhook: string }>>;
  readonly groupWait: string;
  readonly groupInterval: string;
  readonly repeatInterval: string;
}

/** Branches built at high priority when a project gives no `priority`. */
export const DEFAULT_PRIORITY: PriorityRule = { branches: ['main', 'release/*'], class: 'high' };

/** The class a branch gets when no rule matches it, given the configured classes. */
export function defaultClassOf(classes: readonly string[]): string {
  return classes.includes('normal') ? 'normal' : (classes[classes.length - 1] ?? 'normal');
}

/** A project directory in one spelling: `./web/` and `web` are `web`; the root is `.`. */
export function projectDir(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '') || '.';
}

/** The parsed file in the form the server uses; `dir` is the directory of kiln-server.yaml (for file secrets). */
export function normalizeServerConfig(parsed: ParsedServerConfig, dir: string): ServerConfig {
  const defaultClass = defaultClassOf(parsed.classes);
  return {
    listen: parseListen(parsed.listen) ?? { host: '127.0.0.1', port: 8080 },
    database: parsed.database === undefined ? { kind: 'sqlite' } : { kind: 'postgres', url: parsed.database },
    concurrency: parsed.concurrency,
    leaseMs: parsed.leaseSeconds * 1000,
    historyMs: parsed.historyDays * 86_400_000,
    classes: parsed.classes,
    defaultClass,
    limits: parsed.limits,
    projects: parsed.projects.map((p) => normalizeProject(p, dir, defaultClass)),
    slo: { ...parsed.slo, runbookUrl: parsed.slo.runbookUrl?.replace(/\/+$/, '') },
    alerting: { ...parsed.alerting, kilnUrl: parsed.alerting.kilnUrl?.replace(/\/+$/, '') },
  };
}

function normalizeProject(p: ParsedServerConfig['projects'][number], dir: string, defaultClass: string): ServerProject {
  const ref = (
    r: { env?: string | undefined; file?: string | undefined },
    key: string,
    format: SecretFormat = 'text',
  ) => secretRef(r, { project: p.name, key, format }, dir);
  const webhooks: Record<string, unknown> = {};
  if (p.webhooks.github) webhooks.github = { secret: ref(p.webhooks.github.secret, 'webhooks.github.secret') };
  if (p.webhooks.gitlab) webhooks.gitlab = { token: ref(p.webhooks.gitlab.token, 'webhooks.gitlab.token') };
  if (p.webhooks.standard) {
    webhooks.standard = { secret: ref(p.webhooks.standard.secret, 'webhooks.standard.secret', 'whsec') };
  }
  return {
    name: p.name,
    repository: p.repository,
    repositoryKey: normalRepository(p.repository) ?? p.repository,
    path: projectDir(p.path),
    branches: p.branches,
    tags: p.tags,
    priority: [...(p.priority ?? [DEFAULT_PRIORITY]), { branches: ['**'], class: defaultClass }],
    team: p.team,
    concurrency: p.concurrency,
    supersede: p.supersede,
    labels: p.labels,
    webhooks,
    credentials: p.credentials && {
      username: p.credentials.username,
      password: ref(p.credentials.password, 'credentials.password'),
    },
    schedules: p.schedules,
    notify: p.notify.map((n, i) => ({
      url: n.url,
      secret: ref(n.secret, `notify[${i}].secret`),
      events: [...new Set(n.events)],
    })),
    statuses: p.statuses.github ? { github: githubStatuses(p.statuses.github, p.repository, ref) } : {},
  };
}

function githubStatuses(
  g: NonNullable<ParsedServerConfig['projects'][number]['statuses']['github']>,
  repository: string,
  ref: (r: { env?: string | undefined; file?: string | undefined }, key: string) => SecretRef,
): GitHubStatuses {
  // The schema made sure one of them names the repository.
  const [owner = '', repo = ''] = g.repository?.split('/') ?? [];
  const named = g.repository ? { owner, repo } : (githubRepositoryOf(repository) ?? { owner, repo });
  return {
    token: ref(g.token, 'statuses.github.token'),
    api: g.api.replace(/\/+$/, ''),
    owner: named.owner,
    repo: named.repo,
    context: g.context,
    targetUrl: g.targetUrl,
  };
}

function secretRef(
  r: { env?: string | undefined; file?: string | undefined },
  place: SecretPlace,
  dir: string,
): SecretRef {
  if (r.env !== undefined) return { kind: 'env', env: r.env, ...place };
  const file = r.file ?? '';
  return { kind: 'file', file: isAbsolute(file) ? file : resolve(dir, file), ...place };
}

/** What the SLO rules, Alertmanager config and metrics use of kiln-server.yaml, as a file without those keys has it. */
export function defaultObservability(): Pick<ServerConfig, 'listen' | 'slo' | 'alerting' | 'projects'> {
  return {
    listen: { host: '127.0.0.1', port: 8080 },
    slo: { ...SloSchema.parse({}), runbookUrl: undefined },
    alerting: { ...AlertingSchema.parse({}), kilnUrl: undefined },
    projects: [],
  };
}

/** Every secret reference of a project (webhook secrets, git password, notification secrets, GitHub token). */
export function secretRefsOf(project: ServerProject): SecretRef[] {
  const { webhooks, credentials, notify, statuses } = project;
  return [
    webhooks.github?.secret,
    webhooks.gitlab?.token,
    webhooks.standard?.secret,
    credentials?.password,
    ...notify.map((n) => n.secret),
    statuses.github?.token,
  ].filter((r): r is SecretRef => r !== undefined);
}
