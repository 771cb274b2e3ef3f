/**
 * The Redis side of every rate-limit operation: a Lua script, run atomically by EVALSHA. One call
 * carries one or more operations of one policy shape (the store sends the operations of one tick
 * together), each decided against the state the previous one left, so every operation is atomic
 * over all its dimensions and costs one round trip.
 *
 * What a script costs Redis was counted with callgrind on redis-server (instructions per EVALSHA,
 * Redis 7.0): the call itself ~13,500; each further argument ~1,700; each `redis.call` 3,000–
 * 5,000 (TIME 9,000 with its reply turned into a number, `SET … PX` 11,500, `SET` 6,000, `GET`,
 * `INCRBY`, `PTTL` ~4,000–4,500); a Lua table ~700; a function defined in the script ~400 (a
 * closure built on every call); a number Lua turns into text ~1,700 (`snprintf`); rate-limiter-
 * flexible's whole script 36,000. So this script is generated per policy shape (the algorithms of
 * its dimensions, in order) as straight-line code over locals: no functions, no tables but the
 * reply's, one argument string of doubles, and texts only where Redis needs one.
 *
 * The script decides and writes; it does not report. It answers with the instant it decided at and
 * the state each dimension held before the operation, and the store runs the algorithm's own
 * `evaluate` on them — the arithmetic the memory store runs — for the numbers the caller sees.
 *
 * State and time:
 * - A fixed window's usage is an integer counter (`INCRBY`) in a key of its own per window (the
 *   store names it after the window's start) that expires when the window ends (`PEXPIREAT`). The
 *   key is named before the script knows the server's time: an operation whose window does not
 *   hold the server's `now` is answered "retry" with that `now` (nothing written), and the store
 *   sends it again. A counter holding a fraction (fractional costs) is read and written as text.
 * - A token bucket keeps `[tokens, updatedAt, expiresAt]` as doubles, `expiresAt` being the key's
 *   own expiry (set with `PEXPIREAT`, renewed only once it is less than a full refill away, so most
 *   writes are a `SETRANGE` that keeps it). Other algorithms keep their state as doubles, as the
 *   memory store holds it, written with `SET … PX`.
 * - "now" is the server's, read once per call: from a key whose absolute expiry the script knows
 *   (`expiresAt − PTTL`: a token bucket's state, or a fixed window's counter, which expires at the
 *   window's end), else `TIME`.
 *
 * KEYS: every operation's keys, in order (one per dimension; a reset may add keys to delete); in
 * ARGV after the argument string for a cross-slot script (see `limitScript`).
 * ARGV[1]: doubles — the number of operations, then per operation: op (0 consume, 1 refund, 2
 * reset) + 4 × its number of keys, amount, now (NaN: the server's time), three parameters per
 * dimension (see `PARAMS`), and for a refund the instant it was charged at.
 * Returns one string of doubles, per operation: now, status (1 admitted or done, 0 denied, 2 retry:
 * this operation and every later one were not run; 3 not local, see `limitScript`), then for a
 * consume the state each dimension held before it (see `STATE_DOUBLES`), sliding logs' entries
 * last.
 */
/** How the store and the script name each algorithm. */
export const KIND_NUMBERS: Readonly<Record<string, number>> = { tb: 1, gc: 2, fw: 3, sw: 4, sl: 5 };

/**
 * The longest a stored state lives in Redis: 100 years (of 365.25 days). `SET … PX` needs a finite
 * whole number; a state that would need longer (a "lifetime" quota refilling at 1e-12 per second)
 * is kept this long, then forgotten like any expired state.
 */
export const MAX_STATE_TTL_MS = 3_155_760_000_000;

/** Operation codes. */
export const CONSUME = 0;
export const REFUND = 1;
export const RESET = 2;

/** Statuses of an operation in the reply. */
export const DENIED = 0;
export const DONE = 1;
export const RETRY = 2;
/** Cross-slot scripts only: a key of this operation is not served here; nothing of it was run. */
export const NOT_LOCAL = 3;

/**
 * The first line of a cross-slot script (Redis ≥ 7.0): its keys may span slots. Without it, a
 * script that touches keys of two slots fails, declared or not.
 */
export const CROSS_SLOT_FLAG = '#!lua flags=allow-cross-slot-keys';

/**
 * Per algorithm, its three parameters (sent per operation, after the header):
 * - tb: hard limit, refill per ms, span (ms: a full refill, +2; the key's expiry is renewed to
 *   now + 2 × span once less than a span away);
 * - gc: interval, hard limit, TTL (ms) after an admitted charge;
 * - fw: hard limit, window start, window end;
 * - sw: hard limit, window length, TTL (ms);
 * - sl: hard limit, window (ms), unused.
 */
