// The patch a saver publishes with its state: what it diffs, when it publishes nothing,
// and how a receiver reads one (or refuses it) before its state arrives.
import { applyStatePatch } from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  createChannelEvent,
  deletedMessageText,
  stateMessageText,
} from '../src/channel/channel-event.js';
import {
  channelPatch,
  isPublishedPatch,
  PUBLISHED_PATCH_PREFIX,
  parsePublishedPatch,
  publishedPatchTail,
} from '../src/channel/channel-patch.js';

const T0 = 1_700_000_000_000;

function stateEvent(revision: number, state: object) {
  const json = JSON.stringify(state);
  return createChannelEvent('state', revision, stateMessageText(json, revision, T0, 'test'));
}

function saved(state: object, origin = 'http') {
  return { state, stateJson: JSON.stringify(state), savedAt: T0 + 5, origin };
}

/** The message the save script publishes for `tail` at `revision`. */
const published = (revision: number, tail: string) =>
  Buffer.from(`${PUBLISHED_PATCH_PREFIX}${revision}${tail}`);

describe('publishedPatchTail', () => {
  it('diffs the new state against the base into a patch message a receiver reads back', () => {
    const before = makeState({ timestamp: T0, alerts: 4 });
    const after = structuredClone(before);
    after.activeProject = 'proj-other';
    const tail = publishedPatchTail(stateEvent(7, before), saved(after, 'tab "2"'));
    const raw = published(9, tail);
    expect(isPublishedPatch(raw)).toBe(true);
    const parts = parsePublishedPatch(raw);
    expect(parts).toMatchObject({
      revision: 9,
      baseRevision: 7,
      savedAt: T0 + 5,
      origin: 'tab "2"',
    });
    expect(applyStatePatch(before, JSON.parse(parts?.operations ?? 'null'))).toEqual(after);
  });

  it('publishes nothing for a patch over half the state, or a base that is not a state', () => {
    const before = makeState({ timestamp: T0, alerts: 2 });
    const rewritten = makeState({ timestamp: T0 + 1, alerts: 30, activities: 30 });
    expect(publishedPatchTail(stateEvent(1, before), saved(rewritten))).toBe('');
    const deleted = createChannelEvent('deleted', 2, '{"type":"deleted","revision":2}');
    expect(publishedPatchTail(deleted, saved(before))).toBe('');
  });
});

describe('a received published patch', () => {
  it('is told from state and deleted messages by its first bytes', () => {
    expect(isPublishedPatch(Buffer.from(stateMessageText('{}', 1, T0, 'x')))).toBe(false);
    expect(isPublishedPatch(Buffer.from('{"type":"deleted","revision":2}'))).toBe(false);
    expect(isPublishedPatch(Buffer.from(PUBLISHED_PATCH_PREFIX))).toBe(false);
  });

  it.each([
    ['not JSON', '{"type":"patch","revision":3,'],
    ['no fields but its type and revision', '{"type":"patch","revision":3}'],
    [
      'a base that is not below the revision',
      '{"type":"patch","revision":3,"baseRevision":3,"savedAt":1,"origin":"o","patch":[]}',
    ],
    [
      'a revision that is not an integer',
      '{"type":"patch","revision":3.5,"baseRevision":1,"savedAt":1,"origin":"o","patch":[]}',
    ],
    ['no savedAt', '{"type":"patch","revision":3,"baseRevision":1,"origin":"o","patch":[]}'],
    [
      'an origin that is not a string',
      '{"type":"patch","revision":3,"baseRevision":1,"savedAt":1,"origin":2,"patch":[]}',
    ],
    [
      'operations that are not a list',
      '{"type":"patch","revision":3,"baseRevision":1,"savedAt":1,"origin":"o","patch":{}}',
    ],
  ])('is refused when it has %s', (_name, text) => {
    expect(parsePublishedPatch(Buffer.from(text))).toBeNull();
  });

  it('is what channelPatch gives when it starts at the base, and ignored when it does not', () => {
    const before = makeState({ timestamp: T0 });
    const after = structuredClone(before);
    after.activeProject = 'proj-next';
    const marker = {
      revision: 5,
      baseRevision: 4,
      savedAt: T0,
      origin: 'saver',
      operations: '[{"op":"replace","path":"/activeProject","value":"marker"}]',
    };
    const event = stateEvent(5, after);
    event.base = stateEvent(4, before);
    event.publishedPatch = marker;
    expect(channelPatch(event)).toBe(marker);
    const other = stateEvent(5, after);
    other.base = stateEvent(3, before);
    other.publishedPatch = marker;
    const own = channelPatch(other);
    expect(own).toMatchObject({ revision: 5, baseRevision: 3 });
    expect(applyStatePatch(before, JSON.parse(own?.operations ?? 'null'))).toEqual(after);
  });

  it('is null without a state base, across a delete, and when the patch would not pay', () => {
    const before = makeState({ timestamp: T0, alerts: 3 });
    const small = structuredClone(before);
    small.activeProject = 'proj-next';
    expect(channelPatch(stateEvent(5, small))).toBeNull();

    const deleted = (revision: number) =>
      createChannelEvent('deleted', revision, deletedMessageText(revision, 'test'));
    const afterDelete = stateEvent(6, small);
    afterDelete.base = deleted(5);
    expect(channelPatch(afterDelete)).toBeNull();
    const deleting = deleted(6);
    deleting.base = stateEvent(5, before);
    expect(channelPatch(deleting)).toBeNull();

    // Every alert replaced: the patch is most of the message.
    const rewritten = makeState({ timestamp: T0 + 1, alerts: 3 });
    for (const alert of rewritten.widgets.alerts) alert.title = `${alert.title} rewritten`;
    rewritten.activeProject = 'x'.repeat(2000);
    const large = stateEvent(6, rewritten);
    large.base = stateEvent(5, before);
    expect(channelPatch(large)).toBeNull();
    const patched = stateEvent(6, small);
    patched.base = stateEvent(5, before);
    expect(channelPatch(patched)).toMatchObject({ revision: 6, baseRevision: 5 });
  });

  it.each(['null', '5', '"patch"', 'true'])('refuses JSON %s that is not an object', (text) => {
    expect(parsePublishedPatch(Buffer.from(text))).toBeNull();
  });
});
