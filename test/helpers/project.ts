import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/hello-node');

/** kiln.yaml of a small offline project: mtimes and modes of its outputs vary run to run on purpose. */
export const DEMO_KILN_YAML = `name: demo
steps:
  compile:
    run: >-
      mkdir -p out/lib && cp src/*.js out/lib/ && cp package.json out/ &&
      touch -d "@$(( $(date +%s) - $$ ))" out/lib/*.js out/package.json
    inputs: [src/**, package.json]
    outputs: [out]
  test:
    run: test -f out/lib/main.js && echo tests ok
    needs: [compile]
artifacts:
  - name: demo
    from: compile
    path: out
`;

/** Files of the demo project: the example's real package.json and package-lock.json, and two sources. */
export function demoProject(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'kiln.yaml': DEMO_KILN_YAML,
    'package.json': readFileSync(resolve(EXAMPLE, 'package.json'), 'utf8'),
    'package-lock.json': readFileSync(resolve(EXAMPLE, 'package-lock.json'), 'utf8'),
    'src/main.js': 'export const main = () => "hello";\n',
    'src/util.js': 'export const twice = (x) => x * 2;\n',
    '.gitignore': 'kiln-out/\n',
    ...overrides,
  };
}

/** An OSV record (the real format) against the demo's runtime dependency debug@4.4.3, CVSS 9.8. */
export const DEBUG_ADVISORY = {
  schema_version: '1.6.0',
  id: 'GHSA-kiln-test-dbg1',
  modified: '2026-11-01T00:00:00Z',
  published: '2026-11-01T00:00:00Z',
  summary: 'debug: test advisory',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
  affected: [
    {
      package: { ecosystem: 'npm', name: 'debug' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '4.0.0' }, { fixed: '4.4.4' }] }],
    },
  ],
};
