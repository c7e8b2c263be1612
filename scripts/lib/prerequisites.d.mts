// Types of prerequisites.mjs (plain JavaScript so it runs before any install).
export declare const CHROMIUM_NAMES: readonly string[];
export declare const MACOS_BROWSER_PATHS: readonly string[];

type Environment = Record<string, string | undefined>;

export interface ResolvedChromium {
  path: string | null;
  source: 'CHROMIUM_PATH' | 'PATH' | 'macOS' | null;
  error?: string;
}

export interface MissingPrerequisite {
  name: 'redis-server' | 'redis-cli' | 'chromium';
  /** The Debian package that provides it; null when it is a setting to fix. */
  debianPackage: string | null;
  reason?: string;
  debian: string;
  macos: string;
}

export declare function findOnPath(name: string, pathVariable: string | undefined): string | null;
export declare function resolveChromium(env?: Environment, platform?: string): ResolvedChromium;
export declare function checkPrerequisites(
  env?: Environment,
  platform?: string,
): {
  redisServer: string | null;
  redisCli: string | null;
  chromium: string | null;
  missing: MissingPrerequisite[];
};
export declare function canInstallWithApt(env?: Environment, platform?: string): boolean;
export declare function describeMissing(missing: readonly MissingPrerequisite[]): string;
