// docs/reference/ is generated from the code: each page must be exactly what the generator writes today.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { referencePages } from '../../../src/cli/reference.js';
import { ERROR_CODES } from '../../../src/core/errors.js';

const DOCS = new URL('../../../docs/reference/', import.meta.url);

describe('docs/reference', () => {
  it('is what `npm run gen:docs` writes from the current code', async () => {
    const pages = await referencePages();
    expect(Object.keys(pages).sort()).toEqual(['cli.md', 'errors.md', 'kiln-yaml.md']);
    for (const [name, text] of Object.entries(pages)) {
      const committed = readFileSync(new URL(name, DOCS), 'utf8');
      expect(committed, `docs/reference/${name} is stale: run npm run gen:docs`).toBe(text);
    }
  });

  it('documents every error code, every command and every top-level kiln.yaml key', async () => {
    const pages = await referencePages();
    for (const code of Object.keys(ERROR_CODES)) expect(pages['errors.md']).toContain(`| \`${code}\` |`);
    for (const command of ['build', 'plan', 'verify', 'publish', 'promote', 'gc', 'db', 'scan']) {
      expect(pages['cli.md']).toContain(`## kiln ${command}\n\n\`\`\`text\nusage: kiln ${command}`);
    }
    for (const key of ['name', 'steps', 'artifacts', 'policy', 'publish', 'environments', 'retention']) {
      expect(pages['kiln-yaml.md']).toContain(`| \`${key}\` |`);
    }
    expect(pages['kiln-yaml.md']).toContain('| `artifacts[].from` | string | yes |');
  });
});
