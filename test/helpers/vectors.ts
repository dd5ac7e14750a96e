// Where the official test vectors are: test/vectors, inside the repository (see its README for sources and licenses).
import { fileURLToPath } from 'node:url';

/** The absolute path of test/vectors. */
export const VECTORS = fileURLToPath(new URL('../vectors', import.meta.url));
