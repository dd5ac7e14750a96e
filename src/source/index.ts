// Source: resolve the exact commit, read files as committed, check the working tree, make a clean copy.
export {
  checkWorkingTree,
  locateProject,
  materialize,
  type ProjectCommit,
  readAtCommit,
  redactUrl,
  repositoryUrl,
  type SourceRef,
} from './checkout.js';
export {
  blobDigests,
  blobReader,
  type CommitFile,
  type CommitListing,
  listCommitFiles,
  readBlobs,
} from './commit-files.js';
export { type GitEnv, git } from './git.js';
export { fetchRemoteCommit, listRemoteRef, type MirrorOptions, type RemoteSource } from './mirror.js';
export { type GitCredentials, parseRemoteUrl } from './remote-url.js';
