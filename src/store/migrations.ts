// Schema migrations, written once for both dialects (SQLite now, Postgres later): portable types only.
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('builds')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('repo_url', 'text', (c) => c.notNull())
      .addColumn('commit_sha', 'text', (c) => c.notNull())
      .addColumn('subdir', 'text', (c) => c.notNull())
      .addColumn('dirty', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('exit_code', 'integer')
      .addColumn('error', 'text')
      .addColumn('builder_id', 'text', (c) => c.notNull())
      .addColumn('runner', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('builds_commit').on('builds').column('commit_sha').execute();
    await db.schema.createIndex('builds_started').on('builds').columns(['started_at', 'id']).execute();
    await db.schema
      .createTable('steps')
      .addColumn('build_id', 'text', (c) => c.notNull().references('builds.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('exit_code', 'integer')
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('log_path', 'text')
      .addColumn('position', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('steps_pk', ['build_id', 'name'])
      .execute();
    await db.schema
      .createTable('artifacts')
      .addColumn('build_id', 'text', (c) => c.notNull().references('builds.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('manifest_digest', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('artifacts_pk', ['build_id', 'name'])
      .execute();
    await db.schema.createIndex('artifacts_digest').on('artifacts').column('digest').execute();
    await db.schema
      .createTable('evidence')
      .addColumn('build_id', 'text', (c) => c.notNull().references('builds.id').onDelete('cascade'))
      .addColumn('artifact_name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('media_type', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('manifest_digest', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('evidence_pk', ['build_id', 'artifact_name', 'kind'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['evidence', 'artifacts', 'steps', 'builds']) await db.schema.dropTable(table).execute();
  },
};

// Cache figures per build, and each step's action key with its ingredients so a later miss can be explained.
const stepActions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const column of ['cache_hits', 'cache_misses', 'bytes_restored', 'time_saved_ms']) {
      await db.schema
        .alterTable('builds')
        .addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    }
    await db.schema
      .createTable('step_actions')
      .addColumn('build_id', 'text', (c) => c.notNull().references('builds.id').onDelete('cascade'))
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('action_key', 'text', (c) => c.notNull())
      .addColumn('cache', 'text', (c) => c.notNull())
      .addColumn('produced_by', 'text')
      .addColumn('outputs_digest', 'text')
      .addColumn('ingredients', 'text', (c) => c.notNull())
      .addColumn('explanation', 'text')
      .addPrimaryKeyConstraint('step_actions_pk', ['build_id', 'step'])
      .execute();
    await db.schema.createIndex('step_actions_project_step').on('step_actions').columns(['project', 'step']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('step_actions').execute();
    for (const column of ['cache_hits', 'cache_misses', 'bytes_restored', 'time_saved_ms']) {
      await db.schema.alterTable('builds').dropColumn(column).execute();
    }
  },
};

// The fingerprint of a succeeded build, so an unchanged build can hand back its artifacts instead of redoing them.
const buildFingerprint: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('builds').addColumn('fingerprint', 'text').execute();
    await db.schema.createIndex('builds_fingerprint').on('builds').columns(['project', 'fingerprint']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('builds_fingerprint').execute();
    await db.schema.alterTable('builds').dropColumn('fingerprint').execute();
  },
};

// Imported OSV records, indexed by (ecosystem, package name) for matching, and one row per import that changed them.
const vulnerabilities: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('osv_records')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('modified', 'text', (c) => c.notNull())
      .addColumn('withdrawn', 'text')
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('import_seq', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('osv_packages')
      .addColumn('record_id', 'text', (c) => c.notNull().references('osv_records.id').onDelete('cascade'))
      .addColumn('ecosystem', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('osv_packages_pk', ['record_id', 'ecosystem', 'name'])
      .execute();
    await db.schema.createIndex('osv_packages_name').on('osv_packages').columns(['ecosystem', 'name']).execute();
    await db.schema
      .createTable('osv_imports')
      .addColumn('seq', 'integer', (c) => c.primaryKey())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('imported_at', 'text', (c) => c.notNull())
      .addColumn('added', 'integer', (c) => c.notNull())
      .addColumn('updated', 'integer', (c) => c.notNull())
      .addColumn('unchanged', 'integer', (c) => c.notNull())
      .addColumn('rejected', 'integer', (c) => c.notNull())
      .execute();
    // One row: bumped by every transaction that changes records, so it names the data a scan saw.
    await db.schema
      .createTable('osv_state')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('records', 'integer', (c) => c.notNull())
      .execute();
    await sql`insert into osv_state (id, revision, records) values (1, 0, 0)`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['osv_packages', 'osv_records', 'osv_imports', 'osv_state']) {
      await db.schema.dropTable(table).execute();
    }
  },
};

// The branch a build was of (for retention per branch), and every promotion of an artifact to an environment.
const promotions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('builds').addColumn('branch', 'text').execute();
    await db.schema
      .createTable('promotions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('artifact_name', 'text', (c) => c.notNull())
      .addColumn('manifest_digest', 'text', (c) => c.notNull())
      .addColumn('environment', 'text', (c) => c.notNull())
      .addColumn('from_ref', 'text', (c) => c.notNull())
      .addColumn('to_ref', 'text', (c) => c.notNull())
      .addColumn('promoted_at', 'text', (c) => c.notNull())
      .addColumn('key_hint', 'text', (c) => c.notNull())
      .addColumn('statement_digest', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('promotions_env')
      .on('promotions')
      .columns(['project', 'environment', 'promoted_at'])
      .execute();
    await db.schema.createIndex('promotions_digest').on('promotions').column('manifest_digest').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('promotions').execute();
    await db.schema.alterTable('builds').dropColumn('branch').execute();
  },
};

// Where each artifact was pushed by `kiln publish` (or publish: in kiln.yaml), so gc can find its copies there.
const publications: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('publications')
      .addColumn('manifest_digest', 'text', (c) => c.notNull())
      .addColumn('registry', 'text', (c) => c.notNull())
      .addColumn('repository', 'text', (c) => c.notNull())
      .addColumn('build_id', 'text', (c) => c.notNull())
      .addColumn('artifact_name', 'text', (c) => c.notNull())
      .addColumn('published_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('publications_pk', ['manifest_digest', 'registry', 'repository'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('publications').execute();
  },
};

// When each step started and finished (not only how long it took), for latency figures and the dashboard's timelines.
// Rows of older builds keep null: only their durations are known.
const stepTimes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('steps').addColumn('started_at', 'text').execute();
    await db.schema.alterTable('steps').addColumn('finished_at', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('steps').dropColumn('finished_at').execute();
    await db.schema.alterTable('steps').dropColumn('started_at').execute();
  },
};

