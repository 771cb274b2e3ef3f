/**
 * The Redis side of every rate-limit operation: a Lua script, run atomically by EVALSHA. One call
 * carries one or more operations (the store sends the operations of one tick together), each
 * decided against the state the previous one left, so every operation is atomic over all its
 * dimensions and costs one round trip. A script holds only the code of the algorithms it uses:
 * Redis runs a script's top level on every call, so every function it defines is a closure built
 * per call. It mirrors the algorithms in `../../algorithms/` operation for operation (same IEEE
 * double arithmetic, state stored as packed doubles, which round-trip exactly), so the memory and
 * Redis stores decide alike; a differential property test holds them to it.
 *
 * Numbers travel as little-endian IEEE doubles, both ways: exact, and cheap. Counted with
 * callgrind on redis-server, Lua's `tonumber` of an argument string (strtod) cost ~1,700
 * instructions and every extra argument ~900 more, where `struct.unpack` reads several numbers
 * in one call.
 *
 * KEYS: every operation's keys, in order (one per dimension; one operation's keys share a hash tag).
 * ARGV[1]: doubles — number of distinct dimension settings, then each: kind (see `KIND_NUMBERS`),
 *       number of params, params…; then the number of operations, then per operation: op (0 consume,
 *       1 refund), cost-or-amount, now (NaN = the server's TIME, read once per call), chargedAt,
 *       number of dimensions, then per dimension the index (from 1) of its settings.
 * Returns one string of doubles: per operation, now, then for a consume per dimension: remaining,
 * overage, resetAt, retryAfter (`Infinity` for a cost that never fits).
 */
/** How the script's arguments name each algorithm (by its code): numbers, like every other argument. */
export const KIND_NUMBERS: Readonly<Record<string, number>> = { tb: 1, gc: 2, fw: 3, sw: 4, sl: 5 };

/**
 * The longest a stored state lives in Redis: 100 years (of 365.25 days). `SET … PX` needs a finite
 * whole number; a state that would need longer (a "lifetime" quota refilling at 1e-12 per second)
 * is kept this long, then forgotten like any expired state.
 */
export const MAX_STATE_TTL_MS = 3_155_760_000_000;

const COMMON = `
local TOL = 1e-3
local MAX_TTL = ${String(MAX_STATE_TTL_MS)}
local INF = math.huge
local floor, ceil, max, min = math.floor, math.ceil, math.max, math.min

-- State is stored as little-endian IEEE doubles (struct): exact, and far cheaper than text. The
-- common lengths get fixed formats and table constructors: a table grown key by key is resized at
-- every power of two, and building a format string per save costs more than the packing.
local spack, sunpack = struct.pack, struct.unpack
local function load(key)
  local raw = redis.call('GET', key)
  if not raw then return nil end
  local len = #raw
  if len == 16 then
    local a, b = sunpack('<dd', raw)
    return { a, b }
  elseif len == 8 then
    local a = sunpack('<d', raw)
    return { a }
  elseif len == 24 then
    local a, b, c = sunpack('<ddd', raw)
    return { a, b, c }
  end
  local n = len / 8
  if n ~= floor(n) then return nil end
  local s = {}
  for i = 1, n do s[i] = sunpack('<d', raw, i * 8 - 7) end
  return s
end

local function save(key, nxt, ttl)
  if nxt == nil then
    redis.call('DEL', key)
    return
  end
  local n, packed = #nxt, nil
  if n == 2 then
    packed = spack('<dd', nxt[1], nxt[2])
  elseif n == 1 then
    packed = spack('<d', nxt[1])
  elseif n == 3 then
    packed = spack('<ddd', nxt[1], nxt[2], nxt[3])
  else
    local parts = {}
    for i = 1, n do parts[i] = spack('<d', nxt[i]) end
    packed = table.concat(parts)
  end
  -- Whole ms in [1, MAX_TTL] (comparisons, not min/max: C calls cost more; NaN gives 1), as
  -- digits: Redis turns a number argument into text in exponent form when large (1e+17), which
  -- PX refuses.
  local px = ceil(ttl)
  if px > MAX_TTL then
    px = MAX_TTL
  elseif not (px >= 1) then
    px = 1
  end
  redis.call('SET', key, packed, 'PX', string.format('%d', px))
end

local function split(available, overage)
  local clamped = max(0, available)
  return max(0, floor(clamped - overage)), max(0, overage - clamped)
end

-- An algorithm's verdict on one dimension goes to R, 7 slots per dimension from RB (allowed,
-- remaining, overage in use, resetAt, retry, next state, ttl): one flat table for the whole call
-- rather than a table per verdict (creating and filling tables is most of a script's time).
local R, RB = { false, 0, 0, 0, 0, false, 0 }, 0
local function result(allowed, available, overage, resetAt, retry, nxt, ttl)
  local remaining, inUse = split(available, overage)
  R[RB + 1], R[RB + 2], R[RB + 3], R[RB + 4], R[RB + 5], R[RB + 6], R[RB + 7] =
    allowed, remaining, inUse, resetAt, retry, nxt, ttl
end

`;

