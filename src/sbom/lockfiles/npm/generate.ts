// The SBOM stage for npm projects: read package-lock.json, build the document, validate it, serialize it.
import { readFile as fsReadFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../../../core/errors.js';
import { cycloneDxDocument, serializeBom } from '../../formats/cyclonedx/document.js';
import type { CycloneDxBom } from '../../formats/cyclonedx/types.js';
import { validateCycloneDx } from '../../formats/cyclonedx/validate.js';
import type { ComponentGraph } from '../../graph.js';
import { readNpmLockfile } from './lockfile.js';

/** Inputs of the npm SBOM stage; `readFile` is the file-system seam (defaults to node:fs). */
export interface GenerateNpmSbomOptions {
  readonly dir: string;
  readonly commit: string;
  readonly sourceDateEpoch: number;
  readonly toolName: string;
  readonly toolVersion: string;
  readonly readFile?: (path: string) => Promise<string>;
}

/** What the stage produces: the graph (for scanning), the document, and its canonical, schema-valid bytes. */
export interface NpmSbom {
  readonly graph: ComponentGraph;
  readonly bom: CycloneDxBom;
  readonly bytes: Buffer;
}

const LOCKFILE = 'package-lock.json';

/** Builds the CycloneDX SBOM of `<dir>/package-lock.json`; undefined when the project has no npm lockfile. */
export async function generateNpmSbom(opts: GenerateNpmSbomOptions): Promise<NpmSbom | undefined> {
  const readFile = opts.readFile ?? ((path: string) => fsReadFile(path, 'utf8'));
  const path = join(opts.dir, LOCKFILE);
  let text: string;
  try {
    text = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return undefined;
    throw new KilnError('KILN_IO', `cannot read ${path}: ${(err as Error).message}`, {
      hint: 'Check that the file is readable by the user running Kiln.',
      cause: err,
    });
  }
  const graph = readNpmLockfile(text, LOCKFILE);
  const bom = cycloneDxDocument(graph, opts);
  validateCycloneDx(bom);
  return { graph, bom, bytes: serializeBom(bom) };
}