// A build is recorded when it starts (status `running`) and completed when it ends, so one whose process dies or whose
// disk fills up is still on record; `owner` names the process running it (see platform/processes.ts), so a later
// Kiln can tell that process is gone and mark the build failed.
const buildOwner: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('builds').addColumn('owner', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('builds').dropColumn('owner').execute();
  },
};

// API tokens of the control plane (`kiln tokens`): only the SHA-256 of each token is kept.
const apiTokens: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_sha256', 'text', (c) => c.notNull().unique())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('api_tokens').execute();
  },
};

// The embedded build queue (src/farm/store-queue.ts): one row per job, attempts kept with it as JSON.
const jobs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('seq', 'bigint', (c) => c.notNull().unique())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('commit_sha', 'text', (c) => c.notNull())
      .addColumn('branch', 'text')
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('force', 'integer', (c) => c.notNull())
      .addColumn('supersedable', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('submitted_at', 'text', (c) => c.notNull())
      .addColumn('available_at', 'text', (c) => c.notNull())
      .addColumn('worker_id', 'text')
      .addColumn('leased_at', 'text')
      .addColumn('lease_until', 'text')
      .addColumn('superseded_by', 'text')
      .addColumn('build_id', 'text')
      .addColumn('ended_at', 'text')
      .addColumn('attempts', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('jobs_state').on('jobs').columns(['state', 'seq']).execute();
    await db.schema.createIndex('jobs_project').on('jobs').columns(['project', 'seq']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('jobs').execute();
  },
};

// Webhook deliveries already acted on (src/server/ webhooks): one row per sender and delivery id, so a redelivery
// builds nothing. `builds` is JSON: [{ project, id }] of the jobs the first delivery queued.
const webhookDeliveries: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addColumn('builds', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_deliveries_pk', ['source', 'delivery_id'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('webhook_deliveries').execute();
  },
};

