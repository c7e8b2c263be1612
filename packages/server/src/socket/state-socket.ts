// One subscriber WebSocket: authenticates (upgrade header, or a first `auth` message
// within the timeout), joins the user's channel, says `ready`, then forwards every
// change and answers `save` / `patch-save` / `delete` (socket-requests.ts) with the same
// outcomes as HTTP; renews its token in-band, keeps a heartbeat and is closed when stalled.
import {
  type ClientMessage,
  CloseCode,
  clientMessageSchema,
  formatPath,
  type ServerMessage,
} from '@hyvve/schema';
import type { FastifyBaseLogger } from 'fastify';
import { WebSocket } from 'ws';
import type { Identity } from '../auth/token.js';
import type { ChannelEvent } from '../channel/channel-event.js';
import { AuthError, InvalidRequestError, type RateLimitedError, toApiError } from '../errors.js';
import { limitedBy } from '../rate-limit/user-limit.js';
import type { ChannelHead, StoreStatus, Subscription } from '../store/state-store.js';
import { changeSink } from './fan-out/change-sink.js';
import { type PatchContext, patchMessage } from './fan-out/patch-frame.js';
import { SocketOutbox } from './fan-out/socket-outbox.js';
import { idOf, textOf } from './message-text.js';
import { countLimited, socketSpender, spendRefused } from './socket-limits.js';
import { SocketMessageGate } from './socket-message-gate.js';
import { answerRequest, type RequestContext } from './socket-requests.js';
import { SocketTokenLifetime } from './socket-token-lifetime.js';
import { StallWatch } from './stall-watch.js';
import type { SocketOptions } from './state-socket-options.js';

export type StateSocketOptions = SocketOptions<StateSocket>;

/**
 * The socket's life, one phase at a time: `handshake` until a token is given; `joining`
 * while the channel is subscribed (changes, a counter reset and the epoch heard meanwhile
 * wait in the phase, for `ready`); `ready` once `ready` was sent (the revision it named:
 * changes are forwarded); `closed`.
 */
type SocketPhase =
  | { name: 'handshake' }
  | {
      name: 'joining';
      early: ChannelEvent[];
      /** A counter reset heard while joining: `ready` says this head instead of the subscription's. */
      reset: ChannelHead | undefined;
      /** The channel's epoch, learned while joining (the subscription still said ''). */
      epoch: string | undefined;
    }
  | { name: 'ready'; readyRevision: number }
  | { name: 'closed' };

export class StateSocket {
  /** Cleared by each heartbeat ping, set again by the pong. */
  alive = true;
  private identity: Promise<Identity> | undefined;
  /** The token the socket lives by, once verified (renewals replace it). */
  private readonly lifetime: SocketTokenLifetime;
  private readonly gate: SocketMessageGate;
  /** What the socket's requests run on: the service, metrics, the user's limit. */
  private readonly requests: RequestContext;
  private subscription: Subscription | undefined;
  /** Where the socket is in its life (see `SocketPhase`). */
  private phase: SocketPhase = { name: 'handshake' };
  /** Revision of the newest `saved` / `delete-ack` this socket answered with. */
  private answeredRevision = 0;
  /**
   * Store epoch the socket was told (by `ready`, or by an answer when `ready` said '');
   * repeated by the `ready` that answers a renewal.
   */
  private epoch: string | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  private logger: FastifyBaseLogger;
  /** Changes to this socket, latest wins (socket-outbox.ts). */
  private readonly outbox: SocketOutbox;
  /** Watches that the reader drains what it is sent (stall-watch.ts). */
  private readonly stall: StallWatch | undefined;
  /** Set on joining when the socket asked for patches: where a failed diff is reported. */
  private patchContext: PatchContext | undefined;

