// Retention in registries: the copies of going artifacts (promoted, or published to kiln.yaml's `publish.to`) are
// deleted there too, evidence first, where the registry allows deletes. Runs before anything local is removed, so a
// failure leaves the plan intact for the next run.
import type { Digest } from '../core/digest.js';
import type { EventSink } from '../core/events.js';
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
  environments: Readonly<Record<string, { readonly repository: string; readonly tag?: string | undefined }>> = {},
  emit: EventSink = () => {},
): Promise<RegistryDeletion> {
  const targets = new Map<string, { registry: string; repository: string; digest: Digest }>();
  const add = (registry: string, repository: string, digest: Digest) =>
    targets.set(`${registry}/${repository}@${digest}`, { registry, repository, digest });
  for (const copy of plan.registry.copies) {
    const ref = parseRegistryRef(copy.ref);
    add(ref.registry, ref.repository, copy.manifest as Digest);
  }
  if (plan.registry.publishTo) {
    // As kiln publish names them: one artifact in publish.to itself, several each in publish.to/<name>.
    const to = parseRegistryRef(plan.registry.publishTo);
    for (const a of plan.builds.flatMap((b) => b.artifacts.filter((x) => !x.keep))) {
      add(to.registry, to.repository, a.manifest as Digest);
      add(to.registry, `${to.repository}/${a.name}`, a.manifest as Digest);
    }
  }
  // What an environment's tag points at now is running there, whatever the store says: never deleted.
  const running = new Set<string>();
  for (const [name, env] of Object.entries(environments)) {
    const ref = parseRegistryRef(env.repository);
    const digest = await (await clientFor(ref.registry)).resolve(ref.repository, env.tag ?? name);
    if (digest) running.add(`${ref.registry}/${ref.repository}@${digest}`);
  }
  const deleted: string[] = [];
  const left: { ref: string; why: string }[] = [];
  for (const [ref, t] of targets) {
    if (running.has(ref)) {
      left.push({ ref, why: 'an environment tag points at it' });
      emit({ kind: 'gc-action', action: 'keep-copy', target: ref, detail: 'an environment tag points at it' });
      continue;
    }
    const client = await clientFor(t.registry);
    if ((await client.resolve(t.repository, t.digest)) === undefined) continue; // never published there, or gone
    const evidence = await ownReferrers(client, t.repository, t.digest);
    const index = await client.resolve(t.repository, referrersTag(t.digest));
    // Evidence and its index first, the artifact last: a crash in between leaves an artifact that fails
    // verification (safe), never evidence about an artifact that is gone.
    const order = [...evidence, ...(index ? [index] : []), t.digest];
    let refused = false;
    for (const digest of order) {
      if (!(await client.deleteManifest(t.repository, digest))) {
        refused = true;
        break;
      }
    }
    const why = `${t.registry} does not allow deletes (storage.delete.enabled)`;
    if (refused) left.push({ ref, why });
    else deleted.push(ref);
    emit({
      kind: 'gc-action',
      action: refused ? 'keep-copy' : 'delete-copy',
      target: ref,
      ...(refused ? { detail: why } : {}),
    });
  }
  return { deleted, left };
}

/** The referrers that really are about `subject` (their manifest says so): a listing alone is not trusted. */
async function ownReferrers(client: RegistryClient, repository: string, subject: Digest): Promise<Digest[]> {
  const out: Digest[] = [];
  for (const ref of (await listReferrers(client, repository, subject)).referrers) {
    const found = await client.getManifest(repository, ref.digest);
    if (!found) continue;
    const body = JSON.parse(found.bytes.toString('utf8')) as { subject?: { digest?: string } };
    if (body.subject?.digest === subject) out.push(ref.digest);
  }
  return out;
}