/** Each algorithm's functions: `<code>_eval(p, s, now, cost)` and `<code>_refund(p, s, now, amount, chargedAt)`. */
const ALGORITHMS: Readonly<Record<string, string>> = {
  tb: `-- token bucket: p = { capacity, ratePerMs, overage }
local function tb_tokens(p, hard, s, now)
  if s == nil then return hard end
  return min(hard, s[1] + max(0, now - s[2]) * p[2])
end
-- Whole ms until the bucket stored as s holds amount <= hard (the estimate, pushed on past
-- rounding). tb_tokens(...) < amount, inlined: below hard, its min() changes nothing.
local function tb_wait(p, s, now, amount, estimate)
  if s == nil then return estimate end
  local ms, step, rate, tokens, at = estimate, 1, p[2], s[1], s[2]
  local elapsed = now + ms - at
  while tokens + (elapsed > 0 and elapsed or 0) * rate < amount do
    ms = ms + step
    step = step * 2
    elapsed = now + ms - at
  end
  return ms
end
-- s: the stored state; commits: whether this decision's state replaces it.
local function tb_settle(p, hard, tokens, s, commits, now, allowed, retry)
  local missing = hard - tokens
  local ttl = 0
  local nxt = nil
  if missing > 0 then
    nxt = { tokens, now }
    if commits then s = nxt end
    ttl = tb_wait(p, s, now, hard, ceil(missing / p[2]))
  end
  return result(allowed, tokens, p[3], now + ttl, retry, nxt, ttl)
end
local function tb_eval(p, s, now, cost)
  local hard = p[1] + p[3]
  local tokens = tb_tokens(p, hard, s, now)
  if cost <= tokens then return tb_settle(p, hard, tokens - cost, s, cost > 0, now, true, 0) end
  local retry = INF
  if cost <= hard then retry = tb_wait(p, s, now, cost, ceil((cost - tokens) / p[2])) end
  return tb_settle(p, hard, tokens, s, false, now, false, retry)
end
local function tb_refund(p, s, now, amount)
  local hard = p[1] + p[3]
  return tb_settle(p, hard, min(hard, tb_tokens(p, hard, s, now) + amount), s, true, now, true, 0)
end

`,
  gc: `-- gcra: p = { interval, hard, overage }
local function gc_settle(p, tat, now, allowed, retry)
  local ahead = max(0, tat - now)
  local ttl = ceil(ahead)
  local nxt = nil
  if ahead > 0 then nxt = { tat } end
  return result(allowed, p[2] - ahead / p[1], p[3], now + ttl, retry, nxt, ttl)
end
local function gc_eval(p, s, now, cost)
  local horizon = p[2] * p[1]
  local stored = now
  if s ~= nil then stored = s[1] end
  local ahead = max(0, stored - now)
  local newAhead = ahead + cost * p[1]
  if newAhead <= horizon + TOL then return gc_settle(p, now + newAhead, now, true, 0) end
  local retry = INF
  if cost <= p[2] then retry = max(1, ceil(newAhead - horizon - TOL)) end
  return gc_settle(p, now + ahead, now, false, retry)
end
local function gc_refund(p, s, now, amount)
  local stored = now
  if s ~= nil then stored = s[1] end
  local tat = max(stored, now)
  return gc_settle(p, max(now, tat - amount * p[1]), now, true, 0)
end

`,
  fw: `-- window bounds: q = { 0, length } (epoch-aligned) or { 1, b0, b1, b2, b3 } (calendar)
local function bounds(p, at, now)
  if p[at] == 0 then
    local len = p[at + 1]
    local start = floor(now / len) * len
    return start, start + len
  end
  -- The caller sent boundaries around the server's time as it last saw it: now is normally within.
  for i = at + 2, at + 4 do
    if now < p[i] then
      if now >= p[i - 1] then return p[i - 1], p[i] end
      -- Before them (a caller's clock far ahead): the first window's length, repeated backwards.
      local len = p[at + 2] - p[at + 1]
      local start = p[at + 1] - ceil((p[at + 1] - now) / len) * len
      return start, start + len
    end
  end
  -- After them (a caller's clock far behind): the last window's length, repeated.
  local len = p[at + 4] - p[at + 3]
  local start = p[at + 4] + floor((now - p[at + 4]) / len) * len
  return start, start + len
end

-- fixed window: p = { hard, overage, window... }
local function fw_settle(p, start, finish, used, now, allowed, retry)
  local resetAt = now
  local nxt = nil
  if used > 0 then
    resetAt = finish
    nxt = { start, used }
  end
  return result(allowed, p[1] - used, p[2], resetAt, retry, nxt, finish - now)
end
local function fw_used(s, start)
  if s ~= nil and s[1] == start then return s[2] or 0 end
  return 0
end
local function fw_eval(p, s, now, cost)
  local start, finish = bounds(p, 3, now)
  local used = fw_used(s, start)
  if used + cost <= p[1] then return fw_settle(p, start, finish, used + cost, now, true, 0) end
  local retry = INF
  if cost <= p[1] then retry = finish - now end
  return fw_settle(p, start, finish, used, now, false, retry)
end
local function fw_refund(p, s, now, amount, chargedAt)
  local start, finish = bounds(p, 3, now)
  local used = fw_used(s, start)
  local back = 0
  if chargedAt >= start then back = min(used, amount) end
  return fw_settle(p, start, finish, used - back, now, true, 0)
end

`,
  sw: `-- sliding window: p = { hard, overage, length }
local function sw_counts(p, s, start)
  if s == nil then return 0, 0 end
  local at, cur, prev = s[1] or 0, s[2] or 0, s[3] or 0
  if at == start then return cur, prev end
  if at == start - p[3] then return 0, cur end
  return 0, 0
end
local function sw_settle(p, start, cur, prev, now, allowed, retry)
  local len = p[3]
  local weight = (len - (now - start)) / len
  local resetAt = now
  if cur > 0 then resetAt = start + 2 * len elseif prev > 0 then resetAt = start + len end
  local nxt = nil
  if cur > 0 or prev > 0 then nxt = { start, cur, prev } end
  return result(allowed, p[1] - (prev * weight + cur), p[2], resetAt, retry, nxt, resetAt - now)
end
local function sw_fits_at(p, start, cur, prev, cost)
  local len, hard = p[3], p[1]
  local room = hard - cost - cur
  if room >= 0 and prev > 0 then return start + len - (room * len) / prev end
  if cur <= 0 then return start + len end
  return max(start + len, start + 2 * len - ((hard - cost) * len) / cur)
end
local function sw_eval(p, s, now, cost)
  local len = p[3]
  local start = floor(now / len) * len
  local cur, prev = sw_counts(p, s, start)
  local weight = (len - (now - start)) / len
  if prev * weight + cur + cost <= p[1] then return sw_settle(p, start, cur + cost, prev, now, true, 0) end
  local retry = INF
  if cost <= p[1] then retry = max(1, ceil(sw_fits_at(p, start, cur, prev, cost) - now)) end
  return sw_settle(p, start, cur, prev, now, false, retry)
end
local function sw_refund(p, s, now, amount, chargedAt)
  local len = p[3]
  local start = floor(now / len) * len
  local cur, prev = sw_counts(p, s, start)
  if chargedAt >= start then return sw_settle(p, start, cur - min(cur, amount), prev, now, true, 0) end
  if chargedAt >= start - len then return sw_settle(p, start, cur, prev - min(prev, amount), now, true, 0) end
  return sw_settle(p, start, cur, prev, now, true, 0)
end

`,
  sl: `-- sliding log: p = { hard, overage, windowMs }; state = t1 c1 t2 c2 ...
local function sl_live(p, s, now)
  local entries, used = {}, 0
  if s ~= nil then
    for i = 1, #s - 1, 2 do
      if s[i] > now - p[3] then
        entries[#entries + 1] = s[i]
        entries[#entries + 1] = s[i + 1]
        used = used + s[i + 1]
      end
    end
  end
  return entries, used
end
local function sl_settle(p, entries, used, now, allowed, retry)
  local resetAt = now
  local nxt = nil
  if #entries > 0 then
    resetAt = entries[#entries - 1] + p[3]
    nxt = entries
  end
  return result(allowed, p[1] - used, p[2], resetAt, retry, nxt, resetAt - now)
end
local function sl_eval(p, s, now, cost)
  local entries, used = sl_live(p, s, now)
  if used + cost <= p[1] then
    local n = #entries
    -- Charges of one millisecond share an entry: their units leave the window together.
    if cost > 0 and n > 0 and entries[n - 1] == now then
      entries[n] = entries[n] + cost
    elseif cost > 0 then
      entries[n + 1] = now
      entries[n + 2] = cost
    end
    return sl_settle(p, entries, used + cost, now, true, 0)
  end
  if cost > p[1] then return sl_settle(p, entries, used, now, false, INF) end
  local freed, retryAt = 0, now
  local i = 1
  while i <= #entries and used - freed + cost > p[1] do
    freed = freed + entries[i + 1]
    retryAt = entries[i] + p[3]
    i = i + 2
  end
  return sl_settle(p, entries, used, now, false, max(1, ceil(retryAt - now)))
end
local function sl_refund(p, s, now, amount, chargedAt)
  local entries, used = sl_live(p, s, now)
  -- The units charged at the decision's instant, from every entry of that millisecond.
  local back = 0
  local i = #entries - 1
  while i >= 1 and back < amount do
    if entries[i] == chargedAt then
      local take = min(amount - back, entries[i + 1])
      back = back + take
      entries[i + 1] = entries[i + 1] - take
      if entries[i + 1] == 0 then
        table.remove(entries, i)
        table.remove(entries, i)
      end
    end
    i = i - 2
  end
  return sl_settle(p, entries, used - back, now, true, 0)
end

`,
};

