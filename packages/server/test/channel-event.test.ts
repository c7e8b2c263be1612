// Channel messages are built once as text and parsed without decoding the state when
// they are ours; foreign ones are checked against the schema.
import { describe, expect, it } from 'vitest';
import {
  deletedMessageText,
  parseChannelEvent,
  parseChannelEventBytes,
  stateMessageText,
} from '../src/channel/channel-event.js';

describe('channel messages', () => {
  it('builds a state message that is valid JSON with the state spliced in', () => {
    const text = stateMessageText('{"version":1}', 4, 99, 'tab "1"');
    expect(JSON.parse(text)).toEqual({
      type: 'state',
      revision: 4,
      savedAt: 99,
      origin: 'tab "1"',
      state: { version: 1 },
    });
  });

  it('builds deleted messages with and without origin', () => {
    expect(JSON.parse(deletedMessageText(3))).toEqual({ type: 'deleted', revision: 3 });
    expect(JSON.parse(deletedMessageText(3, 'cli'))).toEqual({
      type: 'deleted',
      revision: 3,
      origin: 'cli',
    });
  });

  it('reads type and revision of our own messages from their prefix', () => {
    const event = parseChannelEvent(stateMessageText('{"version":1}', 12, 5, 'x'));
    expect(event?.type).toBe('state');
    expect(event?.revision).toBe(12);
    expect(event?.message()).toBe(event?.message());
  });

  it('accepts a foreign message with the documented fields in any order', () => {
    const event = parseChannelEvent(
      JSON.stringify({ origin: 'agent', savedAt: 1, revision: 8, state: {}, type: 'state' }),
    );
    expect(event?.revision).toBe(8);
    expect(event?.type).toBe('state');
  });

  it('rejects text that is not a channel message', () => {
    expect(parseChannelEvent('nope')).toBeNull();
    expect(parseChannelEvent('{"type":"state"}')).toBeNull();
    expect(parseChannelEvent('{"type":"deleted","revision":-1}')).toBeNull();
  });

  it('reads our own message from its bytes without decoding them, and decodes on demand', () => {
    const text = stateMessageText('{"version":1,"title":"Ünïcode ✓"}', 12, 5, 'x');
    const bytes = Buffer.from(text, 'utf8');
    const event = parseChannelEventBytes(bytes);
    expect(event?.type).toBe('state');
    expect(event?.revision).toBe(12);
    expect(event?.bytes()).toBe(bytes);
    expect(event?.raw).toBe(text);
    expect(event?.message()).toEqual(JSON.parse(text));
  });

  it('reads a deleted message from its bytes', () => {
    const event = parseChannelEventBytes(Buffer.from(deletedMessageText(7, 'cli')));
    expect(event?.type).toBe('deleted');
    expect(event?.revision).toBe(7);
  });

  it('checks foreign bytes with the schema, as it does text', () => {
    const foreign = Buffer.from(
      JSON.stringify({ origin: 'agent', savedAt: 1, revision: 8, state: {}, type: 'state' }),
    );
    const event = parseChannelEventBytes(foreign);
    expect(event?.revision).toBe(8);
    expect(event?.bytes()).toBe(foreign);
    expect(parseChannelEventBytes(Buffer.from('nope'))).toBeNull();
    expect(parseChannelEventBytes(Buffer.from('{"type":"state"}'))).toBeNull();
    expect(parseChannelEventBytes(Buffer.from('{"type":"deleted","revision":-1}'))).toBeNull();
  });

  it('reads the largest revision from the prefix of the bytes', () => {
    const revision = Number.MAX_SAFE_INTEGER;
    const event = parseChannelEventBytes(Buffer.from(deletedMessageText(revision)));
    expect(event?.revision).toBe(revision);
  });

  it('encodes a text event to bytes once', () => {
    const event = parseChannelEvent(deletedMessageText(2));
    expect(event?.bytes()).toBe(event?.bytes());
    expect(event?.bytes().toString('utf8')).toBe(event?.raw);
  });
});
