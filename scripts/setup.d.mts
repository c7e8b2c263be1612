// Types of setup.mjs (plain JavaScript so it runs before any install).
export declare const repositoryRoot: string;
export declare class SetupError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode?: number);
}
export declare function dependenciesOutdated(root: string): string | null;
export declare function ensureDependencies(root?: string): boolean;
export declare function staleBuilds(root?: string): { name: string; output: string }[];
export declare function ensureBuilds(root?: string): boolean;
export declare function ensureTestPrerequisites(
  root?: string,
  env?: Record<string, string | undefined>,
): { redisServer: string; chromium: string };
export declare const REDIS_INSTALL_HINT: string;
export declare function ensureRedisServer(
  root?: string,
  env?: Record<string, string | undefined>,
): { path: string } | { path: null; reason: string };
