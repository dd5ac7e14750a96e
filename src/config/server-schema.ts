// The kiln-server.yaml schema: the one source for validation and the editor JSON Schema. What it parses is then
// normalized (server-config.ts): defaults filled in, secrets as references that know where they are, frozen.
import * as z from 'zod'; // a namespace import: `{ z }` would bundle all 64 zod locales
import { LATENCY_BOUNDS_SECONDS } from '../core/latency.js';
import { STEP_NAME } from './schema.js';
import { keysAt } from './schema-keys.js';
import { scheduleProblems } from './server-schedule.js';
import {
  databaseProblem,
  githubRepositoryOf,
  httpTargetProblem,
  parseListen,
  repositoryProblem,
  statusesApiProblem,
} from './server-urls.js';

const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLASS_NAME = /^[a-z][a-z0-9-]*$/;
/** A branch or tag name, or a glob of them (`*` within a "/"-separated part, `**` across parts). */
const REF_GLOB = /^(?!\/)(?!.*\/\/)(?!.*\/$)[A-Za-z0-9._+@*/-]+$/;
const REF_NAME = /^(?!\/)(?!.*\/\/)(?!.*\/$)[A-Za-z0-9._+@/-]+$/;

/** Every event a notification target can subscribe to. */
export const NOTIFY_EVENTS = [
  'queued',
  'started',
  'succeeded',
  'failed',
  'blocked',
  'published',
  'promoted',
  'cancelled',
] as const;

/** The priority classes when `classes` is not given, highest first. */
export const DEFAULT_CLASSES = ['critical', 'high', 'normal', 'low'] as const;

/** A secret is never written in the file: an environment variable or a file holds it. */
function secretRef(example: string) {
  const inline = `a secret is never written inline: reference it, e.g. { env: ${example} } or { file: /run/secrets/${example.toLowerCase()} }`;
  return z
    .strictObject(
      {
        env: z
          .string()
          .regex(ENV_VAR, 'expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)')
          .optional()
          .describe('Environment variable of the server process that holds the secret.'),
        file: z
          .string()
          .min(1)
          .optional()
          .describe(
            "File that holds the secret (absolute, or relative to kiln-server.yaml's directory); one trailing newline is ignored.",
          ),
      },
      // The value is never quoted back: it is the secret.
      {
        error: (iss) =>
          iss.code === 'invalid_type' && iss.input != null && typeof iss.input !== 'object' ? inline : undefined,
      },
    )
    .refine((r) => (r.env === undefined) !== (r.file === undefined), {
      message: `give exactly one of "env" or "file", e.g. { env: ${example} }`,
    })
    .meta({
      minProperties: 1,
      maxProperties: 1,
      description: 'A reference to a secret: { env: VAR } or { file: PATH }, never the secret itself.',
    });
}

const refGlob = z.string().regex(REF_GLOB, 'expected a branch or tag name or a glob of them, e.g. main, release/*, v*');
const className = z.string().regex(CLASS_NAME, 'expected a class name: [a-z][a-z0-9-]*');
const withProblem = (problem: (text: string) => string | undefined) => (text: string, ctx: z.RefinementCtx) => {
  const message = problem(text);
  if (message !== undefined) ctx.addIssue({ code: 'custom', message });
};

/** One rule of a project's priority: the class of the branches it matches (the first matching rule wins). */
export const PriorityRuleSchema = z.strictObject({
  branches: z.array(refGlob).min(1).describe('Branch globs this rule matches.'),
  class: className.describe('The priority class of their builds: one of `classes`.'),
});

/** A build started by the clock. */
export const ScheduleSchema = z
  .strictObject({
    cron: z.string().min(1).describe('Cron expression: minute hour day-of-month month day-of-week, or @daily etc.'),
    timezone: z.string().min(1).default('UTC').describe('IANA time zone the expression is read in.'),
    ref: z
      .string()
      .regex(REF_NAME, 'expected a branch or tag name (not a glob)')
      .default('main')
      .describe('The branch or tag built.'),
  })
  .superRefine((s, ctx) => {
    for (const p of scheduleProblems(s.cron, s.timezone)) ctx.addIssue({ code: 'custom', ...p });
  });

