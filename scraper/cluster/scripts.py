"""The Lua scripts that change a distributed crawl's shared state, each one atomic on the Redis server.
Every script takes its stats keys as arguments: the names live in scraper.summary, not here."""

from __future__ import annotations

# URL states in a book (SharedBook): waiting for its outcome, known to the archive (settled, but a sitemap's <lastmod>
# may still ask for a fetch), settled.
PENDING = "P"
KNOWN = "K"
SETTLED = "T"

# Shared by the book scripts. KEYS: book, current generation, previous generation. With a limit (ARGV[3] > 0) the
# settled URLs go to the current generation, which becomes the previous one (the older one forgotten) at limit/2.
_BOOK = """
local limit = tonumber(ARGV[3])
local function lookup(url)
  local state = redis.call('HGET', KEYS[1], url)
  if state or limit == 0 then return state end
  return redis.call('HGET', KEYS[2], url) or redis.call('HGET', KEYS[3], url)
end
local function settle(url, state)
  if limit == 0 then
    redis.call('HSET', KEYS[1], url, state)
    return
  end
  redis.call('HDEL', KEYS[1], url)
  redis.call('HSET', KEYS[2], url, state)
  if redis.call('HLEN', KEYS[2]) * 2 >= limit then
    redis.call('RENAME', KEYS[2], KEYS[3])
  end
end
"""

# A URL found: recorded in the state ARGV[2] unless the book knows it; then the stats keys ARGV[4..] are incremented
# in KEYS[4]. Returns '+' for a new URL, else the state it has.
FOUND = (
    _BOOK
    + """
local known = lookup(ARGV[1])
if known then return known end
if ARGV[2] == 'P' then redis.call('HSET', KEYS[1], ARGV[1], 'P') else settle(ARGV[1], ARGV[2]) end
for i = 4, #ARGV do redis.call('HINCRBY', KEYS[4], ARGV[i], 1) end
return '+'
"""
)

# A known URL to fetch after all (a sitemap's <lastmod> is later than the archived fetch): K -> P, the stats key
# ARGV[4] decremented and ARGV[5] incremented. Returns 1 if it was known, 0 otherwise.
FLIP = (
    _BOOK
    + """
if lookup(ARGV[1]) ~= 'K' then return 0 end
if limit > 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[1], 'P')
redis.call('HINCRBY', KEYS[4], ARGV[4], -1)
redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
return 1
"""
)

# A URL's outcome, once it is durable: P -> settled, the stats keys ARGV[4..] incremented, and the lease ARGV[2] on
# its request (if any) given up in the worker's processing set KEYS[5], in the same step. Returns 1 if the URL was
# waiting, 0 if it was settled already (a request done twice after a worker was taken for dead).
SETTLE = (
    _BOOK
    + """
if ARGV[2] ~= '' then redis.call('ZREM', KEYS[5], ARGV[2]) end
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'P' then return 0 end
settle(ARGV[1], 'T')
for i = 4, #ARGV do redis.call('HINCRBY', KEYS[4], ARGV[i], 1) end
return 1
"""
)

# Take the first request of the queue KEYS[1] into the worker's processing set KEYS[2], with its score.
POP = """
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return false end
redis.call('ZREM', KEYS[1], first[1])
redis.call('ZADD', KEYS[2], first[2], first[1])
return first[1]
"""

# Push a request (ARGV[2], score ARGV[1]) into the queue KEYS[1]; a request that continues a leased one (a retry, a
# redirect) gives up that lease (ARGV[3], in the processing set KEYS[2]) in the same step.
PUSH = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('ZREM', KEYS[2], ARGV[3]) end
return 1
"""

# Give a dead (or leaving) worker's unfinished requests back: processing set KEYS[1] -> queue KEYS[2], scores kept.
REQUEUE = """
local held = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #held, 2 do redis.call('ZADD', KEYS[2], held[i + 1], held[i]) end
redis.call('DEL', KEYS[1])
return #held / 2
"""

# Claim article ARGV[1] for this crawl: KEYS claims, index, the worker's pending claims. ARGV[2] is the text's
# SHA-256, ARGV[3] the claim (JSON: url, worker, entry: the IndexEntry list without its version). Returns
# {'claimed', claim} if a worker of this crawl has it already, else {decision, version} against the committed index;
# the claim (url, worker, decision, version) is kept for the crawl, with its entry among the pending claims until the
# record's file is committed.
CLAIM = """
local claimed = redis.call('HGET', KEYS[1], ARGV[1])
if claimed then return {'claimed', claimed} end
local decision, version = 'new', 1
local latest = redis.call('HGET', KEYS[2], ARGV[1])
if latest then
  local entry = cjson.decode(latest)
  if entry[1] == ARGV[2] then decision, version = 'unchanged', entry[2] else decision, version = 'new_version', entry[2] + 1 end
