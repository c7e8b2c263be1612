// Lua run atomically by Redis. A state's Redis value is the `state` message published
// for its revision (store/redis/stored-message.ts), built once by the server with the revision
// it expects and sent once: when the expectation holds (it nearly always does: the server
// remembers each channel's revision and If-Match states it), Redis stores and publishes
// that very string, so a save costs Redis what a bare SET + PUBLISH costs. Only a wrong
// guess makes the script splice the real revision in (one copy of the state).
import { createHash } from 'node:crypto';
import { BUCKET_LUA, TAKE_TOKEN_LUA } from '../../rate-limit/bucket-lua.js';

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
// readCounter gives nil for a missing key, so a script can tell "no counter" from 0.
const COUNTER = `
local function readCounter(key)
  local value = redis.call('GET', key)
  if not value then return nil, '' end
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

// The user's limit, spent first, in the same call as the operation (one command per
// request): KEYS[3] is the user's bucket (same hash tag, so the same slot); the rate and
// burst are the last two ARGV ('' when limits are off). A refused call changes nothing else.
const LIMIT = `${BUCKET_LUA}
local function spendLimit(rate, burst)
  if rate == nil or rate == '' then return 0 end
  return takeToken(KEYS[3], tonumber(rate), tonumber(burst), redisNow())
end
`;

/**
 * KEYS: 1 state key, 2 revision counter, 3 the user's rate-limit bucket; on one Redis also 4 and 5, the same two under
 *       their untagged names of before (scope.ts), read when 1 and 2 hold nothing. On a
 *       cluster they hash to other slots, so they are not passed there (see LEGACY below).
 * ARGV: 1 the message to store and publish, made with revision ARGV[2];
 *       2 the expected new revision; 3 1-based offset of ARGV[1]'s text after its revision;
 *       4 state timestamp; 5 TTL seconds; 6 If-Match revision or ''; 7 channel;
 *       8 '1' to skip the newer-wins check (replacing an unreadable state), else '';
 *       9 If-Match epoch or '' (with 6: the counter's epoch must be this one too);
 *       10 the publish command: 'PUBLISH', or 'SPUBLISH' (sharded pub/sub on a cluster);
 *       11 '' or the tail of the `patch` message the saver computed (channel-patch.ts,
 *          `publishedPatchTail`): published just before the state, with the revision the
 *          script gives it, so subscribers with that base need not diff it themselves;
 *       12, 13 the user's limit: rate per second and burst, or '' (no limit).
 * Returns {'limited', ms to wait} (nothing else done) | {'saved', revision, replaced, epoch} (replaced = 1 when an unreadable value was
 *         overwritten) | {'stale', current revision, epoch}
 *       | {'conflict', stored message} | {'conflict-legacy', state, revision, savedAt, version, origin}
 *         (the stored, newer state).
 * The current revision is the higher of the counter and the stored state's (a state
 * written before the counter was bumped by every save has none).
 * A save from the untagged names continues their revision, and their epoch when the old
 * counter has one (else it is a bare revision of before epochs, and the counter gets a
 * new epoch as any counter without one does); the old keys are then deleted.
 */
export const SAVE_SCRIPT = lua(`${READ_HEAD}${COUNTER}${LIMIT}
local wait = spendLimit(ARGV[12], ARGV[13])
if wait > 0 then return {'limited', wait} end
local source = KEYS[1]
local kind, stored, storedTimestamp = readHead(KEYS[1])
local current, epoch = readCounter(KEYS[2])
-- LEGACY: nothing under the tagged names yet: the user's data may be under the old ones.
local fromLegacy = kind == 'none' and not current and KEYS[4] ~= nil
if fromLegacy then
  source = KEYS[4]
  kind, stored, storedTimestamp = readHead(KEYS[4])
  current, epoch = readCounter(KEYS[5])
end
current = current or 0
if stored and stored > current then current = stored end
if ARGV[6] ~= '' and (tonumber(ARGV[6]) ~= current or (ARGV[9] ~= '' and ARGV[9] ~= epoch)) then
  return {'stale', current, epoch}
end
if storedTimestamp and ARGV[8] ~= '1' and tonumber(ARGV[4]) < storedTimestamp then
  if kind == 'legacy' then
    local w = redis.call('HMGET', source, 'state', 'revision', 'savedAt', 'version', 'origin')
    return {'conflict-legacy', w[1], w[2], w[3], w[4], w[5]}
  end
  return {'conflict', redis.call('GET', source)}
