// `kiln verify`: offline checks of an artifact against its Sigstore bundle, a public key and expectations, for a
// file on disk or an artifact in a registry (fetched by digest with its evidence, then checked as files are).
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { toReport, type VerifyCheck, type VerifyCheckName, verifyBundle } from '../attest/index.js';
import { REQUIRABLE, verifyRequiredEvidence } from '../attest/verify-evidence.js';
import type { VerifyExpectations } from '../attest/verify-statement.js';
import { KilnError } from '../core/errors.js';
import type { EventSink, KilnEvent } from '../core/events.js';
import { pathExists } from '../platform/fsutil.js';
import { fetchArtifact } from '../registry/fetch.js';
import { parseRegistryRef } from '../registry/remote/index.js';
import type { KilnPorts } from './ports.js';

/** What to verify and against what. Paths are relative to the caller's directory. */
export interface VerifyRequest {
  /** A file, or `oci://REGISTRY/REPO@sha256:…` / `oci://REGISTRY/REPO:TAG`. */
  readonly target: string;
  /** The bundle (default: `<file>.sigstore.json`; never used for oci://). */
  readonly bundle?: string | undefined;
  /** The public key (default: the local key in the Kiln home, when there is one). */
  readonly key?: string | undefined;
  readonly trustedRoot?: string | undefined;
  readonly expect: VerifyExpectations;
  /** Evidence that must be present and verify too: sbom, spdx, vulns, policy. */
  readonly require: readonly string[];
  /** Plain http to a registry that is not on loopback. */
  readonly insecure: boolean;
}

/** The verdict: every check that ran, what was verified (a path or registry/repo@digest), with which key. */
export interface VerifyResult {
  readonly artifact: string;
  readonly bundle: string;
  readonly key: string | null;
  readonly ok: boolean;
  readonly checks: readonly VerifyCheck[];
}

