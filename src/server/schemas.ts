// The shapes the HTTP API answers with: one zod schema each, used to build the answers' types and the OpenAPI
// document served at /v1/openapi.json, so the two cannot drift apart.
import { z } from 'zod';

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe('stable code (docs/reference/errors.md)'),
    message: z.string(),
    hint: z.string().nullable(),
  }),
});

export const BuildStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'blocked', 'cancelled', 'lost']);

export const Build = z.object({
  id: z.string(),
  project: z.string(),
  status: BuildStatus,
  repository: z.string().describe('the repository URL, without credentials'),
  commit: z.string(),
  subdir: z.string(),
  branch: z.string().nullable(),
  dirty: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string().nullable().describe('null while the build runs'),
  durationMs: z.number().int().nullable(),
  exitCode: z.number().int().nullable(),
  error: z.string().nullable(),
  runner: z.string(),
  cache: z.object({ hits: z.number().int(), misses: z.number().int() }),
});

export const Artifact = z.object({
  name: z.string(),
  digest: z.string().describe('sha256 of the artifact file'),
  manifestDigest: z.string().describe('the OCI manifest that holds it'),
  size: z.number().int(),
});

export const Step = z.object({
  name: z.string(),
  status: z.enum(['succeeded', 'cached', 'failed', 'skipped']),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const BuildDetail = Build.extend({ steps: z.array(Step), artifacts: z.array(Artifact) });

export const BuildList = z.object({ builds: z.array(Build) });

export const Health = z.object({ status: z.literal('ok'), version: z.string() });

export const BuildsQuery = z.object({
  project: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

/** The named schemas of the API, as OpenAPI components refer to them. */
export const API_SCHEMAS = { Error: ErrorBody, BuildStatus, Build, Artifact, Step, BuildDetail, BuildList, Health };
