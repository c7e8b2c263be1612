// What a Redis Cluster client signals that the store acts on: one node's errors (logged
// sparingly), a changed set of primaries (load the scripts there), and on the sharded
// subscriber a changed topology (re-subscribe and catch up, catch-up.ts).
import type { Cluster } from 'ioredis';
import { errorMessage } from '../../logger.js';
import { primaryFingerprint } from './cluster.js';
import type { ThrottledLog } from './throttled-log.js';

export interface ClusterSignalHandlers {
  throttledLog: ThrottledLog;
  loadScripts(): void;
  onTopologyChange(reason: string): void;
}

/** Each retry against a node that is down reports again: one line per node per interval. */
function logNodeErrors(cluster: Cluster, role: string, throttledLog: ThrottledLog): void {
  cluster.on('node error', (error: Error, node: string) => {
    throttledLog.warn(
      `${role}:${node}`,
      { role, node, err: errorMessage(error) },
      'redis cluster node error',
    );
  });
}

export function watchCommandCluster(cluster: Cluster, handlers: ClusterSignalHandlers): void {
  logNodeErrors(cluster, 'command', handlers.throttledLog);
  // A promoted replica or a new primary lacks the scripts until loaded (EVAL covers it
  // meanwhile); loading them at once spares the first saves the fallback.
  // Before `ready` the first map is still being applied (connections are swapped), and
  // `ready` loads them anyway.
  let seen = '';
  cluster.on('refresh', () => {
    const now = primaryFingerprint(cluster.slots);
    if (now === seen) return;
    seen = now;
    if (cluster.status === 'ready') handlers.loadScripts();
  });
}

/** (Only the sharded subscriber is a cluster client.) */
export function watchSubscriberCluster(cluster: Cluster, handlers: ClusterSignalHandlers): void {
  logNodeErrors(cluster, 'subscriber', handlers.throttledLog);
  /** Slot map last seen, to notice topology changes. */
  let topology = '';
  cluster.on('refresh', () => {
    const now = primaryFingerprint(cluster.slots);
    if (now === topology) return;
    const first = topology === '';
    topology = now;
    if (!first) handlers.onTopologyChange('slot map changed');
  });
  // ioredis replaced subscriber connections (failover, restart, migrated slot) and
  // re-subscribed without telling when that is done, or a shard's subscriber connection ended.
  cluster.on('subscribersReady', () => handlers.onTopologyChange('sharded subscribers replaced'));
  cluster.on('-node', () => handlers.onTopologyChange('a node left'));
}
