// The policy gate: findings, licenses and evidence against kiln.yaml's `policy:` → pass or block, with reasons.
import type { PolicyConfig } from '../config/index.js';
import { deepFreeze } from '../core/json.js';
import { escapeForTerminal } from '../core/terminal.js';
import { judgeLicense, licensePolicyOf } from '../license/policy.js';
import { type BomComponent, type BomGraph, dependencyPaths } from '../scan/bom-components.js';
import { SEVERITY_RANK } from '../scan/cvss/score.js';
import type { Finding, ScanResult } from '../scan/match.js';
import { vexSuppression } from '../scan/vex/match.js';
import type { VexDocument } from '../scan/vex/openvex.js';

/** What the build can show for each requirement of the policy. */
export interface GateEvidence {
  readonly sbom: boolean;
  readonly signed: boolean;
  /** Hermetic: every step ran sandboxed without network; `why` names what was not. */
  readonly hermetic: { readonly ok: boolean; readonly why: string };
  /** OSV records in the store when the scan ran. */
  readonly vulnerabilityRecords: number;
}

/** One reason the artifact may not be published. */
export interface Violation {
  readonly kind: 'vulnerability' | 'license' | 'requirement';
  /** Vulnerability id, license, or requirement name. */
  readonly id: string;
  /** The component's purl, for vulnerability and license violations. */
  readonly component?: string;
  /** One line a person can act on: `app → express@4.17.1 → qs@6.7.0: GHSA-… (high), fixed in 6.7.3`. */
  readonly message: string;
}

/** A finding the policy let through, and why. */
export interface Waiver {
  readonly id: string;
  readonly component: string;
  readonly by: 'vex' | 'exception';
  readonly reason: string;
}

/** The gate's decision: `block` when any violation remains. Frozen. */
export interface PolicyDecision {
  readonly verdict: 'pass' | 'block';
  readonly violations: readonly Violation[];
  readonly warnings: readonly string[];
  readonly waived: readonly Waiver[];
}

/** Everything the gate decides over. */
export interface GateInput {
  readonly policy: PolicyConfig;
  readonly scan: ScanResult;
  /** The SBOM's components (their licenses), root (its name starts every path; its purl scopes VEX) and edges. */
  readonly graph: BomGraph;
  readonly vex: readonly VexDocument[];
  readonly evidence: GateEvidence;
  /** Today (UTC, YYYY-MM-DD): exceptions apply through their `expires` day. */
  readonly today: string;
}

/** Decides; pure. */
export function decide(input: GateInput): PolicyDecision {
  const { policy, graph } = input;
  const root = graph.root.name;
  const artifactPurl = graph.root.purl || undefined;
  const violations: Violation[] = [];
  const warnings: string[] = [];
  const waived: Waiver[] = [];
  const exceptions = exceptionMatcher(input, warnings);

  const threshold = policy.vulnerabilities.failOn;
  for (const f of input.scan.findings) {
    const level = f.severity.level;
    const action =
      level === 'unknown'
        ? policy.vulnerabilities.unscored
        : threshold !== 'none' && SEVERITY_RANK[level] >= SEVERITY_RANK[threshold]
          ? 'block'
          : 'warn';
    const vex = vexSuppression(input.vex, {
      ids: [f.id, ...f.aliases],
      purl: f.component.purl,
      ...(artifactPurl ? { artifactPurl } : {}),
    });
    if (vex) {
      waived.push({ id: f.id, component: f.component.purl, by: 'vex', reason: vexReason(vex) });
      continue;
    }
    const line = findingLine(root, f);
    if (action === 'allow') continue;
    const exception = exceptions.find([f.id, ...f.aliases], f.component);
    if (exception?.live) {
      waived.push({ id: f.id, component: f.component.purl, by: 'exception', reason: exception.why });
    } else if (action === 'block') {
      const expired = exception ? ` (its exception expired on ${exception.expires})` : '';
      violations.push({ kind: 'vulnerability', id: f.id, component: f.component.purl, message: `${line}${expired}` });
    } else warnings.push(line);
  }

  const licensePolicy = licensePolicyOf(policy.licenses);
  const paths = dependencyPaths(graph);
  const names = new Map(graph.components.map((c) => [c.ref, `${c.name}@${c.version}`]));
  const unknown: string[] = [];
  // Licenses bind what is distributed: development-only dependencies (CycloneDX scope `excluded`) are not.
  for (const c of graph.components.filter((x) => x.scope !== 'excluded')) {
    const verdict = judgeLicense(c.license, licensePolicy);
    if (verdict.kind === 'allowed' || (verdict.kind === 'unknown' && verdict.action === 'allow')) continue;
    const id = verdict.kind === 'denied' ? verdict.licenses.join(' AND ') : 'unknown-license';
    const exception = exceptions.find([id, c.license ?? 'unknown-license'], c);
    if (exception?.live) {
      waived.push({ id, component: c.purl, by: 'exception', reason: exception.why });
    } else if (verdict.kind === 'denied' || verdict.action === 'deny') {
      const path = [root, ...(paths.get(c.ref) ?? [c.ref]).map((ref) => names.get(ref) ?? ref)].join(' → ');
      const message = escapeForTerminal(`${path}: license ${c.license ?? 'not declared'}: ${verdict.reason}`);
      violations.push({ kind: 'license', id, component: c.purl, message });
    } else unknown.push(escapeForTerminal(`${c.name}@${c.version}`));
  }
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 5).join(', ') + (unknown.length > 5 ? `, and ${unknown.length - 5} more` : '');
    warnings.push(`${unknown.length} dependencies have no known SPDX license: ${shown}`);
  }

  for (const requirement of policy.require) {
    const missing = unmetRequirement(requirement, input.evidence);
    if (missing) violations.push({ kind: 'requirement', id: requirement, message: missing });
  }
  return deepFreeze({ verdict: violations.length > 0 ? 'block' : 'pass', violations, warnings, waived });
}

