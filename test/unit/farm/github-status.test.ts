import { describe, expect, it } from 'vitest';
import type { GitHubStatuses } from '../../../src/config/index.js';
import {
  githubMessageOf,
  githubStatusBody,
  githubStatusHeaders,
  githubStatusOf,
  githubStatusUrl,
  githubVerdict,
  isLaterStatus,
} from '../../../src/farm/github-status.js';
import type { Job } from '../../../src/farm/job.js';
import { publishedArtifacts, publishedEventId } from '../../../src/farm/published.js';

const GITHUB: GitHubStatuses = {
  token: { kind: 'env', env: 'GITHUB_TOKEN', project: 'app', key: 'statuses.github.token', format: 'text' },
  api: 'https://api.github.com',
  owner: 'acme',
  repo: 'app',
  context: 'kiln',
  targetUrl: undefined,
};
const job = (state: Job['state'], more: Partial<Job> = {}) =>
  ({ id: 'job-1', state, attempt: 1, supersededBy: null, ...more }) as Job;

describe('GitHub commit statuses of job states', () => {
  it('maps queued and started to pending, succeeded to success, failed and blocked to failure, lost and cancelled to error', () => {
    const states: Job['state'][] = ['queued', 'running', 'succeeded', 'failed', 'blocked', 'lost', 'cancelled'];
    expect(states.map((s) => githubStatusOf(job(s), 2).state)).toEqual([
      'pending',
      'pending',
      'success',
      'failure',
      'failure',
      'error',
      'error',
    ]);
    expect(githubStatusOf(job('succeeded'), 1).description).toBe('Built 1 artifact');
    expect(githubStatusOf(job('queued', { attempt: 0 }), 0).description).toBe('Queued');
    expect(githubStatusOf(job('queued', { attempt: 1 }), 0).description).toBe('Queued again after attempt 1');
    expect(githubStatusOf(job('cancelled', { supersededBy: 'job-2' }), 0).description).toContain('job-2');
  });

  it('posts the documented body and headers to the commit of the configured repository', () => {
    const sha = 'a'.repeat(40);
    expect(githubStatusUrl(GITHUB, sha)).toBe(`https://api.github.com/repos/acme/app/statuses/${sha}`);
    expect(githubStatusBody(GITHUB, job('running'), 0)).toEqual({
      state: 'pending',
      description: 'Building (attempt 1)',
      context: 'kiln',
    });
    const linked = { ...GITHUB, targetUrl: 'https://kiln.example.com/jobs/{job}', context: 'ci/kiln' };
    expect(githubStatusBody(linked, job('failed'), 0)).toEqual({
      state: 'failure',
      target_url: 'https://kiln.example.com/jobs/job-1',
      description: 'The build failed',
      context: 'ci/kiln',
    });
    const long = githubStatusBody(GITHUB, job('cancelled', { supersededBy: 'x'.repeat(300) }), 0);
    expect(long.description).toHaveLength(140);
    expect(githubStatusHeaders('tok', 'kiln/1.2.3')).toEqual({
      accept: 'application/vnd.github+json',
      authorization: 'Bearer tok',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'kiln/1.2.3',
      'content-type': 'application/json',
    });
  });

  it('retries what GitHub may take later, and refuses at once what it would answer alike', () => {
    const h = (init: Record<string, string> = {}) => new Headers(init);
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(githubVerdict(201, h(), now)).toEqual({ kind: 'delivered' });
    for (const status of [500, 502, 503, 408, 429]) {
      expect(githubVerdict(status, h(), now)).toEqual({ kind: 'retry', afterMs: undefined });
    }
    expect(githubVerdict(429, h({ 'retry-after': '30' }), now)).toEqual({ kind: 'retry', afterMs: 30_000 });
    const reset = String(now / 1000 + 90);
    expect(githubVerdict(403, h({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }), now)).toEqual({
      kind: 'retry',
      afterMs: 90_000,
    });
    for (const status of [400, 401, 403, 404, 410, 422, 301, 307]) {
      expect(githubVerdict(status, h({ 'x-ratelimit-remaining': '4999' }), now)).toEqual({ kind: 'refused' });
    }
    expect(githubMessageOf('{"message":"Bad credentials","documentation_url":"https://docs.github.com"}')).toBe(
      'Bad credentials',
    );
    expect(githubMessageOf('<html>')).toBeUndefined();
  });

  it('orders the statuses of a job by time, then queued < started < ended within the same millisecond', () => {
    const at = (created_at: string, type: string) => ({ created_at, type });
    const t = '2026-12-07T12:00:00.000Z';
    expect(isLaterStatus(at(t, 'dev.kiln.build.started'), at(t, 'dev.kiln.build.queued'))).toBe(true);
    expect(isLaterStatus(at(t, 'dev.kiln.build.succeeded'), at(t, 'dev.kiln.build.started'))).toBe(true);
    expect(isLaterStatus(at(t, 'dev.kiln.build.queued'), at(t, 'dev.kiln.build.started'))).toBe(false);
    expect(isLaterStatus(at('2026-12-07T12:00:00.001Z', 'dev.kiln.build.queued'), at(t, 'dev.kiln.build.failed'))).toBe(
      true,
    );
    expect(isLaterStatus(at(t, 'dev.kiln.build.queued'), at(t, 'dev.kiln.build.queued'))).toBe(false);
  });
});

describe('published event data', () => {
  const manifest = `sha256:${'m'.repeat(64)}`;
  const recorded = [
    {
      name: 'app',
      digest: `sha256:${'d'.repeat(64)}`,
      manifestDigest: manifest,
      registries: [{ registry: 'registry.example.com', repository: 'team/app' }],
    },
  ];

  it('names the layout or registry the build published to, then every registry a publication copied it to', () => {
    expect(publishedArtifacts({ name: 'the OCI layout /h/oci', layoutDir: '/h/oci' }, recorded)).toEqual([
      {
        name: 'app',
        digest: recorded[0]?.digest,
        manifestDigest: manifest,
        locations: [
          { kind: 'oci-layout', layout: '/h/oci', ref: `/h/oci@${manifest}` },
          {
            kind: 'registry',
            registry: 'registry.example.com',
            repository: 'team/app',
            ref: `registry.example.com/team/app@${manifest}`,
          },
        ],
      },
    ]);
    // A registry target that is also a publication's repository is named once.
    const target = { name: 'registry.example.com/team/app', layoutDir: undefined };
    expect(publishedArtifacts(target, recorded)[0]?.locations).toHaveLength(1);
    expect(publishedArtifacts(undefined, [{ ...recorded[0], registries: [] } as never])[0]?.locations).toEqual([]);
  });

  it('has an id derived from the job alone, formatted as a UUID', () => {
    expect(publishedEventId('job-1')).toBe(publishedEventId('job-1'));
    expect(publishedEventId('job-1')).not.toBe(publishedEventId('job-2'));
    expect(publishedEventId('job-1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
