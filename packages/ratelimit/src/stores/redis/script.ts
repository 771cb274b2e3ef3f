/**
 * The Redis side of every rate-limit operation: one Lua script, run atomically by EVALSHA in one
 * round trip. It mirrors the algorithms in `../../algorithms/` operation for operation (same IEEE
 * double arithmetic, state stored with `%.17g`, which round-trips doubles exactly), so the memory
 * and Redis stores decide alike; a differential property test holds them to it.
 *
 * KEYS: one per dimension (all sharing a hash tag, so one Cluster slot).
 * ARGV: op ('c' consume | 'r' refund), cost-or-amount, now ('' = the server's TIME), chargedAt,
 *       then per dimension: kind code, number of params, params…
 * Returns for 'c': { allowed, now, then per dimension: allowed, remaining, overage, resetAt, retryAfter }
 * as strings (Lua numbers would be truncated to integers in a Redis reply).
 */
export const LIMIT_SCRIPT = `
local TOL = 1e-3
local INF = math.huge
local floor, ceil, max, min = math.floor, math.ceil, math.max, math.min

local function fmt(x)
  if x == INF then return 'inf' end
  return string.format('%.17g', x)
end

local function load(key)
  local raw = redis.call('GET', key)
  if not raw then return nil end
  local s = {}
  for n in string.gmatch(raw, '%S+') do s[#s + 1] = tonumber(n) end
  return s
end

local function save(key, nxt, ttl)
  if nxt == nil then
    redis.call('DEL', key)
  else
    local parts = {}
    for i = 1, #nxt do parts[i] = fmt(nxt[i]) end
    redis.call('SET', key, table.concat(parts, ' '), 'PX', max(1, ceil(ttl)))
  end
end

local function split(available, overage)
  local clamped = max(0, available)
  return max(0, floor(clamped - overage)), max(0, overage - clamped)
end

local function result(allowed, available, overage, resetAt, retry, nxt, ttl)
  local remaining, inUse = split(available, overage)
  return { allowed = allowed, remaining = remaining, overage = inUse, resetAt = resetAt, retry = retry, nxt = nxt, ttl = ttl }
end

-- token bucket: p = { capacity, ratePerMs, overage }
local function tb_settle(p, hard, tokens, now, allowed, retry)
  local missing = hard - tokens
  local ttl = ceil(missing / p[2])
  local nxt = nil
  if missing > 0 then nxt = { tokens, now } end
  return result(allowed, tokens, p[3], now + ttl, retry, nxt, ttl)
end
local function tb_tokens(p, hard, s, now)
  if s == nil then return hard end
  return min(hard, s[1] + max(0, now - s[2]) * p[2])
end
local function tb_eval(p, s, now, cost)
  local hard = p[1] + p[3]
  local tokens = tb_tokens(p, hard, s, now)
  if cost <= tokens then return tb_settle(p, hard, tokens - cost, now, true, 0) end
  local retry = INF
  if cost <= hard then
    retry = ceil((cost - tokens) / p[2])
    if tb_tokens(p, hard, s, now + retry) < cost then retry = retry + 1 end
  end
  return tb_settle(p, hard, tokens, now, false, retry)
end
local function tb_refund(p, s, now, amount)
  local hard = p[1] + p[3]
  return tb_settle(p, hard, min(hard, tb_tokens(p, hard, s, now) + amount), now, true, 0)
end

-- gcra: p = { interval, hard, overage }
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

-- window bounds: q = { 0, length } (epoch-aligned) or { 1, b0, b1, b2, b3 } (calendar)
local function bounds(p, at, now)
  if p[at] == 0 then
    local len = p[at + 1]
    local start = floor(now / len) * len
    return start, start + len
  end
  for i = at + 1, at + 3 do
    if now < p[i + 1] then
      if now >= p[i] or i == at + 1 then return p[i], p[i + 1] end
    end
  end
  return p[at + 3], p[at + 4]
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

-- sliding window: p = { hard, overage, length }
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

-- sliding log: p = { hard, overage, windowMs }; state = t1 c1 t2 c2 ...
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
    if cost > 0 then
      entries[#entries + 1] = now
      entries[#entries + 1] = cost
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
  local back = 0
  for i = 1, #entries - 1, 2 do
    if entries[i] == chargedAt then
      back = min(amount, entries[i + 1])
      entries[i + 1] = entries[i + 1] - back
      if entries[i + 1] == 0 then
        table.remove(entries, i)
        table.remove(entries, i)
      end
      break
    end
  end
  return sl_settle(p, entries, used - back, now, true, 0)
end

local EVAL = { tb = tb_eval, gc = gc_eval, fw = fw_eval, sw = sw_eval, sl = sl_eval }
local REFUND = { tb = tb_refund, gc = gc_refund, fw = fw_refund, sw = sw_refund, sl = sl_refund }

local op, amount, chargedAt = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
end

local dims = {}
local at = 5
for i = 1, #KEYS do
  local kind, count = ARGV[at], tonumber(ARGV[at + 1])
  local params = {}
  for j = 1, count do params[j] = tonumber(ARGV[at + 1 + j]) end
  dims[i] = { kind = kind, p = params, s = load(KEYS[i]) }
  at = at + 2 + count
end

if op == 'r' then
  for i = 1, #KEYS do
    local d = dims[i]
    local r = REFUND[d.kind](d.p, d.s, now, amount, chargedAt)
    save(KEYS[i], r.nxt, r.ttl)
  end
  return { fmt(now) }
end

local results, allowed = {}, true
for i = 1, #KEYS do
  local d = dims[i]
  results[i] = EVAL[d.kind](d.p, d.s, now, amount)
  if not results[i].allowed then allowed = false end
end
if allowed and amount > 0 then
  for i = 1, #KEYS do save(KEYS[i], results[i].nxt, results[i].ttl) end
elseif not allowed then
  -- Nothing is charged: dimensions that would have admitted report their usage as it is.
  for i = 1, #KEYS do
    if results[i].allowed then
      local d = dims[i]
      results[i] = EVAL[d.kind](d.p, d.s, now, 0)
    end
  end
end
local reply = { allowed and '1' or '0', fmt(now) }
for i = 1, #KEYS do
  local r = results[i]
  reply[#reply + 1] = r.allowed and '1' or '0'
  reply[#reply + 1] = fmt(r.remaining)
  reply[#reply + 1] = fmt(r.overage)
  reply[#reply + 1] = fmt(r.resetAt)
  reply[#reply + 1] = fmt(r.retry)
end
return reply
`;
