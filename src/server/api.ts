// The HTTP API of `kiln serve`: a fetch-style Hono app over the same use cases as the CLI, tested in-process
// with `app.request()`. Every answer is JSON; every failure is `{ error: { code, message, hint } }` with the HTTP
// status its code maps to (ERROR_CODES). Only /healthz and /v1/openapi.json are open; the rest needs a bearer token.
import { Hono } from 'hono';
import type { z } from 'zod';
import type { BuildRow, Kiln, BuildDetail as StoredBuild } from '../app/index.js';
import { ERROR_CODES, isKilnError, KilnError } from '../core/errors.js';
import { openApiDocument } from './openapi.js';
import { type Build, type BuildDetail, BuildsQuery } from './schemas.js';

/** What the API runs over: a Kiln (its store holds builds and tokens) and the server's version. */
export interface ApiDeps {
  readonly kiln: Kiln;
  readonly version: string;
  /** Called with failures that are not KilnErrors (bugs): the server logs them; the client gets a 500. */
  readonly onBug?: (err: unknown) => void;
}

/** The API as a Hono app (`app.fetch` serves it; `app.request()` tests it). */
export function createApi(deps: ApiDeps): Hono {
  const { kiln } = deps;
  const app = new Hono();
  const document = openApiDocument(deps.version);

  app.onError((err, c) => {
    if (!isKilnError(err)) deps.onBug?.(err);
    const known = isKilnError(err) ? err : undefined;
    const status = known ? ERROR_CODES[known.code].http : 500;
    const body = known
      ? { error: { code: known.code, message: known.message, hint: known.hint ?? null } }
      : { error: { code: 'KILN_BUG', message: 'internal error (logged by the server)', hint: null } };
    return c.json(body, status as 500);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'KILN_NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}`, hint: null } }, 404),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok', version: deps.version }));
  app.get('/v1/openapi.json', (c) => c.json(document));

  app.use('/v1/builds/*', async (c, next) => {
    await kiln.authenticate(c.req.header('authorization'), 'read');
    await next();
  });
  app.use('/v1/builds', async (c, next) => {
    await kiln.authenticate(c.req.header('authorization'), 'read');
    await next();
  });

  app.get('/v1/builds', async (c) => {
    const query = BuildsQuery.safeParse(c.req.query());
    if (!query.success) {
      const problems = query.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new KilnError('KILN_USAGE', `bad query: ${problems}`, { hint: 'project=NAME and limit=1..1000' });
    }
    const rows = await kiln.listBuilds(query.data);
    return c.json({ builds: rows.map(buildOf) });
  });

  app.get('/v1/builds/:id', async (c) => {
    const id = c.req.param('id');
    const found = await kiln.showBuild(id).catch((err: unknown) => {
      if (isKilnError(err) && err.code !== 'KILN_NOT_FOUND' && err.code !== 'KILN_USAGE') throw err;
      return undefined;
    });
    // Exactly the id asked for: the CLI's prefixes, commits and digests are conveniences for people.
    if (found?.build.id !== id) {
      throw new KilnError('KILN_NOT_FOUND', `no build has the id "${id}"`, { hint: 'list builds with GET /v1/builds' });
    }
    return c.json(detailOf(found));
  });

  return app;
}

function buildOf(row: BuildRow): z.infer<typeof Build> {
  const running = row.status === 'running';
  return {
    id: row.id,
    project: row.project,
    status: row.status,
    repository: row.repo_url,
    commit: row.commit_sha,
    subdir: row.subdir,
    branch: row.branch,
    dirty: row.dirty === 1,
    startedAt: row.started_at,
    finishedAt: running ? null : row.finished_at,
    durationMs: running ? null : row.duration_ms,
    exitCode: row.exit_code,
    error: row.error,
    runner: row.runner,
    cache: { hits: row.cache_hits, misses: row.cache_misses },
  };
}

function detailOf(detail: StoredBuild): z.infer<typeof BuildDetail> {
  return {
    ...buildOf(detail.build),
    steps: detail.steps.map((s) => ({
      name: s.name,
      status: s.status,
      exitCode: s.exit_code,
      durationMs: s.duration_ms,
      startedAt: s.started_at,
      finishedAt: s.finished_at,
    })),
    artifacts: detail.artifacts.map((a) => ({
      name: a.name,
      digest: a.digest,
      manifestDigest: a.manifest_digest,
      size: a.size,
    })),
  };
}
