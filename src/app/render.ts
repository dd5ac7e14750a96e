// Text renderings of use-case results that surfaces print as they are (kept out of index.ts so that only the
// commands printing them load what they need).
export { findingLine } from '../policy/gate.js';
