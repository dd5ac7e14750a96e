// The checks Kiln itself runs once sigstore has verified the signature: subject, predicate type, provenance.
import * as z from 'zod'; // a namespace import: `{ z }` would bundle all 64 zod locales
import type { Digest } from '../core/digest.js';
import { fail, pass, type VerifyCheck } from './report.js';
import { IN_TOTO_STATEMENT_V1, SLSA_PROVENANCE_V1 } from './statement.js';

/** What a caller expects the attestation to say; unset fields are not checked (predicateType defaults to SLSA v1). */
export interface VerifyExpectations {
  predicateType?: string;
  builderId?: string;
  sourceCommit?: string;
  sourceRepo?: string;
}

const StatementSchema = z.object({
  _type: z.literal(IN_TOTO_STATEMENT_V1),
  subject: z.array(z.object({ name: z.string(), digest: z.record(z.string(), z.string()) })).min(1),
  predicateType: z.string().min(1),
  predicate: z.unknown(),
});

/** A statement as read back from a verified envelope. */
export type ParsedStatement = z.infer<typeof StatementSchema>;

const ProvenanceSchema = z.object({
  buildDefinition: z.object({
    externalParameters: z
      .object({
        source: z.object({
          uri: z.string(),
          digest: z.object({ gitCommit: z.string() }),
          dirty: z.boolean().optional(),
        }),
      })
      .partial()
      .optional(),
    resolvedDependencies: z
      .array(z.object({ uri: z.string().optional(), digest: z.record(z.string(), z.string()).optional() }))
      .optional(),
  }),
  runDetails: z.object({ builder: z.object({ id: z.string() }) }),
});

/** Parses the signed payload as an in-toto Statement v1, reporting every schema problem with its path. */
export function parseStatement(payload: Buffer): { statement?: ParsedStatement; check: VerifyCheck } {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { check: fail('statement', 'payload is not JSON', 'an in-toto Statement v1', (err as Error).message) };
  }
  const parsed = StatementSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { check: fail('statement', 'payload is not a valid statement', `an in-toto Statement v1`, problems) };
  }
  return { statement: parsed.data, check: pass('statement', `payload is an in-toto Statement v1`) };
}

/** Checks that the artifact's digest is one of the statement's subjects. */
export function checkSubject(
  subjects: readonly { name: string; sha256: string | undefined }[],
  artifact: Digest,
): VerifyCheck {
  const hex = artifact.slice('sha256:'.length);
  const match = subjects.find((s) => s.sha256?.toLowerCase() === hex);
  if (match) return pass('subject-digest', `artifact ${artifact} is subject "${match.name}"`, artifact);
  const listed = subjects.map((s) => (s.sha256 ? `sha256:${s.sha256}` : `${s.name} (no sha256)`)).join(', ');
  return fail('subject-digest', 'artifact is not a subject of the attestation', artifact, `subjects [${listed}]`);
}

/** Checks predicate type and the provenance expectations (builder, source commit, source repo). */
export function checkPredicate(statement: ParsedStatement, expect: VerifyExpectations): VerifyCheck[] {
  const checks: VerifyCheck[] = [];
  const wantType = expect.predicateType ?? SLSA_PROVENANCE_V1;
  checks.push(
    statement.predicateType === wantType
      ? pass('predicate-type', `predicate type is ${wantType}`, wantType)
      : fail('predicate-type', 'wrong predicate type', wantType, statement.predicateType),
  );
  const wants = { builderId: expect.builderId, sourceCommit: expect.sourceCommit, sourceRepo: expect.sourceRepo };
  if (wants.builderId === undefined && wants.sourceCommit === undefined && wants.sourceRepo === undefined)
    return checks;
  const prov = statement.predicateType === SLSA_PROVENANCE_V1 ? ProvenanceSchema.safeParse(statement.predicate) : null;
  if (!prov?.success) {
    const why = prov ? 'malformed SLSA provenance' : `no provenance (predicate type ${statement.predicateType})`;
    if (wants.builderId !== undefined) checks.push(fail('builder-id', 'cannot read builder id', wants.builderId, why));
    if (wants.sourceCommit !== undefined)
      checks.push(fail('source-commit', 'cannot read source', wants.sourceCommit, why));
    if (wants.sourceRepo !== undefined) checks.push(fail('source-repo', 'cannot read source', wants.sourceRepo, why));
    return checks;
  }
  const p = prov.data;
  if (wants.builderId !== undefined) {
    const id = p.runDetails.builder.id;
    checks.push(
      id === wants.builderId
        ? pass('builder-id', `built by ${id}`, id)
        : fail('builder-id', 'built by another builder', wants.builderId, id),
    );
  }
  const source = sourceOf(p);
  if (wants.sourceCommit !== undefined) checks.push(checkCommit(wants.sourceCommit, source));
  if (wants.sourceRepo !== undefined) {
    const actual = source ? normalizeRepo(source.uri) : '(no git source in provenance)';
    checks.push(
      actual === normalizeRepo(wants.sourceRepo)
        ? pass('source-repo', `built from ${actual}`, actual)
        : fail('source-repo', 'built from another repository', normalizeRepo(wants.sourceRepo), actual),
    );
  }
  return checks;
}

type Provenance = z.infer<typeof ProvenanceSchema>;
type Source = { uri: string; commit: string; dirty: boolean };

// Kiln's build type names its source in externalParameters; other builders only in resolvedDependencies.
function sourceOf(p: Provenance): Source | undefined {
  const ext = p.buildDefinition.externalParameters?.source;
  if (ext) return { uri: ext.uri, commit: ext.digest.gitCommit, dirty: ext.dirty ?? false };
  const dep = p.buildDefinition.resolvedDependencies?.find((d) => d.digest?.gitCommit !== undefined && d.uri);
  return dep?.uri && dep.digest?.gitCommit ? { uri: dep.uri, commit: dep.digest.gitCommit, dirty: false } : undefined;
}

function checkCommit(want: string, source: Source | undefined): VerifyCheck {
  const expected = want.toLowerCase();
  if (!source) return fail('source-commit', 'provenance names no git source', expected, '(none)');
  const actual = source.commit.toLowerCase();
  if (actual !== expected) return fail('source-commit', 'built from another commit', expected, actual);
  if (source.dirty) {
    return fail('source-commit', 'built from a dirty worktree', `clean ${expected}`, `${actual} with local changes`);
  }
  return pass('source-commit', `built from commit ${actual}`, actual);
}

/** Reduces `git+https://host/o/r.git@ref` and `https://host/o/r/` to `https://host/o/r` for comparison. */
export function normalizeRepo(uri: string): string {
  let s = uri.trim().replace(/^git\+/, '');
  // A ref suffix `@...` follows the path; an `@` before the path is userinfo (`git@host:o/r`, `https://u@host/`).
  const scheme = s.indexOf('://');
  const pathStart = scheme >= 0 ? s.indexOf('/', scheme + 3) : s.indexOf(':');
  const at = pathStart >= 0 ? s.indexOf('@', pathStart) : -1;
  if (at >= 0) s = s.slice(0, at);
  return s.replace(/\/+$/, '').replace(/\.git$/, '');
}
