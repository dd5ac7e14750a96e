// Retention in registries: the copies of going artifacts (promoted, or published to kiln.yaml's `publish.to`) are
// deleted there too, evidence first, where the registry allows deletes. Runs before anything local is removed, so a
// failure leaves the plan intact for the next run.
import type { Digest } from '../core/digest.js';
import { listReferrers, referrersTag } from '../registry/referrers.js';
import { parseRegistryRef, type RegistryClient } from '../registry/remote/index.js';
import type { RetentionPlan } from './types.js';

/** What deleting from registries did: refs deleted, and those the registry would not delete (and why). */
export interface RegistryDeletion {
  readonly deleted: readonly string[];
  readonly left: readonly { readonly ref: string; readonly why: string }[];
}

/** Deletes each going artifact's copies (artifact, its evidence, its referrers tag index) from their registries. */
export async function deleteRegistryCopies(
  plan: RetentionPlan,
  clientFor: (registry: string) => Promise<RegistryClient>,
): Promise<RegistryDeletion> {
  const targets = new Map<string, { registry: string; repository: string; digest: Digest }>();
  const going = plan.builds.flatMap((b) => b.artifacts.filter((a) => !a.keep).map((a) => a.manifest as Digest));
  for (const copy of plan.registry.copies) {
    const ref = parseRegistryRef(copy.ref);
    targets.set(`${ref.registry}/${ref.repository}@${copy.manifest}`, {
      registry: ref.registry,
      repository: ref.repository,
      digest: copy.manifest as Digest,
    });
  }
  if (plan.registry.publishTo) {
    const to = parseRegistryRef(plan.registry.publishTo);
    for (const digest of going) {
      targets.set(`${to.registry}/${to.repository}@${digest}`, {
        registry: to.registry,
        repository: to.repository,
        digest,
      });
    }
  }
  const deleted: string[] = [];
  const left: { ref: string; why: string }[] = [];
  for (const [ref, t] of targets) {
    const client = await clientFor(t.registry);
    if ((await client.resolve(t.repository, t.digest)) === undefined) continue; // never published there, or gone
    const { referrers } = await listReferrers(client, t.repository, t.digest);
    const index = await client.resolve(t.repository, referrersTag(t.digest));
    // Evidence and its index first, the artifact last: a crash in between leaves an artifact that fails
    // verification (safe), never evidence about an artifact that is gone.
    const order = [...referrers.map((r) => r.digest), ...(index ? [index] : []), t.digest];
    let refused = false;
    for (const digest of order) {
      if (!(await client.deleteManifest(t.repository, digest))) {
        refused = true;
        break;
      }
    }
    if (refused) left.push({ ref, why: `${t.registry} does not allow deletes (storage.delete.enabled)` });
    else deleted.push(ref);
  }
  return { deleted, left };
}
