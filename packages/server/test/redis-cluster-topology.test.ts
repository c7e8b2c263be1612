// The slot-map fingerprint the store compares after every refresh to notice a failover or
// a migrated slot, and the store's refusal of an ambiguous configuration.
import { describe, expect, it } from 'vitest';
import { OptionError, RedisStateStore } from '../src/index.js';
import { primaryFingerprint } from '../src/store/redis/cluster.js';

function slotMap(owners: Array<[number, number, string]>): string[][] {
  const slots: string[][] = [];
  for (const [from, to, node] of owners) {
    for (let slot = from; slot <= to; slot += 1) slots[slot] = [node, `${node}-replica`];
  }
  return slots;
}

describe('primaryFingerprint', () => {
  it('lists the primaries of slot ranges, ignoring replicas', () => {
    const slots = slotMap([
      [0, 5460, 'a:1'],
      [5461, 10922, 'b:1'],
      [10923, 16383, 'c:1'],
    ]);
    expect(primaryFingerprint(slots)).toBe('0-5460=a:1,5461-10922=b:1,10923-16383=c:1');
    const replicasSwapped = slots.map((nodes) => [nodes[0] ?? '', 'other-replica']);
    expect(primaryFingerprint(replicasSwapped)).toBe(primaryFingerprint(slots));
  });

  it('changes when one slot moves or a primary fails over, and shows unassigned slots', () => {
    const before = slotMap([
      [0, 9, 'a:1'],
      [10, 19, 'b:1'],
    ]);
    const migrated = slotMap([
      [0, 8, 'a:1'],
      [9, 19, 'b:1'],
    ]);
    const failedOver = slotMap([
      [0, 9, 'a:2'],
      [10, 19, 'b:1'],
    ]);
    const fingerprint = primaryFingerprint(before);
    expect(primaryFingerprint(migrated)).not.toBe(fingerprint);
    expect(primaryFingerprint(failedOver)).not.toBe(fingerprint);
    const gap = slotMap([[2, 3, 'a:1']]);
    expect(primaryFingerprint(gap)).toBe('0-1=none,2-3=a:1');
    expect(primaryFingerprint([])).toBe('');
  });
});

describe('RedisStateStore options', () => {
  it('needs exactly one of redisUrl and cluster, and names the option', () => {
    expect(() => new RedisStateStore({})).toThrow(
      new OptionError(
        'redisUrl',
        'or `cluster` is required: RedisStateStore needs either `redisUrl` (one Redis) or `cluster`',
      ),
    );
    expect(
      () =>
        new RedisStateStore({
          redisUrl: 'redis://127.0.0.1:1',
          cluster: { nodes: [{ host: '127.0.0.1', port: 1 }] },
        }),
    ).toThrow(OptionError);
  });
});
