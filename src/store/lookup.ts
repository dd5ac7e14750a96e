// What a user may name a build by: its id, the commit it built, or the digest of an artifact it made (each in full
// or by a prefix), so `kiln show` answers "which build made this?" without the id.
import { sql } from 'kysely';
import { likePrefix, type Store } from './store.js';

/** One thing `ref` named, and the builds that have it, newest first. */
export interface BuildRef {
  readonly kind: 'build' | 'commit' | 'artifact';
  /** The full id, commit SHA or artifact digest. */
  readonly value: string;
  readonly buildIds: readonly string[];
}

/** The most of each kind looked at: enough to show a person the candidates of an ambiguous prefix. */
const MAX = 50;
const HEX_PREFIX = /^[0-9a-f]{4,64}$/;

/** Every build id, commit and artifact digest that `ref` is (or is a prefix of), with their builds. */
export async function buildsNamedBy(store: Store, ref: string): Promise<BuildRef[]> {
  if (ref === '') return [];
  const like = sql<boolean>`${sql.ref('id')} like ${likePrefix(ref)} escape '\\'`;
  const ids = await store.db.selectFrom('builds').select('id').where(like).orderBy('id', 'desc').limit(MAX).execute();
  const refs: BuildRef[] = ids.map((b) => ({ kind: 'build', value: b.id, buildIds: [b.id] }));
  const hex = ref.toLowerCase().replace(/^sha256:/, '');
  if (!HEX_PREFIX.test(hex)) return refs;
  const [commits, artifacts] = await Promise.all([
    ref.startsWith('sha256:') || hex.length > 40
      ? []
      : store.db
          .selectFrom('builds')
          .select(['commit_sha as value', 'id'])
          .where('commit_sha', 'like', `${hex}%`)
          .orderBy('started_at', 'desc')
          .limit(MAX)
          .execute(),
    store.db
      .selectFrom('artifacts')
      .innerJoin('builds', 'builds.id', 'artifacts.build_id')
      .select(['artifacts.digest as value', 'builds.id as id'])
      .where('artifacts.digest', 'like', `sha256:${hex}%`)
      .orderBy('builds.started_at', 'desc')
      .limit(MAX)
      .execute(),
  ]);
  return [...refs, ...grouped('commit', commits), ...grouped('artifact', artifacts)];
}

function grouped(kind: BuildRef['kind'], rows: readonly { value: string; id: string }[]): BuildRef[] {
  const byValue = new Map<string, string[]>();
  for (const r of rows) {
    const ids = byValue.get(r.value) ?? [];
    if (!ids.includes(r.id)) ids.push(r.id);
    byValue.set(r.value, ids);
  }
  return [...byValue].map(([value, buildIds]) => ({ kind, value, buildIds }));
}
