// Types of start-store.mjs (plain JavaScript so it runs before any install).
type Environment = Record<string, string | undefined>;
export declare class StartStoreError extends Error {}
export declare function chooseStore(
  env: Environment,
): { kind: 'external' } | { kind: 'memory' } | { kind: 'embedded'; required: boolean };
export declare function redisDataDir(root: string, env: Environment): string;
