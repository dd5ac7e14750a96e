import type { BuildRecord, Store } from '../../src/store/index.js';

/** The builds row of a succeeded build started (and finished) at `startedAt`. */
export function buildRow(id: string, startedAt: string, project = 'demo', durationMs = 1): BuildRecord['build'] {
  return {
    id,
    project,
    repo_url: 'file:///repo',
    commit_sha: 'a'.repeat(40),
    subdir: '',
    dirty: 0,
    status: 'succeeded',
    exit_code: 0,
    error: null,
    builder_id: 'https://kiln.dev/builders/local-cli/v1',
    runner: 'host',
    started_at: startedAt,
    finished_at: startedAt,
    duration_ms: durationMs,
  };
}

/**
 * A succeeded build `id` of project `web` (file:///srv/git/web at commit c…c) in the store, with `artifacts` (each
 * `{ name, digest, manifest }`): what a farm job's build leaves for notifications to read.
 */
export async function recordFarmBuild(
  store: Store,
  id: string,
  artifacts: readonly { name: string; digest: string; manifest: string }[],
): Promise<void> {
  await store.db
    .insertInto('builds')
    .values({
      ...buildRow(id, '2026-12-07T12:00:00.000Z', 'web', 60_000),
      repo_url: 'file:///srv/git/web',
      commit_sha: 'c'.repeat(40),
      subdir: '.',
      builder_id: 'b',
      finished_at: '2026-12-07T12:01:00.000Z',
    })
    .execute();
  for (const a of artifacts) {
    await store.db
      .insertInto('artifacts')
      .values({
        build_id: id,
        name: a.name,
        digest: a.digest,
        size: 1,
        path: `${a.name}.tgz`,
        manifest_digest: a.manifest,
      })
      .execute();
  }
}
