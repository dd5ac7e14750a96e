import type { BuildRecord } from '../../src/store/index.js';

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
