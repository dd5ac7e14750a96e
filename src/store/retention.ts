// What `kiln gc` reads from the store (a project's builds with their artifacts, every promotion) and how it deletes.
import type { Selectable } from 'kysely';
import { inJobsTransaction } from './jobs.js';
import { countBuildsBeforeDelete } from './metrics.js';
import type { BuildRow, PromotionsTable } from './schema.js';
import type { Store } from './store.js';

/** One promotion row as read back. */
export type PromotionRow = Selectable<PromotionsTable>;

/** A build as retention judges it: who it is, and the artifact manifests it published. */
export interface RetainedBuild {
  readonly id: string;
  readonly project: string;
  readonly branch: string | null;
  readonly status: BuildRow['status'];
  readonly commit: string;
  readonly startedAt: string;
  readonly artifacts: readonly { readonly name: string; readonly manifestDigest: string; readonly path: string }[];
}

/**
 * Whose builds retention judges: a project name in one repository (its URL as builds record it, and the project's
 * directory in it). Two repositories with projects of the same name are two projects.
 */
export interface RetentionScope {
  readonly project: string;
  readonly repoUrl: string;
  readonly subdir: string;
}

/** Everything the retention planner needs from the store, read in one go. */
export interface RetentionRecords {
  /** The project's builds, newest first. */
  readonly builds: readonly RetainedBuild[];
  /** Artifact manifests the project's builds published that builds of other projects (or repositories) recorded too. */
  readonly sharedElsewhere: readonly {
    readonly manifestDigest: string;
    readonly buildId: string;
    readonly project: string;
  }[];
  /** Every promotion (all projects: an environment's live artifact is decided over all of its rows). */
  readonly promotions: readonly PromotionRow[];
  /** Where the project's artifacts were published (registry and repository), for deleting those copies too. */
  readonly publications: readonly { readonly manifestDigest: string; readonly ref: string }[];
  /** Manifests that builds of a project of the same name in another repository recorded (theirs, not unrecorded). */
  readonly namesakes: readonly string[];
}

/** Reads the scope's builds with their artifacts, who else recorded those manifests, and every promotion. */
export async function retentionRecords(store: Store, scope: RetentionScope): Promise<RetentionRecords> {
  const { project, repoUrl, subdir } = scope;
  const [builds, artifacts, shared, promotions, published, namesakes] = await Promise.all([
    store.db
      .selectFrom('builds')
      .select(['id', 'project', 'branch', 'status', 'commit_sha', 'started_at'])
      .where('project', '=', project)
      .where('repo_url', '=', repoUrl)
      .where('subdir', '=', subdir)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .execute(),
    store.db
      .selectFrom('artifacts')
      .innerJoin('builds', 'builds.id', 'artifacts.build_id')
      .select(['artifacts.build_id', 'artifacts.name', 'artifacts.manifest_digest', 'artifacts.path'])
      .where('builds.project', '=', project)
      .where('builds.repo_url', '=', repoUrl)
      .where('builds.subdir', '=', subdir)
      .orderBy('artifacts.name')
      .execute(),
    store.db
      .selectFrom('artifacts as theirs')
      .innerJoin('builds as other', 'other.id', 'theirs.build_id')
      .innerJoin('artifacts as ours', 'ours.manifest_digest', 'theirs.manifest_digest')
      .innerJoin('builds as own', 'own.id', 'ours.build_id')
      .select(['theirs.manifest_digest', 'theirs.build_id', 'other.project'])
      .distinct()
      .where('own.project', '=', project)
      .where('own.repo_url', '=', repoUrl)
      .where('own.subdir', '=', subdir)
      .where((eb) =>
        eb.or([
          eb('other.project', '!=', project),
          eb('other.repo_url', '!=', repoUrl),
          eb('other.subdir', '!=', subdir),
        ]),
      )
      .execute(),
    store.db.selectFrom('promotions').selectAll().orderBy('promoted_at').orderBy('id').execute(),
    // By manifest, not by the build that first pushed it: a later build of the same bytes shares the copies.
    store.db
      .selectFrom('publications')
      .innerJoin('artifacts', 'artifacts.manifest_digest', 'publications.manifest_digest')
      .innerJoin('builds', 'builds.id', 'artifacts.build_id')
      .select(['publications.manifest_digest', 'publications.registry', 'publications.repository'])
      .distinct()
      .where('builds.project', '=', project)
      .where('builds.repo_url', '=', repoUrl)
      .where('builds.subdir', '=', subdir)
      .execute(),
    store.db
      .selectFrom('artifacts')
      .innerJoin('builds', 'builds.id', 'artifacts.build_id')
      .select('artifacts.manifest_digest')
      .distinct()
      .where('builds.project', '=', project)
      .where((eb) => eb.or([eb('builds.repo_url', '!=', repoUrl), eb('builds.subdir', '!=', subdir)]))
      .execute(),
  ]);
  const byBuild = new Map<string, { name: string; manifestDigest: string; path: string }[]>();
  for (const a of artifacts) {
    const list = byBuild.get(a.build_id) ?? [];
    list.push({ name: a.name, manifestDigest: a.manifest_digest, path: a.path });
    byBuild.set(a.build_id, list);
  }
  return {
    builds: builds.map((b) => ({
      id: b.id,
      project: b.project,
      branch: b.branch,
      status: b.status,
      commit: b.commit_sha,
      startedAt: b.started_at,
      artifacts: byBuild.get(b.id) ?? [],
    })),
    sharedElsewhere: shared.map((s) => ({
      manifestDigest: s.manifest_digest,
      buildId: s.build_id,
      project: s.project,
    })),
    promotions,
    publications: published.map((p) => ({
      manifestDigest: p.manifest_digest,
      ref: `${p.registry}/${p.repository}@${p.manifest_digest}`,
    })),
    namesakes: namesakes.map((n) => n.manifest_digest),
  };
}

/**
 * Deletes builds in one transaction. Their steps, artifacts, evidence and step actions go with them: every child
 * table references builds.id ON DELETE CASCADE (migrations 0001 and 0002), deleted here explicitly as well so the
 * result does not depend on a connection having foreign keys switched on. Promotions stay: they are history.
 * Returns the ids that were there to delete.
 */
export async function deleteBuilds(store: Store, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const deleted: string[] = [];
  // Under the queue's lock: the metrics' sums are updated by the scrapes of every replica under it too.
  await inJobsTransaction(store, async (tx) => {
    // SQLite allows 32766 bound parameters; batches keep far below that.
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500);
      const found = await tx.selectFrom('builds').select('id').where('id', 'in', batch).execute();
      await countBuildsBeforeDelete(tx, store.dialect, batch); // the metrics keep them
      for (const table of ['step_actions', 'evidence', 'artifacts', 'steps'] as const) {
        await tx.deleteFrom(table).where('build_id', 'in', batch).execute();
      }
      await tx.deleteFrom('builds').where('id', 'in', batch).execute();
      deleted.push(...found.map((r) => r.id));
    }
  });
  return deleted;
}