/** A downstream service told about builds: a signed POST per event. */
export const NotifySchema = z.strictObject({
  url: z
    .string()
    .superRefine(withProblem(httpTargetProblem))
    .meta({ pattern: '^https?://', description: 'http:// or https:// URL POSTed to.' }),
  secret: secretRef('NOTIFY_SECRET').describe('Signs each notification (Standard Webhooks headers).'),
  events: z
    .array(z.enum(NOTIFY_EVENTS))
    .min(1)
    .default([...NOTIFY_EVENTS])
    .describe(`Events sent (default all): ${NOTIFY_EVENTS.join(', ')}.`),
});

/** A commit status per job state change, POSTed to GitHub's statuses API. */
export const GitHubStatusesSchema = z.strictObject({
  token: secretRef('GITHUB_TOKEN').describe(
    'Token allowed to write commit statuses of the repository (fine-grained: "Commit statuses: write").',
  ),
  api: z
    .string()
    .superRefine(withProblem(statusesApiProblem))
    .default('https://api.github.com')
    .meta({ pattern: '^https?://' })
    .describe('GitHub API root: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server.'),
  repository: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected OWNER/REPO')
    .optional()
    .describe("OWNER/REPO on GitHub; default: the last two path parts of the project's https repository URL."),
  context: z
    .string()
    .min(1)
    .max(255)
    .default('kiln')
    .describe('The status context: the name the commit shows the status under.'),
  targetUrl: z
    .string()
    .superRefine(withProblem(httpTargetProblem))
    .optional()
    .meta({ pattern: '^https?://' })
    .describe('Link of the status; "{job}" is replaced by the job id, e.g. https://kiln.example.com/jobs/{job}.'),
});

/** Commit statuses reported to the project's forge. */
export const StatusesSchema = z.strictObject({
  github: GitHubStatusesSchema.optional().describe(
    'GitHub commit statuses: pending when queued or started, then success, failure (failed, blocked) or error (lost, cancelled).',
  ),
});

/** Credentials for fetching over http(s). */
export const CredentialsSchema = z.strictObject({
  username: z.string().min(1).describe('User name sent to the git server.'),
  password: secretRef('GIT_PASSWORD').describe('Password or access token: a reference, never inline.'),
});

/** Who may trigger builds by webhook, and how each request is authenticated. */
export const WebhooksSchema = z.strictObject({
  github: z
    .strictObject({ secret: secretRef('GITHUB_WEBHOOK_SECRET') })
    .optional()
    .describe('GitHub webhooks, checked with X-Hub-Signature-256.'),
  gitlab: z
    .strictObject({ token: secretRef('GITLAB_WEBHOOK_TOKEN') })
    .optional()
    .describe('GitLab webhooks, checked with X-Gitlab-Token.'),
  standard: z
    .strictObject({ secret: secretRef('WEBHOOK_SECRET') })
    .optional()
    .describe('Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature); the secret is whsec_<base64>.'),
});

/** One repository (and project directory in it) the server builds. */
export const ServerProjectSchema = z
  .strictObject({
    name: z.string().regex(STEP_NAME, 'expected a project name: [a-z0-9][a-z0-9._-]*').describe('Unique name.'),
    repository: z.string().superRefine(withProblem(repositoryProblem)).meta({
      pattern: '^(file|https?|git)://',
      description: 'Git repository URL: file://, http://, https:// or git://; no credentials inside.',
    }),
    path: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
        message: 'must be a relative path inside the repository (no leading "/" and no "..")',
      })
      .default('.')
      .describe('Directory of the project (its kiln.yaml) inside the repository.'),
    branches: z.array(refGlob).min(1).default(['main']).describe('Branch globs that are built (main, release/*).'),
    tags: z.array(refGlob).default([]).describe('Tag globs that are built (v*); default none.'),
    priority: z
      .array(PriorityRuleSchema)
      .min(1)
      .optional()
      .describe(
        'Priority class per branch glob, first match wins; a branch no rule matches is "normal" (default: main and release/* high).',
      ),
    team: z.string().min(1).optional().describe('Team that owns the project (alerts are routed to it).'),
    concurrency: z.number().int().positive().default(1).describe('Builds of this project that run at once.'),
    supersede: z
      .boolean()
      .default(true)
      .describe(
        'A newer push to a branch cancels its queued older build; never on branches whose class ranks above the default class (critical, high).',
      ),
    labels: z
      .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'expected a label name'), z.string())
      .default({})
      .describe('Labels a worker must have to run this project’s builds.'),
    webhooks: WebhooksSchema.default({}),
    credentials: CredentialsSchema.optional(),
    schedules: z.array(ScheduleSchema).default([]).describe('Builds started by the clock.'),
    notify: z.array(NotifySchema).default([]).describe('Downstream services told about this project’s builds.'),
    statuses: StatusesSchema.default({}),
  })
  .superRefine((p, ctx) => {
    const github = p.statuses.github;
    if (github && github.repository === undefined && githubRepositoryOf(p.repository) === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['statuses', 'github'],
        message:
          'the repository URL does not name a GitHub OWNER/REPO (https://HOST/OWNER/REPO): give statuses.github.repository: OWNER/REPO',
      });
    }
  });

