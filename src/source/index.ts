// Source: resolve the exact commit and make a clean copy of it.
export { materialize, redactUrl, resolveSource, type SourceRef } from './checkout.js';
export { type GitEnv, git } from './git.js';