/** Verifies and returns every check; `ok` only when each passed. */
export async function verify(
  ports: Pick<KilnPorts, 'cwd' | 'home' | 'registries' | 'events'>,
  request: VerifyRequest,
): Promise<VerifyResult> {
  const unknown = request.require.filter((name) => !Object.hasOwn(REQUIRABLE, name));
  if (unknown.length > 0) {
    throw new KilnError('KILN_USAGE', `kiln verify: cannot --require "${unknown.join(', ')}"`, {
      hint: `choose from ${Object.keys(REQUIRABLE).join(', ')}`,
    });
  }
  if (!request.target.startsWith('oci://')) return verifyFile(ports, request, resolve(ports.cwd, request.target));
  // From a registry: fetched into a private temp dir, verified as files, and named by registry/repo@digest.
  const ref = parseRegistryRef(request.target);
  const client = ports.registries(ref.registry, { insecure: request.insecure });
  const dir = await fsp.mkdtemp(join(tmpdir(), 'kiln-verify-'));
  try {
    const fetched = await fetchArtifact(client, ref.repository, ref.digest ?? ref.tag ?? 'latest', dir);
    const shown = `${ref.registry}/${ref.repository}@${fetched.digest}`;
    for (const why of fetched.skipped) ports.events({ kind: 'warning', message: `${shown}: left out ${why}` });
    // The sets in turn, most likely first: the first that verifies is the verdict, else the first set's checks.
    let first: VerifyResult | undefined;
    for (const set of fetched.sets) {
      ports.events({
        kind: 'notice',
        message: `fetched ${shown} and ${set.evidence.length} evidence file(s) (referrers: ${fetched.referrers})`,
      });
      assertProvenanceListed(set, shown, ref);
      const result = await verifyFile(ports, { ...request, bundle: undefined }, set.path, shown);
      if (result.ok) return result;
      first ??= result;
    }
    return first as VerifyResult; // fetchArtifact gives at least one set
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** An artifact in a registry without a provenance referrer cannot be verified: say so as registries need it said. */
function assertProvenanceListed(
  set: { readonly path: string; readonly evidence: readonly string[] },
  shown: string,
  ref: { readonly registry: string; readonly repository: string },
): void {
  const provenance = `${basename(set.path)}.sigstore.json`;
  if (set.evidence.includes(provenance)) return;
  throw new KilnError(
    'KILN_VERIFY_FAILED',
    `${shown} has no provenance in the registry: no referrer of it is ${provenance}`,
    {
      hint: `publish the build with its evidence (kiln publish BUILD --to ${ref.registry}/${ref.repository}), or verify the digest kiln publish printed; a copy made with other tools must bring the referrers (the sha256-<hex> tag) along`,
    },
  );
}

/** Verifies a file against its bundle and the required evidence beside it; `shown` names it in the result. */
async function verifyFile(
  ports: Pick<KilnPorts, 'cwd' | 'home' | 'events'>,
  request: VerifyRequest,
  artifact: string,
  shown = artifact,
): Promise<VerifyResult> {
  const bundle = resolve(ports.cwd, request.bundle ?? `${artifact}.sigstore.json`);
  const bundleJson = await readText(
    bundle,
    'bundle',
    'pass --bundle with the .sigstore.json written next to the artifact',
  );
  const key = await keyPath(ports, request.key);
  const keys = {
    ...(key === undefined
      ? {}
      : { publicKeyPem: await readText(key, 'public key', 'pass --key with the signer’s .pub file') }),
    ...(request.trustedRoot === undefined
      ? {}
      : {
          trustedRootJson: await readText(
            resolve(ports.cwd, request.trustedRoot),
            'trusted root',
            'pass a Sigstore trusted_root.json',
          ),
        }),
  };
  const provenance = await verifyBundle({ bundleJson, artifact: { path: artifact }, ...keys, expect: request.expect });
  ports.events(signatureVerified('verify', shown, 'provenance', provenance.checks));
  const required = await verifyEvidenceSet({ artifact, require: request.require, keys }, ports.events, {
    context: 'verify',
    subject: shown,
  });
  const checks = [...provenance.checks, ...required];
  const report = toReport(checks);
  return { artifact: shown, bundle, key: key ?? null, ok: report.ok, checks: report.checks };
}

/** The checks a `signature-verified` event is about: the bundle parses, its signature verifies, it names the artifact. */
const SIGNATURE_CHECKS: ReadonlySet<VerifyCheckName> = new Set<VerifyCheckName>([
  'bundle',
  'signature-count',
  'public-key',
  'trusted-root',
  'signature',
  'payload-type',
  'statement',
  'subject-digest',
  'evidence',
]);

/** The `signature-verified` event of one bundle's checks: failed when one of its signature checks failed. */
export function signatureVerified(
  context: 'verify' | 'promote',
  subject: string,
  evidence: string,
  checks: readonly VerifyCheck[],
): KilnEvent {
  const failed = checks.find((c) => !c.ok && SIGNATURE_CHECKS.has(c.check));
  const why = failed?.message ?? 'signed by the trusted key and names the artifact';
  return { kind: 'signature-verified', context, subject, evidence, ok: !failed, why };
}

/** Verifies each required piece of evidence beside `artifact`, telling of each bundle's signature as an event. */
export async function verifyEvidenceSet(
  opts: {
    readonly artifact: string;
    readonly require: readonly string[];
    readonly keys: { readonly publicKeyPem?: string; readonly trustedRootJson?: string };
  },
  emit: EventSink,
  about: { readonly context: 'verify' | 'promote'; readonly subject: string },
): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  for (const name of opts.require) {
    const more = await verifyRequiredEvidence({ artifact: opts.artifact, require: [name], ...opts.keys });
    // The first check is the bundle's own; the rest judge its content (a policy decision's result).
    emit(signatureVerified(about.context, about.subject, name, more.slice(0, 1)));
    checks.push(...more);
  }
  return checks;
}

/** The key given, else the local one in the Kiln home when it exists (said in a notice), else none. */
async function keyPath(ports: Pick<KilnPorts, 'cwd' | 'home' | 'events'>, given: string | undefined) {
  if (given) return resolve(ports.cwd, given);
  const local = ports.home.defaultPub;
  if (!(await pathExists(local))) return undefined;
  ports.events({ kind: 'notice', message: `no --key given; using the local key ${local}` });
  return local;
}

async function readText(path: string, what: string, hint: string): Promise<string> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (cause) {
    throw new KilnError('KILN_NOT_FOUND', `cannot read the ${what} ${path}: ${(cause as Error).message}`, {
      cause,
      hint,
    });
  }
}
