// Lua run atomically by Redis. The state JSON travels to Redis once (ARGV[1]) and the
// stored hash and the published message are built from it by concatenation, so the
// script never decodes a state: the hash keeps `timestamp` beside it for newer-wins.
import { createHash } from 'node:crypto';

export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * KEYS: 1 state hash, 2 revision counter.
 * ARGV: 1 state JSON, 2 state timestamp, 3 savedAt, 4 TTL seconds, 5 If-Match revision or '',
 *       6 origin, 7 origin as a JSON string, 8 state version, 9 channel.
 * Returns {'saved', revision} | {'stale', current revision}
 *       | {'conflict', state, revision, savedAt, version, origin} (the stored, newer state).
 * While the hash exists its `revision` is the counter; the counter key only matters after
 * a delete (which writes it), so a save reads it only when there is no hash.
 */
export const SAVE_SCRIPT = lua(`
local stored = redis.call('HMGET', KEYS[1], 'timestamp', 'revision')
local current = tonumber(stored[2])
if not current then current = tonumber(redis.call('GET', KEYS[2])) or 0 end
if ARGV[5] ~= '' and tonumber(ARGV[5]) ~= current then
  return {'stale', current}
end
local storedTimestamp = tonumber(stored[1])
if storedTimestamp and tonumber(ARGV[2]) < storedTimestamp then
  local winner = redis.call('HMGET', KEYS[1], 'state', 'revision', 'savedAt', 'version', 'origin')
  return {'conflict', winner[1], winner[2], winner[3], winner[4], winner[5]}
end
local revision = current + 1
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'revision', revision, 'savedAt', ARGV[3],
  'timestamp', ARGV[2], 'version', ARGV[8], 'origin', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[9], '{"type":"state","revision":' .. revision .. ',"savedAt":' ..
  ARGV[3] .. ',"origin":' .. ARGV[7] .. ',"state":' .. ARGV[1] .. '}')
return {'saved', revision}
`);

/**
 * KEYS: 1 state hash, 2 revision counter.
 * ARGV: 1 TTL seconds, 2 channel, 3 ',"origin":"<json>"' or ''.
 * Returns {1, new revision} after a delete, {0, current revision} when nothing was stored.
 */
export const DELETE_SCRIPT = lua(`
local current = tonumber(redis.call('GET', KEYS[2])) or 0
local storedRevision = tonumber(redis.call('HGET', KEYS[1], 'revision'))
if not storedRevision then return {0, current} end
if storedRevision > current then current = storedRevision end
local revision = current + 1
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], revision, 'EX', ARGV[1])
redis.call('PUBLISH', ARGV[2], '{"type":"deleted","revision":' .. revision .. ARGV[3] .. '}')
return {1, revision}
`);
