// Runs the store's Lua scripts on the command connection: EVALSHA on a scope's keys (EVAL
// when the node lacks the script), a resync's reads pipelined per node, and loading the
// scripts on the Redis or every primary. Failures become StoreUnavailableError.
import { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';
import { errorMessage, type Logger } from '../../logger.js';
import type { StateScope } from '../../scope.js';
import { groupByPrimary, primaries } from './cluster.js';
import type { RedisClient } from './connections.js';
import { EvalshaCommand, type WireArgument } from './evalsha-command.js';
import { IterationCork } from './iteration-cork.js';
import {
  DELETE_SCRIPT,
  type LuaScript,
  READ_SCRIPT,
  SAVE_SCRIPT,
  TAKE_TOKEN_SCRIPT,
} from './scripts.js';
import type { ThrottledLog } from './throttled-log.js';

type Pipeline = ReturnType<Redis['pipeline']>;

export class ScriptRunner {
  /** Scripts sent in one event-loop iteration leave in one write (iteration-cork.ts). */
  private readonly cork = new IterationCork();

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
    private readonly throttledLog: ThrottledLog,
  ) {}

  /** EVALSHA on the scope's keys; on NOSCRIPT, EVAL (which caches the script on that node). */
  run(script: LuaScript, scope: StateScope, args: WireArgument[]): Promise<unknown> {
    return this.runOn(script, this.keysOf(scope), args);
  }

  /** EVALSHA on `keys` (all of one slot); on NOSCRIPT, EVAL. */
  runOn(script: LuaScript, keys: string[], args: WireArgument[]): Promise<unknown> {
    const send = (command: EvalshaCommand): Promise<unknown> => {
      const redis = this.redis;
      // Only a connected socket is corked: before `ready`, ioredis refuses the command anyway.
      // A cluster client has no one socket (ioredis picks the node per command): not corked.
      if (redis instanceof Redis && redis.status === 'ready') this.cork.hold(redis.stream);
      redis.sendCommand(command);
      return command.promise;
    };
    return send(new EvalshaCommand(script.sha, keys, args))
      .catch((error: unknown) => {
        // The script cache is empty after a restart or on a promoted replica, until loaded
        // again. A SCRIPT LOAD through a cluster client would reach a random node, while
        // EVAL goes where the keys are, runs there and leaves the script cached.
        if (!errorMessage(error).startsWith('NOSCRIPT')) throw error;
        return send(new EvalshaCommand(script.source, keys, args, 'eval'));
      })
      .catch((error: unknown) => {
        throw this.unavailable('script', error);
      });
  }

  /** READ_SCRIPT replies of `scopes`, in their order: one pipeline per node. */
  async readStored(scopes: StateScope[]): Promise<unknown[]> {
    const redis = this.redis;
    if (!(redis instanceof Cluster)) {
      // A Redis that just came back has no scripts yet, and a pipeline cannot retry
      // NOSCRIPT per command: load it first (a no-op when it is there).
      await redis.script('LOAD', READ_SCRIPT.source);
      return this.pipelined(redis, (pipeline) => {
        for (const scope of scopes) {
          const keys = this.keysOf(scope);
          pipeline.evalsha(READ_SCRIPT.sha, keys.length, ...keys, 'full');
        }
        return pipeline;
      });
    }
    // A cluster pipeline reaches one node: group the reads by the primary owning each
    // user's slot. EVAL, not EVALSHA: a node that just failed over may lack the script,
    // and sending its source costs nothing next to a resync's round trip.
    const replies = new Map<StateScope, unknown>();
    const groups = groupByPrimary(redis, scopes, (scope) => scope.stateKey);
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const results = await this.pipelined(redis, (pipeline) => {
          for (const scope of group) {
            const keys = this.keysOf(scope);
            pipeline.eval(READ_SCRIPT.source, keys.length, ...keys, 'full');
          }
          return pipeline;
        });
        for (const [index, scope] of group.entries()) replies.set(scope, results[index]);
      }),
    );
    return scopes.map((scope) => replies.get(scope));
  }

  /** Loads the scripts on the Redis, or on every primary of a cluster (so EVALSHA finds them). */
  loadScripts(): void {
    const targets = this.redis instanceof Cluster ? primaries(this.redis) : [this.redis];
    for (const target of targets) {
      for (const script of [SAVE_SCRIPT, DELETE_SCRIPT, READ_SCRIPT, TAKE_TOKEN_SCRIPT]) {
        target.script('LOAD', script.source).catch((error: unknown) => {
          this.throttledLog.warn(
            `script-load:${target.options.host}:${target.options.port}`,
            { err: errorMessage(error) },
            'loading a Lua script failed',
          );
        });
      }
    }
  }

  /** Runs `run`, turning its failure into StoreUnavailableError (logged at debug). */
  async command<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.unavailable(operation, error);
    }
  }

  /**
   * The keys a script gets for `scope`: its tagged state, counter and user bucket, and on
   * one Redis also their untagged names of before, read when the tagged ones hold nothing (scope.ts).
   * A cluster gets none of those: they hash to other slots (CROSSSLOT), and no data can
   * be there, since the untagged save script was refused by every cluster.
   */
  private keysOf(scope: StateScope): string[] {
    const tagged = [scope.stateKey, scope.revisionKey, scope.userBucketKey];
    if (this.redis instanceof Cluster) return tagged;
    return [...tagged, scope.legacyStateKey, scope.legacyRevisionKey];
  }

  /** Runs a pipeline and returns its replies, throwing the first command error. */
  private async pipelined(
    client: RedisClient,
    build: (pipeline: Pipeline) => Pipeline,
  ): Promise<unknown[]> {
    const results = await build(client.pipeline()).exec();
    if (!results) throw new Error('pipeline was discarded');
    return results.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
  }

  private unavailable(operation: string, error: unknown): StoreUnavailableError {
    this.logger.debug({ operation, err: errorMessage(error) }, 'redis command failed');
    return new StoreUnavailableError(undefined, { cause: error });
  }
}
