// Decides whether a component's declared license complies with the project's license policy (a pure verdict).
//
// Matching rules, for every license of the declared expression against the policy's entries:
// - Ids match case-insensitively; a deprecated id equals its replacement: `GPL-2.0` ≡ `GPL-2.0-only`,
//   `GPL-2.0+` ≡ `GPL-2.0-or-later`, `GPL-2.0-with-classpath-exception` ≡ `GPL-2.0-only WITH Classpath-exception-2.0`.
// - An entry matches a license exactly (same license, same or-later, same exception), or covers it: entry `X` covers
//   `X-or-later` / `X+` (the or-later grant includes X itself) and `X WITH E` (SPDX exceptions only add permissions).
//   Entry `X-or-later` does not cover `X-only`, and `X WITH E` does not cover plain `X`.
// - Exact matches decide before covering ones, and at the same level deny wins over allow. So deny `GPL-2.0-only`
//   denies `GPL-2.0`, `GPL-2.0+` and `GPL-2.0-only WITH Classpath-exception-2.0`, unless that exact form is allowed.
// - A license no entry matches is denied when there is an allow list, allowed when there is none.
// OR complies when either side does (the verdict names the complying choice), AND when both do.
import {
  formatLicenseExpression,
  isLicenseParseError,
  type LicenseExpression,
  parseLicenseExpression,
} from './expression.js';
import { spdxLicense } from './spdx-ids.js';

/** Which licenses a project accepts; `unknown` says what to do when a component's license cannot be judged. */
export interface LicensePolicy {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  readonly unknown: 'allow' | 'warn' | 'deny';
}

/** The outcome for one component: complies (with the licenses chosen), does not, or cannot be told. */
export type LicenseVerdict =
  | { readonly kind: 'allowed'; readonly chosen: readonly string[] }
  | { readonly kind: 'denied'; readonly reason: string; readonly licenses: readonly string[] }
  | { readonly kind: 'unknown'; readonly reason: string; readonly action: 'allow' | 'warn' | 'deny' };

type Leaf = Extract<LicenseExpression, { kind: 'license' }>;
/** A license as matching compares it: lower-case base id without -only/-or-later, the or-later flag, the exception. */
interface Term {
  readonly base: string;
  readonly orLater: boolean;
  readonly exception: string | undefined;
}
interface Entry {
  readonly path: string;
  readonly text: string;
  readonly term: Term;
}
interface CompiledPolicy {
  readonly allow: readonly Entry[] | undefined;
  readonly deny: readonly Entry[];
  readonly problems: readonly string[];
}
type Outcome =
  | { readonly complies: true; readonly chosen: string[] }
  | { readonly complies: false; failures: Failure[] };
interface Failure {
  readonly license: string;
  readonly why: string;
}

/** Deprecated GPL ids with a built-in exception, as the SPDX License List names them (`… w/Classpath exception`). */
const WITH_EXCEPTION: Readonly<Record<string, readonly [string, string]>> = {
  'GPL-2.0-with-autoconf-exception': ['GPL-2.0-only', 'Autoconf-exception-2.0'],
  'GPL-2.0-with-bison-exception': ['GPL-2.0-only', 'Bison-exception-2.2'],
  'GPL-2.0-with-classpath-exception': ['GPL-2.0-only', 'Classpath-exception-2.0'],
  'GPL-2.0-with-font-exception': ['GPL-2.0-only', 'Font-exception-2.0'],
  'GPL-2.0-with-GCC-exception': ['GPL-2.0-only', 'GCC-exception-2.0'],
  'GPL-3.0-with-autoconf-exception': ['GPL-3.0-only', 'Autoconf-exception-3.0'],
  'GPL-3.0-with-GCC-exception': ['GPL-3.0-only', 'GCC-exception-3.1'],
};

const compiled = new WeakMap<LicensePolicy, CompiledPolicy>();

/** The policy of kiln.yaml's `policy.licenses` (whose `unknown` says `block` where a verdict says `deny`). */
export function licensePolicyOf(lists: {
  readonly allow?: readonly string[] | undefined;
  readonly deny: readonly string[];
  readonly unknown: 'allow' | 'warn' | 'block';
}): LicensePolicy {
  return {
    ...(lists.allow ? { allow: lists.allow } : {}),
    deny: lists.deny,
    unknown: lists.unknown === 'block' ? 'deny' : lists.unknown,
  };
}

/** Decides whether a component's declared license (raw text, or undefined when none is known) complies. */
export function judgeLicense(declared: string | undefined, policy: LicensePolicy): LicenseVerdict {
  const unknown = (reason: string): LicenseVerdict =>
    Object.freeze({ kind: 'unknown', reason, action: policy.unknown });
  if (declared === undefined || declared.trim() === '') return unknown('no license is declared');
  const expr = parseLicenseExpression(declared);
  if (isLicenseParseError(expr)) return unknown(`declared license ${quote(declared)}: ${expr.error}`);
  const outcome = judge(expr, compile(policy));
  if (outcome.complies) return Object.freeze({ kind: 'allowed', chosen: sortedUnique(outcome.chosen) });
  const whys = [...new Set(outcome.failures.map((f) => f.why))].join('; ');
  return Object.freeze({
    kind: 'denied',
    reason: expr.kind === 'license' ? whys : `no way to comply with "${formatLicenseExpression(expr)}": ${whys}`,
    licenses: sortedUnique(outcome.failures.map((f) => f.license)),
  });
}