export const PARAMS = 3;

/**
 * Doubles of the reply per dimension of a consume, the first NaN when there is no state: tb {
 * tokens, updatedAt }; gc { arrival time }; fw { usage }; sw { start, current, previous }; sl { n }
 * (its n entries' doubles follow every dimension's).
 */
export const STATE_DOUBLES: Readonly<Record<string, number>> = { tb: 2, gc: 1, fw: 1, sw: 3, sl: 1 };

/** Counters below this stay exact as doubles whatever whole amount below it is added. */
const EXACT = '4503599627370496'; // 2^52

/** Above this many dimensions, per-dimension values live in a table (Lua allows 200 locals). */
const MAX_LOCAL_DIMENSIONS = 8;

/**
 * Lua for one dimension: `@x` is a per-dimension variable, `#n` its n-th parameter (1–3), `$k` its
 * key. In scope: op, amount, now, charged, server (now came from the server), whole (amount can be
 * counted with INCRBY, as text `atext`), ok, and Lua's library as the locals of `LIBRARY` (`call`,
 * `rpcall`, `fmt`, …: a global's lookup costs on every call).
 */
interface Kind {
  /**
   * Reads before the clock (consume and refund), before anything is written: its `GET` is
   * `%get` (protected in a cross-slot script, where an error reply means the key is not served
   * here), and `%far` marks the reply that is not a state (an error sets `far`).
   */
  readonly read: string;
  /** Decides, once `now` is known (consume). */
  readonly decide: string;
  /** Writes, when every dimension fitted and the amount is > 0 (consume). */
  readonly commit: string;
  /** The reply's doubles (expressions). */
  readonly reply: readonly string[];
  /** Refund, once `now` is known. */
  readonly refund: string;
}

/** Whole ms in [1, MAX] as digits, from the expression `ms` (which must be > 0). */
const ttlText = (ms: string): string => `fmt('%d', min(${String(MAX_STATE_TTL_MS)}, ceil(${ms})))`;

/** A token bucket's write of `left` tokens at `now`. */
const tbWrite = (left: string): string => `
      if server then
        if @x and @x - now >= #3 then
          call('SETRANGE', $k, '0', spack('<dd', ${left}, now))
        else
          local ex = now + 2 * #3
          call('SET', $k, spack('<ddd', ${left}, now, ex))
          call('PEXPIREAT', $k, fmt('%d', ex))
        end
      else
        call('SET', $k, spack('<dd', ${left}, now), 'PX', fmt('%d', 2 * #3))
      end`;

