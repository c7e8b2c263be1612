/** Version of the persisted `DashboardState` shape. Bump it with a migration. */
export const STATE_VERSION = 1;
/** Largest accepted state, in UTF-8 bytes of its JSON. */
export const MAX_STATE_SIZE_BYTES = 1_048_576;
/** Server-side time to live of a stored state. */
export const STATE_TTL_SECONDS = 86_400;
/** Browser-side age after which a persisted state is stale and discarded. */
export const STATE_TTL_MS = STATE_TTL_SECONDS * 1000;
/** Browser localStorage save debounce. */
export const PERSISTENCE_DEBOUNCE_MS = 1000;
/**
 * Saves sent from a browser to the server (the client's `saveThrottleMs`): a change after a
 * quiet period of this length at once; within a burst, saves at least this far apart, the
 * burst's changes held until it pauses this long (or for at most 1 s), ending with the last state.
 */
export const SERVER_SAVE_DEBOUNCE_MS = 100;
/** At most this many activities are kept. */
export const MAX_ACTIVITIES = 100;
/** At most this many alerts are kept. */
export const MAX_ALERTS = 50;
/** localStorage key of the persisted envelope. */
export const STORAGE_KEY = 'hyvve-dashboard-state';
/** BroadcastChannel name for cross-tab sync. */
export const BROADCAST_CHANNEL_NAME = 'hyvve-dashboard-state-sync';
/** Workspace and user ids: checked before any key or channel name is built. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** How far ahead of the server's clock a saved `state.timestamp` may be (5 min). */
export const MAX_CLOCK_SKEW_MS = 300_000;
/** Longest JSON Pointer accepted in an operation of a patch sent to subscribers. */
export const MAX_PATCH_POINTER_LENGTH = 1024;