/**
 * Checks a policy's own lists: each entry one SPDX license id or LicenseRef, optionally WITH an exception, and
 * none both allowed and denied. Problems name the list and index: `deny[2]: "GPL3" is not an SPDX license id; did
 * you mean GPL-3.0-only?`. An empty result means the policy is sound.
 */
export function checkLicensePolicy(policy: LicensePolicy): readonly string[] {
  return compile(policy).problems;
}

function judge(expr: LicenseExpression, policy: CompiledPolicy): Outcome {
  switch (expr.kind) {
    case 'license': {
      const license = formatLicenseExpression(expr);
      const why = failureOf(expr, license, policy);
      return why === undefined
        ? { complies: true, chosen: [license] }
        : { complies: false, failures: [{ license, why }] };
    }
    case 'or': {
      const left = judge(expr.left, policy);
      if (left.complies) return left;
      const right = judge(expr.right, policy);
      return right.complies ? right : { complies: false, failures: [...left.failures, ...right.failures] };
    }
    case 'and': {
      const left = judge(expr.left, policy);
      const right = judge(expr.right, policy);
      if (left.complies && right.complies) return { complies: true, chosen: [...left.chosen, ...right.chosen] };
      return {
        complies: false,
        failures: [...(left.complies ? [] : left.failures), ...(right.complies ? [] : right.failures)],
      };
    }
  }
}

/** Why one license does not comply, or undefined when it does. */
function failureOf(leaf: Leaf, license: string, policy: CompiledPolicy): string | undefined {
  const term = termOf(leaf);
  const denied = (e: Entry) => `${license} is denied by ${e.path} ("${e.text}")`;
  const denyExact = policy.deny.find((e) => matches(e.term, term));
  if (denyExact !== undefined) return denied(denyExact);
  if (policy.allow?.some((e) => matches(e.term, term))) return undefined;
  const denyCover = policy.deny.find((e) => covers(e.term, term));
  if (denyCover !== undefined) return denied(denyCover);
  if (policy.allow === undefined || policy.allow.some((e) => covers(e.term, term))) return undefined;
  return `${license} is not in the allow list`;
}

function matches(entry: Term, license: Term): boolean {
  return entry.base === license.base && entry.orLater === license.orLater && entry.exception === license.exception;
}

function covers(entry: Term, license: Term): boolean {
  return (
    entry.base === license.base &&
    (!entry.orLater || license.orLater) &&
    (entry.exception === undefined || entry.exception === license.exception)
  );
}

function termOf(leaf: Leaf): Term {
  const alias = WITH_EXCEPTION[leaf.id];
  const id = alias?.[0] ?? leaf.id;
  const exception = leaf.exception ?? alias?.[1];
  const only = /^(.+)-only$/.exec(id)?.[1];
  const later = /^(.+)-or-later$/.exec(id)?.[1];
  const [base, orLater] =
    only !== undefined && spdxLicense(`${only}-or-later`) !== undefined
      ? [only, false]
      : later !== undefined && spdxLicense(`${later}-only`) !== undefined
        ? [later, true]
        : [id, false];
  return { base: base.toLowerCase(), orLater: orLater || leaf.orLater, exception: exception?.toLowerCase() };
}

function compile(policy: LicensePolicy): CompiledPolicy {
  const cached = compiled.get(policy);
  if (cached !== undefined) return cached;
  const problems: string[] = [];
  const allow = policy.allow === undefined ? undefined : entriesOf('allow', policy.allow, problems);
  const deny = entriesOf('deny', policy.deny ?? [], problems);
  if (policy.allow?.length === 0) {
    problems.push('allow: an empty allow list denies every license; leave it out to allow all but the denied ones');
  }
  for (const d of deny) {
    const a = allow?.find((e) => matches(e.term, d.term));
    if (a !== undefined) problems.push(`${d.path}: "${d.text}" is also allowed by ${a.path} ("${a.text}")`);
  }
  const result = Object.freeze({ allow, deny, problems: Object.freeze(problems) });
  compiled.set(policy, result);
  return result;
}

function entriesOf(list: 'allow' | 'deny', texts: readonly string[], problems: string[]): Entry[] {
  const entries: Entry[] = [];
  texts.forEach((text, i) => {
    const path = `${list}[${i}]`;
    const expr = parseLicenseExpression(text);
    if (isLicenseParseError(expr)) {
      problems.push(
        expr.error.startsWith(`"${text}"`) ? `${path}: ${expr.error}` : `${path}: "${text}": ${expr.error}`,
      );
    } else if (expr.kind !== 'license') {
      problems.push(`${path}: "${text}" joins licenses with ${expr.kind.toUpperCase()}; list one license per entry`);
    } else {
      entries.push({ path, text, term: termOf(expr) });
    }
  });
  return entries;
}

function sortedUnique(items: readonly string[]): readonly string[] {
  return Object.freeze([...new Set(items)].sort());
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