const KINDS: Readonly<Record<string, Kind>> = {
  tb: {
    read: `
    @raw = %get('GET', $k)
    if @raw then
      local len = #@raw
      if len == 24 then @t, @at, @x = sunpack('<ddd', @raw)
      elseif len == 16 then @t, @at = sunpack('<dd', @raw)
      else %far@raw = false end
    end`,
    decide: `
    @tok = #1
    if @raw then @tok = min(#1, @t + max(0, now - @at) * #2) end
    if amount > @tok then ok = false end`,
    commit: `
    do
      local left = @tok - amount
      if #1 - left > 0 then${tbWrite('left')}
      elseif @raw then
        call('DEL', $k)
      end
    end`,
    reply: ['@t or NAN', '@at or 0'],
    refund: `
    do
      local tok = #1
      if @raw then tok = min(#1, @t + max(0, now - @at) * #2) end
      tok = min(#1, tok + amount)
      if #1 - tok > 0 then${tbWrite('tok')}
      elseif @raw then
        call('DEL', $k)
      end
    end`,
  },
  gc: {
    read: `
    @raw = %get('GET', $k)
    if @raw and #@raw == 8 then @tat = sunpack('<d', @raw) elseif @raw then %far@raw = false end`,
    decide: `
    @ah = max(0, (@tat or now) - now) + amount * #1
    if @ah > #2 * #1 + 1e-3 then ok = false end`,
    commit: `
    do
      local tat = now + @ah
      if tat - now > 0 then
        call('SET', $k, spack('<d', tat), 'PX', fmt('%d', #3))
      elseif @raw then
        call('DEL', $k)
      end
    end`,
    reply: ['@tat or NAN'],
    refund: `
    do
      local tat = max(now, max(@tat or now, now) - amount * #1)
      if tat - now > 0 then
        call('SET', $k, spack('<d', tat), 'PX', ${ttlText('tat - now')})
      elseif @raw then
        call('DEL', $k)
      end
    end`,
  },
  fw: {
    // u: usage before; n: INCRBY's answer; g: read as text, written at the commit; c: charged;
    // e: expiry set by the clock's INCRBY.
    read: '',
    decide: '',
    commit: `
    if @g then
      call('SET', $k, fmt('%.17g', @u + amount))
      if server then call('PEXPIREAT', $k, fmt('%d', #3))
      else call('PEXPIRE', $k, ${ttlText('#3 - now')}) end
    end`,
    reply: ['@u'],
    refund: `
    if charged >= #2 then
      local n = whole and #1 < ${EXACT} and rpcall('DECRBY', $k, atext)
      if type(n) == 'number' then
        if n <= 0 then call('DEL', $k) end
      else
        local used = tonumber(call('GET', $k)) or 0
        local left = used - min(used, amount)
        if left > 0 then
          call('SET', $k, fmt('%.17g', left))
          if server then call('PEXPIREAT', $k, fmt('%d', #3))
          else call('PEXPIRE', $k, ${ttlText('#3 - now')}) end
        elseif used ~= 0 then
          call('DEL', $k)
        end
      end
    end`,
  },
  sw: {
    read: `
    @raw = %get('GET', $k)
    if @raw and #@raw == 24 then @sa, @sc, @sp = sunpack('<ddd', @raw) elseif @raw then %far@raw = false end`,
    decide: `
    @st = floor(now / #2) * #2
    @cur, @prev = 0, 0
    if @raw then
      if @sa == @st then @cur, @prev = @sc, @sp elseif @sa == @st - #2 then @prev = @sc end
    end
    if @prev * ((#2 - (now - @st)) / #2) + @cur + amount > #1 then ok = false end`,
    commit: `
    call('SET', $k, spack('<ddd', @st, @cur + amount, @prev), 'PX', fmt('%d', #3))`,
    reply: ['@sa or NAN', '@sc or 0', '@sp or 0'],
    refund: `
    do
      local st = floor(now / #2) * #2
      local cur, prev = 0, 0
      if @raw then
        if @sa == st then cur, prev = @sc, @sp elseif @sa == st - #2 then prev = @sc end
      end
      if charged >= st then
        cur = cur - min(cur, amount)
      elseif charged >= st - #2 then
        prev = prev - min(prev, amount)
      end
      if cur > 0 or prev > 0 then
        call('SET', $k, spack('<ddd', st, cur, prev), 'PX', fmt('%d', #3))
      elseif @raw then
        call('DEL', $k)
      end
    end`,
  },
  sl: {
    read: `
    @raw = %get('GET', $k)
    if @raw and (#@raw == 0 or #@raw % 16 ~= 0) then %far@raw = false end`,
    decide: `
    @e, @used = {}, 0
    if @raw then
      for j = 1, #@raw - 15, 16 do
        local at, c = sunpack('<dd', @raw, j)
        if at > now - #2 then
          @e[#@e + 1] = at
          @e[#@e + 1] = c
          @used = @used + c
        end
      end
    end
    if @used + amount > #1 then ok = false end`,
    commit: `
    do
      local e = @e
      local n = #e
      -- Charges of one millisecond share an entry: their units leave the window together.
      if n > 0 and e[n - 1] == now then
        e[n] = e[n] + amount
      else
        e[n + 1] = now
        e[n + 2] = amount
        n = n + 2
      end
      local parts = {}
      for j = 1, n do parts[j] = spack('<d', e[j]) end
      call('SET', $k, table.concat(parts), 'PX', ${ttlText('e[n - 1] + #2 - now')})
    end`,
    reply: ['@raw and #@raw / 8 or 0'],
    refund: `
    do
      local e = {}
      if @raw then
        for j = 1, #@raw - 15, 16 do
          local at, c = sunpack('<dd', @raw, j)
          if at > now - #2 then
            e[#e + 1] = at
            e[#e + 1] = c
          end
        end
      end
      -- The units charged at the decision's instant, from every entry of that millisecond.
      local back = 0
      local j = #e - 1
      while j >= 1 and back < amount do
        if e[j] == charged then
          local take = min(amount - back, e[j + 1])
          back = back + take
          e[j + 1] = e[j + 1] - take
          if e[j + 1] == 0 then
            table.remove(e, j)
            table.remove(e, j)
          end
        end
        j = j - 2
      end
      local n = #e
      if n > 0 then
        local parts = {}
        for k = 1, n do parts[k] = spack('<d', e[k]) end
        call('SET', $k, table.concat(parts), 'PX', ${ttlText('e[n - 1] + #2 - now')})
      elseif @raw then
        call('DEL', $k)
      end
    end`,
  },
};

