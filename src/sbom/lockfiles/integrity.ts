// Subresource-integrity strings (`sha512-<base64>`, as npm, pnpm and yarn berry record them) → hex hashes.
import type { ComponentHash, HashAlg } from '../graph.js';

const ALGS: Readonly<Record<string, { alg: HashAlg; bytes: number }>> = {
  sha512: { alg: 'SHA-512', bytes: 64 },
  sha384: { alg: 'SHA-384', bytes: 48 },
  sha256: { alg: 'SHA-256', bytes: 32 },
  sha1: { alg: 'SHA-1', bytes: 20 },
};

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Result of reading one integrity string: the hashes, or every reason it could not be read. */
export type IntegrityResult = { ok: true; hashes: ComponentHash[] } | { ok: false; problems: string[] };

/**
 * Converts a whitespace-separated SRI string to hex hashes. Each token must be `<alg>-<base64>[?options]` with a
 * known algorithm and a digest of that algorithm's length; anything else is a problem (a lockfile is untrusted input).
 */
export function integrityToHashes(integrity: string): IntegrityResult {
  const hashes: ComponentHash[] = [];
  const problems: string[] = [];
  const tokens = integrity.split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) problems.push('is empty');
  for (const token of tokens) {
    const dash = token.indexOf('-');
    const algName = dash < 0 ? token : token.slice(0, dash);
    const known = ALGS[algName];
    if (dash < 0 || known === undefined) {
      problems.push(`has unsupported hash "${truncate(token)}" (expected sha512-, sha384-, sha256- or sha1-<base64>)`);
      continue;
    }
    const b64 = token.slice(dash + 1).split('?')[0] ?? '';
    const bytes = BASE64_RE.test(b64) ? Buffer.from(b64, 'base64') : undefined;
    if (bytes === undefined || bytes.length !== known.bytes) {
      problems.push(`has a malformed ${algName} digest "${truncate(token)}" (expected ${known.bytes} base64 bytes)`);
      continue;
    }
    hashes.push({ alg: known.alg, hex: bytes.toString('hex') });
  }
  return problems.length === 0 ? { ok: true, hashes } : { ok: false, problems };
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
