// kiln scan and kiln publish only read where builds published: a fresh or read-only home is not written to.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { type Harness, harness } from '../../helpers/harness.js';
import { tempDir } from '../../helpers/tmp.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.kiln.close();
  h = undefined;
});

describe('reading what builds published', () => {
  it('scans a home with no builds without creating its OCI layout', async () => {
    h = harness({ cwd: tempDir() });
    const report = await h.kiln.scan({ all: true });
    expect(report).toMatchObject({ scanned: 0, affected: [], unreadable: [] });
    expect(existsSync(join(h.home, 'oci'))).toBe(false);
  });

  it('refuses to publish an unknown build before touching the layout', async () => {
    h = harness({ cwd: tempDir() });
    const err = await h.kiln
      .publish({ buildId: 'nope', to: '127.0.0.1:5999/team/app', tags: [], mutableTags: [], insecure: false })
      .catch((e) => e);
    expect(isKilnError(err, 'KILN_NOT_FOUND')).toBe(true);
    expect(existsSync(join(h.home, 'oci'))).toBe(false);
  });
});