/**
 * `app → express@4.17.1 → qs@6.7.0: GHSA-… (high), fixed in 6.7.3`, safe to print: ids, names and versions come from
 * advisories and lockfiles, and one line of a list must not become two or steer the terminal.
 */
export function findingLine(root: string, f: Finding): string {
  const score = f.severity.score === undefined ? '' : ` ${f.severity.score}`;
  const fix = f.fixedIn.length > 0 ? `fixed in ${f.fixedIn.join(', ')}` : 'no fixed version known';
  return escapeForTerminal(`${[root, ...f.path].join(' → ')}: ${f.id} (${f.severity.level}${score}), ${fix}`);
}

/** How to clear the violations of a block: one fix for each kind of violation there is, in a fixed order. */
export function blockedHint(violations: readonly Violation[]): string {
  const has = (kind: Violation['kind'], id?: string) =>
    violations.some((v) => v.kind === kind && (id === undefined || v.id === id));
  const fixes = [
    ...(has('vulnerability')
      ? ['upgrade the named dependencies, or add a policy.exceptions entry (id, reason, expires) to kiln.yaml']
      : []),
    ...(has('license') ? ['replace the named packages, or change policy.licenses in kiln.yaml'] : []),
    ...(has('requirement', 'hermetic')
      ? [
          'for a hermetic build run every step in the sandbox (not --runner host) and none with network: true (commit or vendor what the step downloads, or use a builder rootfs that has it), or drop hermetic from policy.require',
        ]
      : []),
    ...(has('requirement', 'vulnerability-data') ? ['import OSV records with `kiln db import <dir or zip>`'] : []),
    ...(has('requirement', 'sbom') || has('requirement', 'signature')
      ? ['check the signing key and the lockfiles, and build again']
      : []),
  ];
  return fixes.join('; ');
}

function unmetRequirement(requirement: PolicyConfig['require'][number], evidence: GateEvidence): string | undefined {
  switch (requirement) {
    case 'sbom':
      return evidence.sbom ? undefined : 'the policy requires an SBOM, and the build has none';
    case 'signature':
      return evidence.signed ? undefined : 'the policy requires signed evidence, and it does not verify';
    case 'hermetic':
      return evidence.hermetic.ok ? undefined : `the policy requires a hermetic build: ${evidence.hermetic.why}`;
    case 'vulnerability-data':
      return evidence.vulnerabilityRecords > 0
        ? undefined
        : 'the policy requires vulnerability data, and none is imported (run `kiln db import <osv dir or zip>`)';
  }
}

function vexReason(statement: { justification?: string; impactStatement?: string }): string {
  return `VEX not_affected: ${statement.justification ?? statement.impactStatement ?? 'no justification given'}`;
}

/**
 * Finds the exception for a finding: by id (case-insensitive), and by package name or purl when it names one. A
 * live exception wins over an expired one for the same finding; an expired one is said once, as a warning.
 */
function exceptionMatcher(input: GateInput, warnings: string[]) {
  const warned = new Set<number>();
  return {
    find(ids: readonly string[], component: Pick<BomComponent, 'name' | 'purl'>) {
      const wanted = new Set(ids.map((id) => id.toLowerCase()));
      const matching = input.policy.exceptions.flatMap((e, index) =>
        wanted.has(e.id.toLowerCase()) &&
        (e.package === undefined ||
          e.package === component.name ||
          e.package === component.purl ||
          component.purl.startsWith(`${e.package}@`))
          ? [{ e, index, live: e.expires >= input.today }]
          : [],
      );
      const chosen = matching.find((m) => m.live) ?? matching[0];
      if (!chosen) return undefined;
      const { e, index, live } = chosen;
      if (!live && !warned.has(index)) {
        warned.add(index);
        warnings.push(`policy.exceptions[${index}] (${e.id}) expired on ${e.expires}: it no longer applies`);
      }
      return { live, expires: e.expires, why: `exception until ${e.expires}: ${e.reason}` };
    },
  };
}