// Notifications of job state changes (src/farm/notify.ts): an outbox the queue writes in the transaction that changes
// a job, one row per event and subscribed target, which a sender loop delivers (and retries) apart from the builds.
// `body` is the exact CloudEvent sent on every attempt.
const notifications: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('notifications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('target', 'integer', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('last_attempt_at', 'text')
      .addColumn('last_error', 'text')
      .addColumn('last_status', 'integer')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('delivered_at', 'text')
      .execute();
    await db.schema
      .createIndex('notifications_due')
      .on('notifications')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema.createIndex('notifications_created').on('notifications').columns(['created_at', 'id']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('notifications').execute();
  },
};

// The cron schedules of kiln-server.yaml (src/farm/schedules.ts): one row per project and schedule (the SHA-256 of
// its cron, time zone and ref), with the last tick it fired for, and the job it queued or why it could not.
const scheduleRuns: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('schedule_runs')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('schedule_key', 'text', (c) => c.notNull())
      .addColumn('last_fire_at', 'text', (c) => c.notNull())
      .addColumn('last_job_id', 'text')
      .addColumn('last_error', 'text')
      .addPrimaryKeyConstraint('schedule_runs_pk', ['project', 'schedule_key'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('schedule_runs').execute();
  },
};

// Who ran a build: the Kiln version (every build), and for a control-plane worker's build the worker's id, host and
// labels (a JSON object); builder_id is then the control plane's. Older rows keep nulls.
const buildWorker: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const column of ['kiln_version', 'worker_id', 'worker_host', 'worker_labels']) {
      await db.schema.alterTable('builds').addColumn(column, 'text').execute();
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const column of ['worker_labels', 'worker_host', 'worker_id', 'kiln_version']) {
      await db.schema.alterTable('builds').dropColumn(column).execute();
    }
  },
};