  constructor(
    readonly socket: WebSocket,
    private readonly options: StateSocketOptions,
  ) {
    this.logger = options.logger;
    this.outbox = new SocketOutbox(changeSink(socket), options.coalescer, (count) =>
      options.metrics.messagesConflated(count),
    );
    this.stall = StallWatch.of(socket);
    this.requests = {
      service: options.service,
      metrics: options.metrics,
      limited: limitedBy(options.limiter?.user),
    };
    this.lifetime = new SocketTokenLifetime(() => this.expire());
    this.gate = new SocketMessageGate({
      spend: socketSpender(options.limiter, options.service, options.ip),
      onLimited: (error: RateLimitedError, message) => {
        countLimited(options.metrics, message);
        this.sendError(error, idOf(message));
      },
      onFlood: () => {
        this.logger.warn('closing a WebSocket that keeps sending past its rate limit');
        this.options.metrics.socketDropped('flood');
        this.close(CloseCode.policyViolation, 'rate limit exceeded');
      },
      onError: (error) => {
        this.logger.error({ err: error }, 'handling a WebSocket message failed');
        this.close(CloseCode.internalError, 'internal error');
      },
    });
    socket.on('message', (data) => this.onMessage(textOf(data)));
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.onClose());
  }

  /** Starts authentication: with the upgrade's Authorization header, or by waiting for `auth`. */
  start(authorization: string | undefined): void {
    if (authorization !== undefined) {
      this.authenticate(this.options.verifier.verifyHeader(authorization));
      return;
    }
    this.authTimer = setTimeout(
      () => this.refuse(new AuthError('no auth message within the time allowed')),
      this.options.authTimeoutMs,
    );
  }

  /** Closes the socket with a code and reason (e.g. 1001 on shutdown). */
  close(code: number, reason: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.outbox.close();
    this.socket.close(code, reason);
    this.options.onCloseSent?.(code, reason);
  }

  /**
   * Closes the socket with 4408 when its reader has drained nothing for `timeoutMs`
   * (called by the plugin's sweep; `processStalled`: this process itself did not run for
   * a while, so the clock starts again). The close frame waits behind the unread output;
   * ws destroys the connection if the close handshake does not finish in 30 s.
   */
  closeIfStalled(timeoutMs: number, processStalled = false): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    const stalledFor = this.stall?.stalledFor(processStalled) ?? 0;
    if (stalledFor < timeoutMs) return false;
    this.logger.warn(
      { stalledForMs: stalledFor, bufferedAmount: this.socket.bufferedAmount },
      'closing a WebSocket whose reader drained nothing (stalled)',
    );
    this.options.metrics.socketDropped('stalled');
    this.close(CloseCode.stalled, 'stalled');
    return true;
  }

  /**
   * Heartbeat: terminates a socket that did not answer the previous ping. One with
   * output still waiting is left to the stall check: its pong may wait behind that
   * output, and a reader that still drains is slow, not gone.
   */
  heartbeat(): void {
    if (!this.alive && this.socket.bufferedAmount === 0) {
      this.logger.info('dropping a WebSocket that missed a heartbeat');
      this.options.metrics.socketDropped('heartbeat');
      this.socket.terminate();
      return;
    }
    this.alive = false;
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  private authenticate(verifying: Promise<Identity>): void {
    clearTimeout(this.authTimer);
    this.identity = verifying;
    if (this.phase.name === 'handshake') {
      this.phase = { name: 'joining', early: [], reset: undefined, epoch: undefined };
    }
    verifying
      .then(
        (identity) => this.join(identity),
        (error: unknown) => this.refuse(error),
      )
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'joining the channel failed');
        this.close(CloseCode.internalError, 'internal error');
      });
  }

  private refuse(error: unknown): void {
    const reason = error instanceof AuthError ? error.message : 'authentication failed';
    this.logger.info({ reason }, 'WebSocket authentication refused');
    this.close(CloseCode.unauthorized, reason.slice(0, 120));
  }

  private async join(identity: Identity): Promise<void> {
    this.lifetime.follow(identity);
    this.logger = this.logger.child({
      workspaceId: identity.workspaceId,
      userId: identity.userId,
    });
    let subscription: Subscription;
    try {
      subscription = await this.options.service.subscribeChannel(
        identity.scope,
        (event) => this.onEvent(event),
        (head) => this.onReset(head),
        (head) => this.onEpoch(head),
      );
    } catch (error) {
      this.sendError(error);
      this.close(CloseCode.tryAgainLater, 'state store unavailable');
      return;
    }
    if (this.phase.name !== 'joining') {
      await this.unsubscribe(subscription);
      return;
    }
    const joining = this.phase;
    this.subscription = subscription;
    if (this.options.patches) {
      this.patchContext = { logger: this.logger, channel: identity.scope.channel };
    }
    // After a reset heard while joining, the state of the new head follows `ready` (as it
    // does for a joined socket); otherwise only what is newer than the subscription.
    const reset = joining.reset;
    const head = reset ?? {
      revision: subscription.revision,
      // The early changes (sent next) belong to the epoch learned meanwhile, if any.
      epoch: subscription.epoch || (joining.epoch ?? ''),
    };
    const after = reset ? head.revision - 1 : head.revision;
    this.phase = { name: 'ready', readyRevision: head.revision };
    this.epoch = head.epoch;
    this.sendReady(head);
    this.logger.debug(head, 'WebSocket subscriber ready');
    if (this.options.storeStatus() === 'down') this.send({ type: 'status', store: 'down' });
    for (const event of joining.early) if (event.revision > after) this.forward(event);
  }

  /** `serverTime` lets a client with a clock ahead stamp its saves within the allowed skew. */
  private sendReady(head: ChannelHead): void {
    const serverTime = this.options.service.currentTime();
    this.send({ type: 'ready', revision: head.revision, epoch: head.epoch, serverTime });
  }

  /** Tells a joined socket that the store went down or came back (caught up). */
  storeStatus(status: StoreStatus): void {
    if (this.phase.name === 'ready') this.send({ type: 'status', store: status });
  }

  private onEvent(event: ChannelEvent): void {
    if (this.phase.name === 'joining') this.phase.early.push(event);
    else if (this.phase.name === 'ready') this.forward(event);
  }

  /**
   * The user's counter was reset (the store lost its data): what waits belongs to the
   * old store, and the client must start over, so it gets a new `ready` before the
   * current state (which follows as an ordinary change).
   */
  private onReset(head: ChannelHead): void {
    if (this.phase.name === 'joining') {
      this.phase = { name: 'joining', early: [], reset: head, epoch: undefined };
      return;
    }
    if (this.phase.name !== 'ready') return;
    this.outbox.reset();
    this.phase.readyRevision = head.revision;
    this.answeredRevision = 0;
    this.epoch = head.epoch;
    this.sendReady(head);
    this.logger.info(head, 'revision counter reset: WebSocket subscriber told to start over');
  }

  /**
   * The channel's epoch became known (its counter was created after this socket joined,
   * so `ready` said ''): a socket told '' gets `ready` again with the newest revision it
   * was told of and the epoch, which the client takes as the counter being created, not
   * a reset. One told the epoch by an answer (its own save) already knows it.
   */
  private onEpoch(head: ChannelHead): void {
    if (this.phase.name === 'joining') {
      this.phase.epoch = head.epoch;
      return;
    }
    if (this.phase.name !== 'ready') return;
    if (this.epoch !== '') return;
    this.epoch = head.epoch;
    this.sendReady({ revision: this.lastRevision(), epoch: head.epoch });
    this.logger.debug(head, 'store epoch learned: WebSocket subscriber told');
  }

  private onMessage(text: string): void {
    let decoded: unknown;
    let refused: InvalidRequestError | undefined;
    try {
      decoded = this.options.parseJson(text);
    } catch (error) {
      refused =
        error instanceof InvalidRequestError
          ? error
          : new InvalidRequestError('message is not valid JSON', { cause: error });
    }
    // Every message counts, invalid ones too: the user's limit once verified, else the IP's.
    this.gate.admit(this.lifetime.current, decoded, () => this.handle(decoded, refused));
  }

  private handle(decoded: unknown, refused: InvalidRequestError | undefined): void {
    const parsed = clientMessageSchema.safeParse(decoded);
    if (!this.identity) {
      if (parsed.success && parsed.data.type === 'auth') {
        this.authenticate(this.options.verifier.verify(parsed.data.token));
      } else {
        this.refuse(new AuthError('first message must be { type: "auth", token }'));
      }
    } else if (refused) {
      this.sendError(refused);
    } else if (!parsed.success) {
      spendRefused(this.options, this.lifetime.current, decoded);
      const issue = parsed.error.issues[0];
      const where = issue ? `${formatPath(issue.path)}: ${issue.message}` : 'unknown shape';
      this.sendError(new InvalidRequestError(`invalid message at ${where}`), idOf(decoded));
    } else if (parsed.data.type === 'auth') {
      this.renew(parsed.data.token);
    } else {
      this.dispatch(this.identity, parsed.data);
    }
  }

  private dispatch(
    identity: Promise<Identity>,
    message: Exclude<ClientMessage, { type: 'auth' }>,
  ): void {
    const operation = identity.then(
      (verified) => {
        if (this.lifetime.expired) {
          // Refused before the timer's close: the token's time is up even if the loop is late.
          this.sendError(new AuthError('token expired'), message.id);
          this.expire();
          return;
        }
        return answerRequest(this.requests, verified, message, {
          answer: (answer) => this.sendAnswer(answer),
          error: (error, id) => this.sendError(error, id),
        });
      },
      // Authentication failed: the socket is being closed with 4401 already.
      () => {},
    );
    this.options.track(operation);
  }

  /**
   * In-band renewal: same user and workspace → `ready` again, subscription kept. Messages
   * sent after it wait for it, so none runs under a token that is being replaced.
   */
  private renew(token: string): void {
    const previous = this.identity;
    if (previous === undefined) return;
    const renewed = Promise.all([previous, this.options.verifier.verify(token)]).then(
      ([, identity]) => {
        if (this.lifetime.renew(identity) === 'other-owner') {
          this.logger.warn('WebSocket renewal with a token for another user or workspace');
          this.close(CloseCode.forbidden, 'token is for another user or workspace');
          throw new AuthError('token is for another user or workspace');
        }
        this.sendReady({ revision: this.lastRevision(), epoch: this.epoch ?? '' });
        return identity;
      },
      (error: unknown) => {
        // The socket keeps its current token (and closes at its expiry).
        this.sendError(error instanceof AuthError ? error : new AuthError('renewal failed'));
        return previous;
      },
    );
    this.identity = renewed;
    // A refused renewal closes the socket; the messages waiting on it are dropped.
    this.options.track(
      renewed.then(
        () => {},
        () => {},
      ),
    );
  }

  /**
   * The newest revision this socket was told of (named by a `ready` sent now): changes
   * still waiting in the outbox reach the reader after that `ready`, so they do not count.
   */
  private lastRevision(): number {
    const readyRevision = this.phase.name === 'ready' ? this.phase.readyRevision : 0;
    return Math.max(readyRevision, this.outbox.handedRevision, this.answeredRevision);
  }

  private expire(): void {
    this.logger.info('WebSocket token expired');
    this.close(CloseCode.unauthorized, 'token expired');
  }

  private sendError(error: unknown, id?: string): void {
    const { status, body } = toApiError(error);
    if (status >= 500) {
      this.logger.warn({ status, code: body.error, err: error }, 'WebSocket request failed');
    }
    this.send({ type: 'error', ...(id === undefined ? {} : { id }), status, ...body });
  }

  /** A save's or delete's answer, which tells the client a revision and its epoch too. */
  private sendAnswer(message: Extract<ServerMessage, { type: 'saved' | 'delete-ack' }>): void {
    if (message.revision > this.answeredRevision) this.answeredRevision = message.revision;
    if (this.epoch === '' && message.epoch) this.epoch = message.epoch;
    this.send(message);
  }

  /** Answers and control messages: small, never replaced, written at once. */
  private send(message: ServerMessage): void {
    if (this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message), { binary: false });
    }
  }

  private forward(event: ChannelEvent): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    // The patch is built now (once per event per instance), while the event still knows its base.
    const patches = this.patchContext;
    this.outbox.offer(event, patches ? patchMessage(event, patches) : null);
    this.options.metrics.delivered();
  }

  private onClose(): void {
    if (this.phase.name === 'closed') return;
    this.phase = { name: 'closed' };
    this.outbox.close();
    clearTimeout(this.authTimer);
    this.lifetime.stop();
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription) void this.unsubscribe(subscription);
    this.options.onClosed(this);
  }

  private async unsubscribe(subscription: Subscription): Promise<void> {
    try {
      await subscription.unsubscribe();
    } catch (error) {
      this.logger.warn({ err: error }, 'leaving the channel failed');
    }
  }
}