/** The fixed-window charge of dimension `j` (INCRBY, or read as text), and how to take it back. */
const FW_CHARGE = `
    if @n == nil then @n = ok and whole and #1 < ${EXACT} and rpcall('INCRBY', $k, atext) end
    if type(@n) == 'number' then
      @u = @n - amount
      if @n > #1 then
        ok = false
        if @u == 0 then call('DEL', $k) else call('DECRBY', $k, atext) end
      else
        -- The server's time: the counter expires when the window ends. The caller's: what is left
        -- of the window as the caller sees it, renewed on every charge (its clock need not run
        -- at Redis's pace).
        if not server then call('PEXPIRE', $k, ${ttlText('#3 - now')})
        elseif @u == 0 and not @e then call('PEXPIREAT', $k, fmt('%d', #3)) end
        @c = true
      end
    else
      @u = tonumber(call('GET', $k)) or 0
      if ok and amount > 0 then
        @g = true
        if @u + amount > #1 then ok = false end
      end
    end`;

const FW_UNDO = `
    if @c then
      if @u == 0 then call('DEL', $k) else call('DECRBY', $k, atext) end
    end`;

/**
 * The script for one policy shape: the codes (`tb`, `fw`, …) of its dimensions, in order.
 *
 * `single`: the script of a call that carries one consume at the server's time (what `batchSize:
 * 1`, and any call alone in its tick, sends). Same arguments and reply, but none of the loop over
 * operations, the operation code's decoding or the refund and reset paths: the Lua a decision
 * runs is the decision's alone.
 *
 * `crossSlot`: the script of a call that carries operations of several slots served by one Cluster
 * master (Redis ≥ 7.0). It declares no keys: they follow the argument string in ARGV (`ARGV[2]`
 * on), so the server's check that a call's declared keys share a slot does not apply, and the
 * shebang flag lets the script touch keys of several slots. A key of a slot this node does not
 * serve (or no longer holds: a slot on the move) makes any command on it fail, so each operation
 * learns that all its keys are here before it writes anything, in protected mode (`rpcall`): a
 * consume from its reads (which come first) and, for fixed windows' counters, which are written
 * before anything reads them, from one `EXISTS` of those (a lone window: from its `INCRBY`, which
 * a key not here refuses); a refund or a reset from one `EXISTS` of all its keys. When one is not,
 * the operation is skipped and answered `NOT_LOCAL`, and the later ones still run. Each
 * operation's keys share one slot (its hash tag).
 */