/** Limits of what the server accepts. */
export const ServerLimitsSchema = z.strictObject({
  webhookBodyBytes: z
    .number()
    .int()
    .positive()
    .max(64 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Largest webhook request body read (bytes); a larger one is refused unread.'),
});

const share = z.number().gt(0).lt(1);

/** The share of good events an SLI must keep, per branch class (each class has its own error budget). */
function objective(d: { main: number; release: number; other: number }, what: string) {
  return z
    .strictObject({
      main: share.default(d.main).describe(`Objective for main branches: the share of ${what}.`),
      release: share.default(d.release).describe(`Objective for release branches and tags: the share of ${what}.`),
      other: share.default(d.other).describe(`Objective for every other branch: the share of ${what}.`),
    })
    .prefault({});
}

/** An objective over a latency: the share of events at or under `seconds`. */
function latencyObjective(seconds: number, d: { main: number; release: number; other: number }, what: string) {
  return z
    .strictObject({
      seconds: z
        .number()
        .refine((n) => LATENCY_BOUNDS_SECONDS.includes(n), {
          message: `expected one of the histogram bounds: ${LATENCY_BOUNDS_SECONDS.join(', ')}`,
        })
        .default(seconds)
        .describe(`The threshold (seconds): ${what} at or under it are good.`),
      main: share.default(d.main).describe(`Objective for main branches: the share of ${what} within the threshold.`),
      release: share.default(d.release).describe('Objective for release branches and tags.'),
      other: share.default(d.other).describe('Objective for every other branch.'),
    })
    .prefault({});
}

/** Service level objectives: what the SLIs must keep, and what the alerts say (`kiln slo rules`). */
export const SloSchema = z.strictObject({
  mainBranches: z
    .array(refGlob)
    .min(1)
    .default(['main', 'master'])
    .describe('Branches whose builds are "main" (branch_class="main").'),
  releaseBranches: z
    .array(refGlob)
    .default(['release/*', 'releases/*', 'v*'])
    .describe('Branches and tags whose builds are "release"; every other branch is "other".'),
  runbookUrl: z
    .string()
    .superRefine(withProblem(httpTargetProblem))
    .optional()
    .describe('Base URL of the runbooks the alerts link to (default: the server’s own /runbooks).'),
  objectives: z
    .strictObject({
      buildSuccess: objective({ main: 0.98, release: 0.98, other: 0.9 }, 'builds that succeed (M1)'),
      buildLatency: latencyObjective(600, { main: 0.95, release: 0.95, other: 0.9 }, 'builds (M2)'),
      publishTime: latencyObjective(120, { main: 0.95, release: 0.95, other: 0.9 }, 'publications (M3)'),
      queueWait: latencyObjective(120, { main: 0.95, release: 0.95, other: 0.9 }, 'queue waits (M8)'),
      workerFailures: objective(
        { main: 0.99, release: 0.99, other: 0.99 },
        'build runs not lost to infrastructure (M9)',
      ),
      cacheHitRate: z
        .number()
        .gt(0)
        .lt(1)
        .default(0.75)
        .describe('Cache hits per lookup below which a ticket is opened (M4).'),
    })
    .prefault({}),
  vulnerabilityDataMaxAgeHours: z
    .number()
    .positive()
    .default(48)
    .describe('Vulnerability data imported longer ago than this raises a ticket.'),
  workerDiskMinFreeBytes: z
    .number()
    .int()
    .positive()
    .default(5 * 1024 ** 3)
    .describe('A worker with less free space where it builds or caches raises a page.'),
});

const DURATION = /^[0-9]+(ms|s|m|h|d)$/;
const duration = z.string().regex(DURATION, 'expected a duration such as 30s, 5m or 4h');

/** Where the alerts go (`kiln slo alertmanager`): Kiln's own alert log, and each team's receiver. */
export const AlertingSchema = z.strictObject({
  kilnUrl: z
    .string()
    .superRefine(withProblem(httpTargetProblem))
    .optional()
    .describe('URL of this server as Alertmanager reaches it (default: http:// and `listen`).'),
  tokenFile: z
    .string()
    .min(1)
    .default('/etc/alertmanager/kiln-token')
    .describe('File, on the Alertmanager machine, holding a trigger-scope token Alertmanager sends to Kiln.'),
  teams: z
    .record(
      z.string().min(1),
      z.strictObject({
        webhook: z
          .string()
          .superRefine(withProblem(httpTargetProblem))
          .describe('URL Alertmanager POSTs the team’s alerts to.'),
      }),
    )
    .default({})
    .describe('Receivers per owner team (a project’s `team`); alerts of other teams only reach Kiln’s log.'),
  groupWait: duration.default('30s').describe('How long Alertmanager waits to group the first alerts.'),
  groupInterval: duration.default('5m').describe('How long it waits before telling a group’s changes.'),
  repeatInterval: duration.default('4h').describe('How long it waits before repeating a firing alert.'),
});

/** The whole kiln-server.yaml document. */
export const ServerConfigSchema = z.strictObject({
  listen: z
    .string()
    .refine((t) => parseListen(t) !== undefined, { message: 'expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080' })
    .default('127.0.0.1:8080')
    .describe('Address the HTTP server listens on.'),
  database: z
    .string()
    .superRefine(withProblem(databaseProblem))
    .meta({ pattern: '^postgres(ql)?://' })
    .optional()
    .describe('PostgreSQL URL (postgres://…); leave out for the embedded SQLite store in the Kiln home.'),
  concurrency: z.number().int().positive().default(2).describe('Builds that run at once, over all projects.'),
  leaseSeconds: z
    .number()
    .int()
    .min(3)
    .max(3600)
    .default(60)
    .describe(
      'How long a worker holds a job without a heartbeat (it sends one every third of it): a worker killed mid-build loses the job to another this long after its last heartbeat.',
    ),
  classes: z
    .array(className)
    .min(1)
    .default([...DEFAULT_CLASSES])
    .describe('Priority classes, highest first.'),
  historyDays: z
    .number()
    .int()
    .min(1)
    .max(36_500)
    .default(90)
    .describe(
      'Days the server keeps what it did besides the builds themselves: ended jobs and their log lines, notifications delivered or given up, webhook deliveries, and workers no longer heard from (builds stay until kiln gc).',
    ),
  limits: ServerLimitsSchema.default({ webhookBodyBytes: 1024 * 1024 }),
  slo: SloSchema.prefault({}).describe('Service level objectives of the SLIs, and what their alerts say.'),
  alerting: AlertingSchema.prefault({}).describe('Where alerts go: Kiln’s alert log and each team’s receiver.'),
  projects: z.array(ServerProjectSchema).min(1).describe('The repositories built; no other repository ever is.'),
});

/** kiln-server.yaml as the schema parses it (before normalization). */
export type ParsedServerConfig = z.output<typeof ServerConfigSchema>;

/** The keys an object at `path` may have, for "did you mean": read from the schema itself. */
export function serverKeysAt(path: readonly PropertyKey[]): readonly string[] {
  return keysAt(ServerConfigSchema, path);
}

/** The JSON Schema editors use for kiln-server.yaml (committed as schema/kiln-server.schema.json). */
export function serverJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(ServerConfigSchema, { io: 'input' }),
    $id: 'https://kiln.dev/schema/kiln-server.schema.json',
    title: 'kiln-server.yaml',
  };
}
