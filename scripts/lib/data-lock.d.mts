// Types of data-lock.mjs (plain JavaScript so it runs before any install).
export declare const LOCK_FILE: string;
export declare const REDIS_PID_FILE: string;
export declare class DataLockedError extends Error {}
export declare function isLiveProcess(pid: number, marker: string): boolean;
export declare function acquireDataLock(dir: string): () => void;
