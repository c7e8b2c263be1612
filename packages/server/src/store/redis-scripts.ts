// Lua run atomically by Redis. A state's Redis value is the `state` message published
// for its revision (store/stored-message.ts), built once by the server with the revision
// it expects and sent once: when the expectation holds (it nearly always does: the server
// remembers each channel's revision and If-Match states it), Redis stores and publishes
// that very string, so a save costs Redis what a bare SET + PUBLISH costs. Only a wrong
// guess makes the script splice the real revision in (one copy of the state).
import { createHash } from 'node:crypto';

export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// Revision and timestamp from the head of a stored message (STORED_HEAD_BYTES of it).
const READ_HEAD = `
local function readHead(key)
  local head = redis.pcall('GETRANGE', key, 0, 255)
  if type(head) == 'table' then
    -- WRONGTYPE: a hash written before values became messages (fields state revision savedAt timestamp version origin).
    local fields = redis.call('HMGET', key, 'revision', 'timestamp')
    return 'legacy', tonumber(fields[1]), tonumber(fields[2])
  end
  if head == '' then return 'none' end
  local revision, timestamp = string.match(head, '^{"type":"state","revision":(%d+),"savedAt":[^,]+,"timestamp":([^,]+),')
  if not revision then return 'unreadable' end
  return 'message', tonumber(revision), tonumber(timestamp)
end
`;

// The revision counter key holds '<revision>:<epoch>' (a bare '<revision>' was written
// before epochs: its epoch is ''). The epoch is Redis TIME when the key is created, so a
// counter lost with Redis's data comes back under another epoch. Every save and delete
// rewrites it with twice the state's TTL: revisions keep growing across delete and expiry.
const COUNTER = `
local function readCounter(key)
  local value = redis.call('GET', key)
  if not value then return 0, '' end
  local revision, epoch = string.match(value, '^(%d+):(.+)$')
  if revision then return tonumber(revision), epoch end
  return tonumber(value) or 0, ''
end
local function writeCounter(key, revision, epoch, ttl)
  if epoch == '' then
    local now = redis.call('TIME')
    epoch = now[1] .. string.format('%06d', tonumber(now[2]))
  end
  redis.call('SET', key, revision .. ':' .. epoch, 'EX', tonumber(ttl) * 2)
  return epoch
end
`;

/**
 * KEYS: 1 state key, 2 revision counter.
 * ARGV: 1 the message to store and publish, made with revision ARGV[2];
 *       2 the expected new revision; 3 1-based offset of ARGV[1]'s text after its revision;
 *       4 state timestamp; 5 TTL seconds; 6 If-Match revision or ''; 7 channel;
 *       8 '1' to skip the newer-wins check (replacing an unreadable state), else '';
 *       9 If-Match epoch or '' (with 6: the counter's epoch must be this one too).
 * Returns {'saved', revision, replaced, epoch} (replaced = 1 when an unreadable value was
 *         overwritten) | {'stale', current revision, epoch}
 *       | {'conflict', stored message} | {'conflict-legacy', state, revision, savedAt, version, origin}
 *         (the stored, newer state).
 * The current revision is the higher of the counter and the stored state's (a state
 * written before the counter was bumped by every save has none).
 */
export const SAVE_SCRIPT = lua(`${READ_HEAD}${COUNTER}
local kind, stored, storedTimestamp = readHead(KEYS[1])
local current, epoch = readCounter(KEYS[2])
if stored and stored > current then current = stored end
if ARGV[6] ~= '' and (tonumber(ARGV[6]) ~= current or (ARGV[9] ~= '' and ARGV[9] ~= epoch)) then
  return {'stale', current, epoch}
end
if storedTimestamp and ARGV[8] ~= '1' and tonumber(ARGV[4]) < storedTimestamp then
  if kind == 'legacy' then
    local w = redis.call('HMGET', KEYS[1], 'state', 'revision', 'savedAt', 'version', 'origin')
    return {'conflict-legacy', w[1], w[2], w[3], w[4], w[5]}
  end
  return {'conflict', redis.call('GET', KEYS[1])}
end
local revision = current + 1
local message = ARGV[1]
if revision ~= tonumber(ARGV[2]) then
  message = '{"type":"state","revision":' .. revision .. string.sub(ARGV[1], tonumber(ARGV[3]))
end
redis.call('SET', KEYS[1], message, 'EX', ARGV[5])
epoch = writeCounter(KEYS[2], revision, epoch, ARGV[5])
redis.call('PUBLISH', ARGV[7], message)
return {'saved', revision, kind == 'unreadable' and 1 or 0, epoch}
`);

/**
 * KEYS: 1 state key, 2 revision counter.
 * ARGV: 1 TTL seconds, 2 channel, 3 ',"origin":"<json>"' or ''.
 * Returns {1, new revision, epoch} after a delete, {0, current revision, epoch} when
 * nothing was stored.
 */
export const DELETE_SCRIPT = lua(`${READ_HEAD}${COUNTER}
local current, epoch = readCounter(KEYS[2])
local kind, storedRevision = readHead(KEYS[1])
if kind == 'none' then return {0, current, epoch} end
if storedRevision and storedRevision > current then current = storedRevision end
local revision = current + 1
redis.call('DEL', KEYS[1])
epoch = writeCounter(KEYS[2], revision, epoch, ARGV[1])
redis.call('PUBLISH', ARGV[2], '{"type":"deleted","revision":' .. revision .. ARGV[3] .. '}')
return {1, revision, epoch}
`);

/**
 * KEYS: 1 state key, 2 revision counter. ARGV: 1 'full' (the stored value) or 'head'
 * (only its first bytes, for the revision).
 * Returns {'message', text, counter} | {'legacy', state, revision, savedAt, version, origin, counter}
 *       | {'none', counter}; counter as stored ('<revision>:<epoch>', a bare revision, or nil).
 */
export const READ_SCRIPT = lua(`
local counter = redis.call('GET', KEYS[2])
local value
if ARGV[1] == 'head' then value = redis.pcall('GETRANGE', KEYS[1], 0, 255)
else value = redis.pcall('GET', KEYS[1]) end
if type(value) == 'table' then
  local f = redis.call('HMGET', KEYS[1], 'state', 'revision', 'savedAt', 'version', 'origin')
  return {'legacy', f[1], f[2], f[3], f[4], f[5], counter}
end
if not value or value == '' then return {'none', counter} end
return {'message', value, counter}
`);
