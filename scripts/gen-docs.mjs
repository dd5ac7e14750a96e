// Writes docs/reference/ (the CLI, kiln.yaml and error codes) from the compiled code (`npm run gen:docs` builds it
// first). test/unit/docs/reference.test.ts fails when the committed pages differ from what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { referencePages } from '../dist/cli/reference.js';

const dir = new URL('../docs/reference/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(await referencePages())) writeFileSync(new URL(name, dir), text);
