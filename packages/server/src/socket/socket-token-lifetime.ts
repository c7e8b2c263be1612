// A socket lives as long as its token: at `exp` it is closed (4401) unless the client
// renewed in-band with a token for the same user and workspace. Timers fire late on a
// busy loop, so `expired` is also checked before each save or delete.
import type { Identity } from '../auth/token.js';

/** setTimeout's longest delay; longer lifetimes re-arm. */
const MAX_TIMER_MS = 2_147_483_647;

export type RenewalOutcome = 'renewed' | 'other-owner';

export class SocketTokenLifetime {
  private identity: Identity | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Called once the followed token's `exp` has passed. */
    private readonly onExpired: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The token the socket lives by now. */
  get current(): Identity | undefined {
    return this.identity;
  }

  /** True once the followed token's `exp` has passed (false before any token). */
  get expired(): boolean {
    return this.identity !== undefined && this.identity.expiresAt <= this.now();
  }

  /** Starts following the socket's first token. */
  follow(identity: Identity): void {
    this.identity = identity;
    this.arm();
  }

  /** A renewal: the same user and workspace extend the socket's life; anyone else does not. */
  renew(identity: Identity): RenewalOutcome {
    const current = this.identity;
    if (
      current !== undefined &&
      (current.workspaceId !== identity.workspaceId || current.userId !== identity.userId)
    ) {
      return 'other-owner';
    }
    this.follow(identity);
    return 'renewed';
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const identity = this.identity;
    if (identity === undefined || !Number.isFinite(identity.expiresAt)) return;
    const left = identity.expiresAt - this.now();
    if (left <= 0) {
      this.timer = undefined;
      this.onExpired();
      return;
    }
    this.timer = setTimeout(() => this.arm(), Math.min(left, MAX_TIMER_MS));
    this.timer.unref();
  }
}