end
local claim = cjson.decode(ARGV[3])
claim.decision = decision
claim.version = version
claim.entry[2] = version
if decision ~= 'unchanged' then redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(claim)) end
claim.entry = nil  -- the claims of the crawl say who and what; the entry waits in the pending claims only
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(claim))
return {decision, tostring(version)}
"""

# The records of articles ARGV[2..] are in the committed file ARGV[1]: their pending claims (KEYS[1]) become the
# latest committed versions in the index (KEYS[2]).
PROMOTE = """
local promoted = 0
for i = 2, #ARGV do
  local pending = redis.call('HGET', KEYS[1], ARGV[i])
  if pending then
    local entry = cjson.decode(pending).entry
    entry[9] = ARGV[1]
    redis.call('HSET', KEYS[2], ARGV[i], cjson.encode(entry))
    redis.call('HDEL', KEYS[1], ARGV[i])
    promoted = promoted + 1
  end
end
return promoted
"""

# A dead worker's pending claims (KEYS[1]) whose records never reached a committed file: gone from the claims
# (KEYS[2]), so that the article is handled again when its request is.
DROP_CLAIMS = """
for i = 1, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return #ARGV
"""

# Take one of PORTAL_CLUSTER_CONCURRENCY slots (ARGV[1]) in KEYS[1] for ARGV[3] ms as member ARGV[2], named
# `<lease key of its worker>|<number>`, in turn: requests waiting for a slot queue in KEYS[2] in the order they first
# asked (numbered by the counter `<KEYS[2]>:turns`), so that a worker whose requests free slots does not take them all
# again. Slots and turns of a worker whose
# lease is gone (it died), and slots past their time, are freed first. Returns 1 if the request got a slot.
ACQUIRE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
for _, key in ipairs(KEYS) do
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    local lease = string.match(member, '^(.*)|')
    if lease and redis.call('EXISTS', lease) == 0 then redis.call('ZREM', key, member) end
  end
end
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[2] .. ':turns'), ARGV[2])
end
local free = tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1])
if free <= 0 or redis.call('ZRANK', KEYS[2], ARGV[2]) >= free then return 0 end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[3]), ARGV[2])
return 1
"""

# The crawl is over when it runs (KEYS[1] phase), its queue (KEYS[2]) is empty and no worker of KEYS[3] holds a
# request (processing sets under the prefix ARGV[1]): the phase becomes done. Returns 1 if it is (or was) done.
FINISH = """
local phase = redis.call('HGET', KEYS[1], 'phase')
if phase == 'done' then return 1 end
if phase ~= 'running' or redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
for _, worker in ipairs(redis.call('HKEYS', KEYS[3])) do
  if redis.call('ZCARD', ARGV[1] .. ':processing:' .. worker) > 0 then return 0 end
end
redis.call('HSET', KEYS[1], 'phase', 'done')
return 1
"""

# A generation of a book's dupefilter (scrapy-redis's request fingerprints, bounded): seen if in KEYS[1] or KEYS[2];
# else added to KEYS[1], which becomes KEYS[2] at ARGV[2]/2 fingerprints. Returns 1 if seen.
SEEN = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 1 end
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 1 end
if redis.call('SCARD', KEYS[1]) * 2 >= tonumber(ARGV[2]) then redis.call('RENAME', KEYS[1], KEYS[2]) end
return 0
"""