export function limitScript(shape: readonly string[], single = false, crossSlot = false): string {
  if (single && crossSlot) throw new TypeError('A cross-slot script carries a batch');
  const dims = shape.length;
  const inTable = dims > MAX_LOCAL_DIMENSIONS;
  const kinds = shape.map((code) => {
    const kind = KINDS[code];
    if (kind === undefined) throw new TypeError(`Unknown algorithm code ${code}`);
    return kind;
  });
  // Per-dimension variables: locals `name_j`, or slots of the table V for large shapes.
  const slots = new Map<string, string>();
  const declared: string[] = [];
  const varOf = (name: string, j: number): string => {
    const id = `${name}_${String(j)}`;
    let ref = slots.get(id);
    if (ref === undefined) {
      ref = inTable ? `V[${String(slots.size + 1)}]` : id;
      slots.set(id, ref);
      if (!inTable) declared.push(id);
    }
    return ref;
  };
  const param = (n: number, j: number): string =>
    inTable ? `P[${String(3 + (j - 1) * PARAMS + n)}]` : `p${String(n)}_${String(j)}`;
  const fill = (code: string, j: number): string =>
    code
      .replace(/%get/g, crossSlot ? 'rpcall' : 'call')
      .replace(/%far/g, crossSlot ? "if type(@raw) == 'table' then far = true end " : '')
      .replace(/@([a-z]+)/g, (_, name: string) => varOf(name, j))
      .replace(/#([1-3])/g, (_, n: string) => param(Number(n), j))
      .replace(/\$k/g, `k_${String(j)}`);
  const each = (part: (kind: Kind, code: string, j: number) => string): string =>
    kinds.map((kind, i) => part(kind, shape[i] as string, i + 1)).join('');
  const fixed = shape.includes('fw');
  const allFixed = shape.every((code) => code === 'fw');
  // A cross-slot consume of one fixed window: its INCRBY (protected) comes first and is its check.
  const lone = crossSlot && allFixed && dims === 1;
  const firstBucket = shape.indexOf('tb') + 1;

  // Bodies first (they declare the variables they use).
  const reads = each((kind, _code, j) => fill(kind.read, j));
  const decide = each((kind, _code, j) => fill(kind.decide, j));
  const charge = each((_kind, code, j) => (code === 'fw' ? fill(FW_CHARGE, j) : ''));
  const undo = each((_kind, code, j) => (code === 'fw' ? fill(FW_UNDO, j) : ''));
  const commit = each((kind, _code, j) => fill(kind.commit, j));
  const refund = each((kind, _code, j) => fill(kind.refund, j));
  const window = fixed
    ? `
    if ${shape
      .map((code, i) => (code === 'fw' ? `now < ${param(2, i + 1)} or now >= ${param(3, i + 1)}` : ''))
      .filter((c) => c !== '')
      .join(' or ')} then mismatch = true end`
    : '';
  // The clock of a consume: the first bucket's expiry, or (fixed windows only) the first counter's.
  let clockConsume = '';
  if (firstBucket > 0) {
    clockConsume = fill(
      `
    if now == nil and @x then
      local ttl = call('PTTL', $k)
      if ttl >= 0 then now = @x - ttl end
    end`,
      firstBucket,
    );
  } else if (allFixed) {
    clockConsume = fill(
      `
    if now == nil then${
      lone
        ? ''
        : `
      @n = ok and whole and #1 < ${EXACT} and rpcall('INCRBY', $k, atext)`
    }
      if type(@n) == 'number' and @n - amount == 0 then
        call('PEXPIREAT', $k, fmt('%d', #3))
        @e = true
      end
      if type(@n) == 'number' then
        local ttl = call('PTTL', $k)
        if ttl >= 0 then now = #3 - ttl end
      end
    end`,
      1,
    );
  }
  const earlyUndo = allFixed
    ? fill(
        `
      if type(@n) == 'number' then
        if @n - amount == 0 then call('DEL', $k) else call('DECRBY', $k, atext) end
      end`,
        1,
      )
    : '';
  const replyDoubles = kinds.flatMap((kind, i) => kind.reply.map((expr) => fill(expr, i + 1)));
  const logs = shape.flatMap((code, i) => (code === 'sl' ? [fill("(@raw or '')", i + 1)] : []));
  const replyFormat = `<dd${'d'.repeat(replyDoubles.length)}`;
  const record = `<ddd${'ddd'.repeat(dims)}`;
  const paramList = Array.from({ length: dims }, (_, i) => [1, 2, 3].map((n) => param(n, i + 1)).join(', ')).join(', ');
  // code = op + 4 × number of keys; a refund's chargedAt follows its record.
  const header = inTable
    ? `  local P = { sunpack('${record}', A, pos) }
  pos = P[${String(3 + dims * PARAMS + 1)}]
  local code, amount, now = P[1], P[2], P[3]
  local V = {}`
    : `  local code, amount, now, ${paramList}
  code, amount, now, ${paramList}, pos = sunpack('${record}', A, pos)`;
  const keys = Array.from({ length: dims }, (_, i) => `k_${String(i + 1)}`);
  const locals = declared.length > 0 ? `  local ${declared.join(', ')}\n` : '';

  const wholeAmount = fixed
    ? `  local whole = amount > 0 and amount % 1 == 0 and amount < ${EXACT}
  local atext = whole and (amount == 1 and '1' or fmt('%d', amount))
`
    : '';
  // Cross-slot: whether every key of the consume is served here, known before anything is written.
  // Reads answer it for the dimensions that read; a fixed window's counter is written first, so a
  // protected EXISTS answers it for those (a lone window's INCRBY does: only a reply other than a
  // count, which a key that is here but holds a fraction gives too, needs the EXISTS).
  const fwKeys = shape.flatMap((code, i) => (code === 'fw' ? [`k_${String(i + 1)}`] : []));
  const check = !crossSlot
    ? ''
    : lone
      ? fill(
          `
    @n = whole and #1 < ${EXACT} and rpcall('INCRBY', $k, atext)
    if type(@n) ~= 'number' and type(rpcall('EXISTS', $k)) ~= 'number' then far = true end`,
          1,
        )
      : fixed
        ? `
    if not far and type(rpcall('EXISTS', ${fwKeys.join(', ')})) ~= 'number' then far = true end`
        : '';
  const decision = `${clockConsume}
    if now == nil then
      local t = call('TIME')
      now = t[1] * 1000 + floor(t[2] / 1000)
    end
    if server then clock = now end${window}
    if mismatch then${earlyUndo}
      r = spack('<dd', now, 2)
    else${decide}${charge}
      if not ok then${undo}
      end
      if ok and amount > 0 then${commit}
      end
      r = spack('${replyFormat}', now, ok and 1 or 0, ${replyDoubles.join(', ')})${logs.map((l) => ` .. ${l}`).join('')}
    end`;
  const consume = crossSlot
    ? `${reads}${check}
    if far then
      r = spack('<dd', 0, ${String(NOT_LOCAL)})
    else${decision}
    end`
    : `${reads}${decision}`;
  // A call's keys: KEYS, or ARGV after the argument string (cross-slot).
  const keyAt = (index: string): string => (crossSlot ? `ARGV[1 + ${index}]` : `KEYS[${index}]`);
  const keyList = (base: string): string =>
    `  local ${keys.join(', ')} = ${keys.map((_, i) => keyAt(`${base}${String(i + 1)}`)).join(', ')}
`;
  if (single) {
    // The record after the call's header (1, the operation count) and the operation's code and
    // time (a consume, NaN), both known here: only the amount and parameters are read.
    return withPrelude(`local pos, clock = 9, nil
${header}
${keyList('')}${locals}  local server = true
  now = nil
${wholeAmount}  local ok, mismatch, r = true, false, nil
  do
${consume}
  end
  return r
`);
  }
  return withPrelude(
    `local nops, pos = sunpack('<d', A)
local clock, out, kb = nil, nil, 0
for _ = 1, nops do
${header}
${keyList('kb + ')}${locals}  local op = code % 4
  local nk = (code - op) / 4
  local charged = 0
  if op == 1 then charged, pos = sunpack('<d', A, pos) end
  local server = now ~= now
  if server then now = clock end
${wholeAmount}  local ok, mismatch, r${crossSlot ? ', far' : ''} = true, false, nil${crossSlot ? ', false' : ''}
  if op == 0 then
${consume}${
      crossSlot
        ? `
  elseif type(rpcall('EXISTS', unpack(ARGV, 2 + kb, 1 + kb + nk))) ~= 'number' then
    r = spack('<dd', 0, ${String(NOT_LOCAL)})`
        : ''
    }
  else
    if op == 1 then${reads}
    end
    if now == nil${fixed ? '' : ' and op == 1'} then
      local t = call('TIME')
      now = t[1] * 1000 + floor(t[2] / 1000)
      clock = now
    end${window}
    if mismatch then
      r = spack('<dd', now, 2)
    elseif op == 1 then${refund}
      r = spack('<dd', now, 1)
    else
      for i = 1, nk do call('DEL', ${keyAt('kb + i')}) end
      r = spack('<dd', now or 0, 1)
    end
  end
  if nops == 1 then return r end
  out = out or {}
  out[#out + 1] = r
  if mismatch then break end
  kb = kb + nk
end
return table.concat(out)
`,
    crossSlot,
  );
}

/** What scripts take from Lua's libraries, as locals: each is a global lookup and a field's. */
const LIBRARY: readonly (readonly [string, string])[] = [
  ['call', 'redis.call'],
  ['rpcall', 'redis.pcall'],
  ['fmt', 'string.format'],
  ['type', 'type'],
  ['tonumber', 'tonumber'],
  ['sunpack', 'struct.unpack'],
  ['spack', 'struct.pack'],
  ['floor', 'math.floor'],
  ['ceil', 'math.ceil'],
  ['min', 'math.min'],
  ['max', 'math.max'],
  ['NAN', '0 / 0'],
  ['unpack', 'unpack'],
];

/** `body` after the locals it uses of {@link LIBRARY} (a script runs its whole prelude every call). */
function withPrelude(body: string, crossSlot = false): string {
  const used = LIBRARY.filter(([name]) => new RegExp(`\\b${name}\\b`).test(body));
  const prelude =
    used.length === 0
      ? ''
      : `local ${used.map(([name]) => name).join(', ')} = ${used.map(([, value]) => value).join(', ')}\n`;
  return `${crossSlot ? `${CROSS_SLOT_FLAG}\n` : ''}local A = ARGV[1]\n${prelude}${body}`;
}
