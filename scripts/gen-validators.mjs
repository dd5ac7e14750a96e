// Writes the CycloneDX 1.6 and SPDX 2.3 validators as Ajv standalone code to dist/sbom/ (run by `npm run build` after
// tsc), so no build compiles a schema at run time (~350 ms and ~50 ms). It uses the compiled dist/sbom/ modules;
// without the generated files (a bare `tsc`), the validators compile their schema when first asked.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { PRECOMPILED_VALIDATOR_FILE } from '../dist/sbom/formats/cyclonedx/ajv.js';
import { cycloneDxValidatorSource } from '../dist/sbom/formats/cyclonedx/standalone.js';
import { PRECOMPILED_SPDX_VALIDATOR_FILE, spdxValidatorSource } from '../dist/sbom/formats/spdx/validate.js';

const dir = new URL('../dist/sbom/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [file, source] of [
  [PRECOMPILED_VALIDATOR_FILE, cycloneDxValidatorSource()],
  [PRECOMPILED_SPDX_VALIDATOR_FILE, spdxValidatorSource()],
]) {
  const tmp = new URL(`${file}.tmp-${process.pid}`, dir);
  writeFileSync(tmp, source);
  renameSync(tmp, new URL(file, dir)); // an interrupted build leaves the old file or none, never half of one
}
