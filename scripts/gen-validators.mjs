// Writes the CycloneDX 1.6 validator as Ajv standalone code to dist/sbom/ (run by `npm run build` after tsc), so no
// build compiles the schema at run time (~350 ms). It uses the compiled dist/sbom/cyclonedx-standalone.js; without
// the generated file (a bare `tsc`), src/sbom/validate.ts compiles the schema when first asked.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { PRECOMPILED_VALIDATOR_FILE } from '../dist/sbom/cyclonedx-ajv.js';
import { cycloneDxValidatorSource } from '../dist/sbom/cyclonedx-standalone.js';

const dir = new URL('../dist/sbom/', import.meta.url);
mkdirSync(dir, { recursive: true });
const target = new URL(PRECOMPILED_VALIDATOR_FILE, dir);
const tmp = new URL(`${PRECOMPILED_VALIDATOR_FILE}.tmp-${process.pid}`, dir);
writeFileSync(tmp, cycloneDxValidatorSource());
renameSync(tmp, target); // an interrupted build leaves the old file or none, never half of one