end
local revision = current + 1
local message = ARGV[1]
if revision ~= tonumber(ARGV[2]) then
  message = '{"type":"state","revision":' .. revision .. string.sub(ARGV[1], tonumber(ARGV[3]))
end
-- Publish first: on a cluster a channel of another slot fails here, before anything is written.
-- The patch goes right before its state: one script, so no other message comes between them.
if ARGV[11] ~= nil and ARGV[11] ~= '' then
  redis.call(ARGV[10], ARGV[7], '{"type":"patch","revision":' .. revision .. ARGV[11])
end
redis.call(ARGV[10], ARGV[7], message)
redis.call('SET', KEYS[1], message, 'EX', ARGV[5])
epoch = writeCounter(KEYS[2], revision, epoch, ARGV[5])
if fromLegacy then redis.call('DEL', KEYS[4], KEYS[5]) end
return {'saved', revision, kind == 'unreadable' and 1 or 0, epoch}
`);

/**
 * KEYS: 1 state key, 2 revision counter, 3 user bucket (4, 5: the untagged names, as for SAVE_SCRIPT).
 * ARGV: 1 TTL seconds, 2 channel, 3 ',"origin":"<json>"' or '', 4 'PUBLISH' or 'SPUBLISH',
 *       5, 6 the user's limit (rate, burst) or ''.
 * Returns {'limited', ms to wait} | {1, new revision, epoch} after a delete, {0, current revision, epoch} when
 * nothing was stored.
 * A delete of a state still under the old names removes those too (else a read would
 * fall back to it and bring the deleted state back); the tagged counter continues the
 * old one as a save does.
 */
export const DELETE_SCRIPT = lua(`${READ_HEAD}${COUNTER}${LIMIT}
local wait = spendLimit(ARGV[5], ARGV[6])
if wait > 0 then return {'limited', wait} end
local current, epoch = readCounter(KEYS[2])
local kind, storedRevision = readHead(KEYS[1])
local fromLegacy = kind == 'none' and not current and KEYS[4] ~= nil
if fromLegacy then
  current, epoch = readCounter(KEYS[5])
  kind, storedRevision = readHead(KEYS[4])
end
current = current or 0
if kind == 'none' then return {0, current, epoch} end
if storedRevision and storedRevision > current then current = storedRevision end
local revision = current + 1
redis.call(ARGV[4], ARGV[2], '{"type":"deleted","revision":' .. revision .. ARGV[3] .. '}')
redis.call('DEL', KEYS[1])
if fromLegacy then redis.call('DEL', KEYS[4], KEYS[5]) end
epoch = writeCounter(KEYS[2], revision, epoch, ARGV[1])
return {1, revision, epoch}
`);

/**
 * KEYS: 1 state key, 2 revision counter, 3 user bucket (4, 5: the untagged names, read when
 * 1 and 2 hold nothing, as for SAVE_SCRIPT). ARGV: 1 'full' (the stored value) or 'head'
 * (only its first bytes, for the revision); 2, 3 the user's limit (rate, burst) or absent
 * (the server's own reads: resync, epoch, a patch's base).
 * Returns {'limited', ms to wait} | {'message', text, counter} | {'legacy', state, revision, savedAt, version, origin, counter}
 *       | {'none', counter}; counter as stored ('<revision>:<epoch>', a bare revision, or nil).
 */
export const READ_SCRIPT = lua(`${LIMIT}
local wait = spendLimit(ARGV[2], ARGV[3])
if wait > 0 then return {'limited', wait} end
local function readAt(stateKey, counterKey)
  local counter = redis.call('GET', counterKey)
  local value
  if ARGV[1] == 'head' then value = redis.pcall('GETRANGE', stateKey, 0, 255)
  else value = redis.pcall('GET', stateKey) end
  if type(value) == 'table' then
    local f = redis.call('HMGET', stateKey, 'state', 'revision', 'savedAt', 'version', 'origin')
    return {'legacy', f[1], f[2], f[3], f[4], f[5], counter}
  end
  if not value or value == '' then return {'none', counter} end
  return {'message', value, counter}
end
local reply = readAt(KEYS[1], KEYS[2])
if reply[1] == 'none' and not reply[2] and KEYS[4] then return readAt(KEYS[4], KEYS[5]) end
return reply
`);

/**
 * KEYS: 1 the user's bucket. ARGV: rate, burst. Spends one token of a request that reaches
 * no other script (an invalid save, a socket's renewal). Returns 0, or ms to wait.
 */
export const TAKE_TOKEN_SCRIPT = lua(TAKE_TOKEN_LUA);
