// Questions the server asks its configuration: which project a repository is (only configured repositories are
// ever built), whether a ref is built, the priority class of a branch and whether a newer push supersedes.
import { isValidRef } from '../core/git-ref.js';
import { globMatches } from '../core/glob.js';
import type { ServerConfig, ServerProject } from './server-config.js';
import { normalRepository } from './server-urls.js';

/** Every project built from the repository at `url` (a monorepo may have several), in file order. */
export function projectsForRepository(config: ServerConfig, url: string): readonly ServerProject[] {
  const key = normalRepository(url);
  return key === undefined ? [] : config.projects.filter((p) => p.repositoryKey === key);
}

/** The first project built from the repository at `url`, or undefined: a repository not configured is never built. */
export function projectForRepository(config: ServerConfig, url: string): ServerProject | undefined {
  return projectsForRepository(config, url)[0];
}

/**
 * Whether a push to `ref` (`refs/heads/…` or `refs/tags/…`) is built for a project with these filters: a branch by its
 * branch globs, a tag by its tag globs; any other ref, or one git would refuse, never.
 */
export function buildsRef(filters: Pick<ServerProject, 'branches' | 'tags'>, ref: string): boolean {
  if (!isValidRef(ref)) return false;
  if (ref.startsWith('refs/heads/')) return filters.branches.some((g) => globMatches(g, ref.slice(11)));
  if (ref.startsWith('refs/tags/')) return filters.tags.some((g) => globMatches(g, ref.slice(10)));
  return false;
}

/** The priority class of a build of `branch`: the first matching rule's (the last rule matches every branch). */
export function priorityClassOf(project: ServerProject, branch: string): string {
  return project.priority.find((r) => r.branches.some((g) => globMatches(g, branch)))?.class ?? 'normal';
}

/**
 * Whether a newer push to `branch` cancels its queued older build: when the project allows it and the branch's
 * class ranks no higher than the default class (so never for critical or high branches).
 */
export function supersedes(config: ServerConfig, project: ServerProject, branch: string): boolean {
  const rank = config.classes.indexOf(priorityClassOf(project, branch));
  return project.supersede && rank >= config.classes.indexOf(config.defaultClass);
}
