/**
 * An atomic "pop and record unacked" for kombu's Redis layout, run server-side as one Lua script.
 *
 * kombu pops with BRPOP and records the `unacked` entry afterwards (`Channel._brpop_read` then
 * `QoS.append`): when Redis goes down between the pop and the reply reaching the client, the
 * message is gone from the list and in no `unacked` entry, so nothing can restore it. Seen in
 * the project's chaos test (a Redis restarted under load lost 1–2 of 160 tasks per ten
 * restarts). Inside one script the pop and the record are one step on the server (and in its
 * AOF): if the reply is lost, the entry exists and `restore_visible` brings it back, on a Python
 * worker as on ours.
 *
 * The recorded value is exactly `unackedValue()` of `redis-unacked.ts` (the envelope text
 * spliced in, exchange and routing key as Python's `json.dumps` writes strings:
 * `ensure_ascii`, lower-case `\uXXXX`, surrogate pairs), checked against it on a real Redis by
 * `src/brokers/redis/redis-fetch.int.test.ts`. An envelope the script cannot read (not JSON,
 * no string `delivery_tag`) is returned unrecorded, and the client takes its usual path.
 *
 * A Redis script is not rolled back when a command in it fails (NOPERM, OOM): so each message
 * is read (LINDEX), recorded, and only then popped. A failure leaves it in its list; messages
 * recorded earlier in the same call are in `unacked` and come back by `restore_visible`.
 *
 * KEYS: [unacked, unacked_index, ...queue keys in BRPOP order]; ARGV: [max count, now (seconds)].
 * Returns a flat array: key, text, '1' (recorded) or '0', for each popped message, in order.
 */
export const REDIS_FETCH_SCRIPT = `
local function pystr(s)
  if type(s) ~= 'string' then error('not a string') end
  local out = {'"'}
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    if c == 34 then out[#out + 1] = '\\\\"'; i = i + 1
    elseif c == 92 then out[#out + 1] = '\\\\\\\\'; i = i + 1
    elseif c == 10 then out[#out + 1] = '\\\\n'; i = i + 1
    elseif c == 13 then out[#out + 1] = '\\\\r'; i = i + 1
    elseif c == 9 then out[#out + 1] = '\\\\t'; i = i + 1
    elseif c == 8 then out[#out + 1] = '\\\\b'; i = i + 1
    elseif c == 12 then out[#out + 1] = '\\\\f'; i = i + 1
    elseif c < 32 or c == 127 then out[#out + 1] = string.format('\\\\u%04x', c); i = i + 1
    elseif c < 128 then out[#out + 1] = string.char(c); i = i + 1
    else
      local cp, len
      if c >= 240 then cp = c - 240; len = 4
      elseif c >= 224 then cp = c - 224; len = 3
      elseif c >= 192 then cp = c - 192; len = 2
      else error('bad utf-8') end
      for j = 1, len - 1 do
        local b = s:byte(i + j)
        if b == nil or b < 128 or b >= 192 then error('bad utf-8') end
        cp = cp * 64 + (b - 128)
      end
      i = i + len
      if cp >= 65536 then
        cp = cp - 65536
        out[#out + 1] = string.format('\\\\u%04x\\\\u%04x', 55296 + math.floor(cp / 1024), 56320 + cp % 1024)
      else
        out[#out + 1] = string.format('\\\\u%04x', cp)
      end
    end
  end
  out[#out + 1] = '"'
  return table.concat(out)
end

local function entry(text)
  local env = cjson.decode(text)
  local p = env.properties
  local di = p.delivery_info
  local tag = p.delivery_tag
  if type(tag) ~= 'string' then error('no delivery_tag') end
  return '[' .. text .. ', ' .. pystr(di.exchange) .. ', ' .. pystr(di.routing_key) .. ']', tag
end

local want = tonumber(ARGV[1])
local now = ARGV[2]
local out = {}
local got = 0
for k = 3, #KEYS do
  while got < want do
    local text = redis.call('LINDEX', KEYS[k], -1)
    if not text then break end
    got = got + 1
    local ok, value, tag = pcall(entry, text)
    if ok then
      redis.call('ZADD', KEYS[2], now, tag)
      redis.call('HSET', KEYS[1], tag, value)
    end
    redis.call('RPOP', KEYS[k])
    out[#out + 1] = KEYS[k]
    out[#out + 1] = text
    out[#out + 1] = ok and '1' or '0'
  end
  if got >= want then break end
end
return out
`;

/** One message the script popped. */
export interface FetchedMessage {
  readonly key: string;
  readonly text: string;
  /** The `unacked` entry was written in the same step. */
  readonly recorded: boolean;
}

/** Parse the script's flat reply. */
export function parseFetchReply(reply: unknown): FetchedMessage[] {
  if (!Array.isArray(reply)) return [];
  const out: FetchedMessage[] = [];
  for (let i = 0; i + 2 < reply.length; i += 3) {
    const [key, text, rec] = [reply[i], reply[i + 1], reply[i + 2]] as unknown[];
    if (typeof key !== 'string' || typeof text !== 'string') continue;
    out.push({ key, text, recorded: rec === '1' });
  }
  return out;
}