const MAIN = `
local A = ARGV[1]
-- Formats reading 1 to 8 doubles at once.
local F = { '<d', '<dd', '<ddd', '<dddd', '<ddddd', '<dddddd', '<ddddddd', '<dddddddd' }

local server_now = nil
local function server_time()
  if server_now == nil then
    local t = redis.call('TIME')
    server_now = tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
  end
  return server_now
end

-- Reads 'count' doubles from 'pos' into a new table; returns it and the next position.
local function read_list(count, pos)
  if count == 0 then return {}, pos end
  if count <= 8 then
    local list = { sunpack(F[count], A, pos) }
    local nextpos = list[count + 1]
    list[count + 1] = nil
    return list, nextpos
  end
  local list = {}
  for j = 1, count do list[j], pos = sunpack('<d', A, pos) end
  return list, pos
end

-- The call's distinct dimension settings, read once: kind and parameters, by index.
local kinds, params = {}, {}
local settings, pos = sunpack('<d', A, 1)
for i = 1, settings do
  local kind, count
  kind, count, pos = sunpack('<dd', A, pos)
  kinds[i], params[i], pos = kind, read_list(count, pos)
end

local reply, nr = {}, 0
local first = 1
-- The operation's dimensions, 4 slots each (kind, params, key, state), reused by every operation.
local D = { false, false, false, false }
local operations
operations, pos = sunpack('<d', A, pos)
for _ = 1, operations do
  local op, amount, now, chargedAt, n
  op, amount, now, chargedAt, n, pos = sunpack('<ddddd', A, pos)
  if now ~= now then now = server_time() end
  for i = 1, n do
    local setting, key, b = nil, KEYS[first + i - 1], (i - 1) * 4
    setting, pos = sunpack('<d', A, pos)
    D[b + 1], D[b + 2], D[b + 3], D[b + 4] = kinds[setting], params[setting], key, load(key)
  end
  first = first + n
  nr = nr + 1
  reply[nr] = spack('<d', now)

  if op == 1 then
    RB = 0
    for i = 1, n do
      local b = (i - 1) * 4
      REFUND[D[b + 1]](D[b + 2], D[b + 4], now, amount, chargedAt)
      save(D[b + 3], R[6], R[7])
    end
  else
    local allowed = true
    for i = 1, n do
      local b = (i - 1) * 4
      RB = (i - 1) * 7
      EVAL[D[b + 1]](D[b + 2], D[b + 4], now, amount)
      if not R[RB + 1] then allowed = false end
    end
    if allowed and amount > 0 then
      for i = 1, n do save(D[(i - 1) * 4 + 3], R[(i - 1) * 7 + 6], R[(i - 1) * 7 + 7]) end
    elseif not allowed then
      -- Nothing is charged: dimensions that would have admitted report their usage as it is.
      for i = 1, n do
        RB = (i - 1) * 7
        if R[RB + 1] then
          local b = (i - 1) * 4
          EVAL[D[b + 1]](D[b + 2], D[b + 4], now, 0)
        end
      end
    end
    -- Per dimension; a dimension admits exactly when its wait is 0 (a denial always waits >= 1 ms).
    for i = 1, n do
      local rb = (i - 1) * 7
      nr = nr + 1
      reply[nr] = spack('<dddd', R[rb + 2], R[rb + 3], R[rb + 4], R[rb + 5])
    end
  end
end
return table.concat(reply)
`;

/**
 * The script for a policy whose dimensions use the algorithms with the given codes (`tb`, `fw`, …):
 * the shared helpers, those algorithms, and the main body.
 */
export function limitScript(codes: readonly string[]): string {
  const used = [...new Set(codes)].sort();
  const table = (suffix: string): string =>
    `{ ${used.map((c) => `[${String(KIND_NUMBERS[c] ?? 0)}] = ${c}_${suffix}`).join(', ')} }`;
  return [
    COMMON,
    ...used.map((c) => ALGORITHMS[c] ?? ''),
    `local EVAL = ${table('eval')}\nlocal REFUND = ${table('refund')}\n`,
    MAIN,
  ].join('');
}
