// Step runners (host and bubblewrap) and the builder digest that identifies the toolchain they run.
export type { BuilderTool, HostBuilder, ToolFacts, ToolMemo } from './builder.js';
export { hostBuilderDigest } from './builder.js';
export {
  type BubblewrapOptions,
  bubblewrapRunner,
  DEFAULT_BWRAP,
  isBubblewrapAvailable,
  probeBubblewrap,
} from './bwrap.js';
export { SANDBOX_HOME, SANDBOX_PATH, SANDBOX_WORKDIR } from './bwrap-args.js';
export { hostRunner } from './host.js';
export { DEFAULT_TOOLCHAIN } from './layout.js';
export { type RootfsBuilder, rootfsBuilderDigest } from './rootfs-digest.js';
export type { LimitHit, StepInvocation, StepLimits, StepOutcome, StepRunner } from './runner.js';
export { loadToolMemo } from './tool-memo.js';
