import { describe, expect, it } from 'vitest';
import { checkLockfileShape, issuesToProblems, NpmLockEntry } from '../../../src/sbom/lockfiles/npm/lockfile-schema.js';

// checkLockfileShape passes what surely fits the schema without zod (see there): it must never pass more than zod.
const VALUES: unknown[] = [null, 1, 'x', true, [], ['x'], ['x', 1], {}, { a: 'x' }, { a: 1 }, { a: { optional: 1 } }];

describe('checkLockfileShape', () => {
  it('reports every entry field of every kind of value as the schema does', () => {
    for (const field of Object.keys(NpmLockEntry.shape)) {
      for (const value of VALUES) {
        const entry = JSON.parse(JSON.stringify({ version: '1.0.0', [field]: value })) as unknown;
        const zod = NpmLockEntry.safeParse(entry);
        const { lockfile, problems } = checkLockfileShape({
          lockfileVersion: 3,
          packages: { 'node_modules/a': entry },
        });
        expect(problems, `${field}: ${JSON.stringify(value)}`).toEqual(
          zod.success ? [] : issuesToProblems(zod.error.issues, ['packages', 'node_modules/a']),
        );
        expect(lockfile?.packages.get('node_modules/a')).toBe(zod.success ? entry : undefined);
      }
    }
  });

  it('refuses a document that is no object, of another version, or whose header fields have the wrong type', () => {
    const refused = [
      ...VALUES,
      { lockfileVersion: 1, packages: {} },
      { lockfileVersion: '3', packages: {} },
      { lockfileVersion: 3, packages: [] },
      { lockfileVersion: 3, packages: { '': 'x' } },
      { lockfileVersion: 3, name: 1, packages: {} },
      { lockfileVersion: 3, version: 2, packages: {} },
    ];
    for (const document of refused) {
      expect(checkLockfileShape(document).problems, JSON.stringify(document)).not.toEqual([]);
    }
    const accepted = { lockfileVersion: 2, name: 'app', version: '1.0.0', packages: { '': {}, x: { y: 1 } } };
    expect(checkLockfileShape(accepted)).toEqual({
      lockfile: { name: 'app', version: '1.0.0', packages: new Map(Object.entries(accepted.packages)) },
      problems: [],
    });
  });
});