// The farm (src/farm/worker.ts): one row per worker process (its id is fresh each start), with what it builds, when it
// last reported, and its health (JSON: free bytes of its work and cache directories, memory); and the
// kiln-server.yaml a `kiln serve` runs by (one row: its text and where it was read), which `kiln worker`s run by.
const workers: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('workers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('kiln_version', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('heartbeat_at', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('job_id', 'text')
      .addColumn('health', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('workers_heartbeat').on('workers').column('heartbeat_at').execute();
    await db.schema
      .createTable('farm_config')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('file', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('farm_config').execute();
    await db.schema.dropTable('workers').execute();
  },
};

// The log lines of each job's attempts (src/farm/logs.ts), written by whichever worker runs it and read by the API
// that streams them: one row per line, numbered from 1 within an attempt. `step` is null for Kiln's own lines that
// belong to no step; `stream` is stdout, stderr or kiln.
const buildLogs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('build_logs')
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('step', 'text')
      .addColumn('stream', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('build_logs_pk', ['job_id', 'attempt', 'seq'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('build_logs').execute();
  },
};

// Retried steps (kiln.yaml `retries`): how many times each step's command ran (0 for a replayed or skipped step) and
// whether it passed only after failing (flaky, 0/1), and per build how many of its steps were flaky. Rows from before
// it read as one clean attempt, except replayed and skipped steps, which never ran.
const stepRetries: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('steps')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema
      .alterTable('steps')
      .addColumn('flaky', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('builds')
      .addColumn('flaky_steps', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await (db as Kysely<{ steps: { status: string; attempts: number } }>)
      .updateTable('steps')
      .set({ attempts: 0 })
      .where('status', 'in', ['cached', 'skipped'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('builds').dropColumn('flaky_steps').execute();
    await db.schema.alterTable('steps').dropColumn('flaky').execute();
    await db.schema.alterTable('steps').dropColumn('attempts').execute();
  },
};

// What a notification is: a CloudEvent to a `notify:` target (every older row), or a commit status to GitHub
// (`statuses.github` of kiln-server.yaml), which the sender signs and authenticates differently.
const notificationKind: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('notifications')
      .addColumn('kind', 'text', (c) => c.notNull().defaultTo('cloudevent'))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('notifications').dropColumn('kind').execute();
  },
};

// When a server announced a promotion (`promoted` notifications); promotions recorded before are taken as announced,
// so a server upgraded in place does not announce every promotion there ever was.
const promotionAnnounced: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('promotions').addColumn('announced_at', 'text').execute();
    await (db as Kysely<{ promotions: { announced_at: string | null; promoted_at: string } }>)
      .updateTable('promotions')
      .set((eb) => ({ announced_at: eb.ref('promoted_at') }))
      .execute();
    await db.schema
      .createIndex('promotions_unannounced')
      .on('promotions')
      .columns(['announced_at', 'promoted_at'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('promotions_unannounced').execute();
    await db.schema.alterTable('promotions').dropColumn('announced_at').execute();
  },
};

// What the metrics need besides the recorded builds: how long each build took from its steps' end to its artifacts'
// publication (M3), the kiln-server.yaml project and ref a farm build was queued for (its labels), its vulnerability
// findings by severity, which steps had the network (dependency steps), whether a build or
// job is counted in the metrics' running sums yet (store/metrics.ts), those sums, and the alert log Alertmanager sends.
const observability: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('builds').addColumn('publish_ms', 'integer').execute();
    await db.schema.alterTable('builds').addColumn('job_project', 'text').execute();
    await db.schema.alterTable('builds').addColumn('job_ref', 'text').execute();
    await db.schema.alterTable('builds').addColumn('findings', 'text').execute();
    await db.schema
      .alterTable('steps')
      .addColumn('network', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('builds')
      .addColumn('counted', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('jobs')
      .addColumn('counted', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('builds_counted').on('builds').columns(['counted', 'status']).execute();
    await db.schema.createIndex('jobs_counted').on('jobs').columns(['counted', 'state']).execute();
    await db.schema
      .createTable('metric_sums')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('dims', 'text', (c) => c.notNull())
      .addColumn('counts', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('metric_sums_pk', ['kind', 'dims'])
      .execute();
    await db.schema
      .createTable('alerts')
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('starts_at', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('alertname', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('team', 'text', (c) => c.notNull())
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('annotations', 'text', (c) => c.notNull())
      .addColumn('ends_at', 'text')
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('alerts_pk', ['fingerprint', 'starts_at'])
      .execute();
    await db.schema.createIndex('alerts_received').on('alerts').columns(['received_at', 'fingerprint']).execute();
    await db.schema.createIndex('jobs_build').on('jobs').column('build_id').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('jobs_build').execute();
    await db.schema.dropTable('alerts').execute();
    await db.schema.dropTable('metric_sums').execute();
    await db.schema.dropIndex('jobs_counted').execute();
    await db.schema.dropIndex('builds_counted').execute();
    await db.schema.alterTable('jobs').dropColumn('counted').execute();
    await db.schema.alterTable('builds').dropColumn('counted').execute();
    await db.schema.alterTable('steps').dropColumn('network').execute();
    await db.schema.alterTable('builds').dropColumn('findings').execute();
    await db.schema.alterTable('builds').dropColumn('job_ref').execute();
    await db.schema.alterTable('builds').dropColumn('job_project').execute();
    await db.schema.alterTable('builds').dropColumn('publish_ms').execute();
  },
};

/** All migrations in order; names sort lexically. */
export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return {
      '0001_initial': initial,
      '0002_step_actions': stepActions,
      '0003_build_fingerprint': buildFingerprint,
      '0004_vulnerabilities': vulnerabilities,
      '0005_promotions': promotions,
      '0006_publications': publications,
      '0007_step_times': stepTimes,
      '0008_build_owner': buildOwner,
      '0009_api_tokens': apiTokens,
      '0010_jobs': jobs,
      '0011_webhook_deliveries': webhookDeliveries,
      '0012_schedule_runs': scheduleRuns,
      '0013_notifications': notifications,
      '0014_build_worker': buildWorker,
      '0015_workers': workers,
      '0016_build_logs': buildLogs,
      '0017_step_retries': stepRetries,
      '0018_notification_kind': notificationKind,
      '0019_promotion_announced': promotionAnnounced,
      '0020_observability': observability,
    };
  },
};
