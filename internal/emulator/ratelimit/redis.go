package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a fixed-window limiter and concurrency-cap store shared by
// emulator replicas through one Redis (or Redis Cluster). Each decision is
// one atomic Lua script on one key, so replicas never over-admit between
// them; keys carry a hash tag, so a cluster keeps each on one slot.
//
// Windows and leases run on Redis's clock, not the caller's: that is what
// makes them agree across replicas. The now argument of Allow is ignored.
// Redis is safe for concurrent use.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedis returns a limiter on c. prefix namespaces its keys (default
// "floodgate"), so several emulators may share a Redis.
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = "floodgate"
	}
	return &Redis{c: c, prefix: prefix}
}

// allowScript counts one request in the key's window if it has room.
// Refused requests are not counted (as in Memory). The window starts at
// the key's first request and lasts ARGV[2] ms.
//
//	KEYS[1] window counter; ARGV[1] limit; ARGV[2] window (ms)
//	returns {allowed 0|1, count, ms to reset}
var allowScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return {0, n - 1, ttl}
end
return {1, n, ttl}
`)

// Allow implements the emulator's Limiter: one atomic decision for key.
func (r *Redis) Allow(ctx context.Context, key string, limit int, win time.Duration, _ time.Time) (Decision, error) {
	ms := max(win.Milliseconds(), 1)
	res, err := allowScript.Run(ctx, r.c, []string{r.prefix + ":rl:{" + key + "}"}, limit, ms).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 3 {
		return Decision{}, errors.New("ratelimit: redis: unexpected script reply")
	}
	return Decision{Allowed: res[0] == 1, Count: int(res[1]), Limit: limit, Reset: max(time.Duration(res[2])*time.Millisecond, time.Millisecond)}, nil
}

// acquireScript admits one more in-flight request under the cap if there
// is room. Holders are members of a sorted set scored by lease expiry, so
// a replica that dies holding slots frees them when their leases end.
//
//	KEYS[1] holders; ARGV[1] limit; ARGV[2] lease (ms); ARGV[3] holder id
//	returns the number in flight after the call, negated when refused
var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[1]) then
  return -n
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n + 1
`)

// Acquire takes one of limit concurrent slots for key, held until release
// is called or lease passes. ok is false (and release nil) when all limit
// slots are taken.
func (r *Redis) Acquire(ctx context.Context, key string, limit int, lease time.Duration, holder string) (release func(), ok bool, err error) {
	zkey := r.prefix + ":cap:{" + key + "}"
	n, err := acquireScript.Run(ctx, r.c, []string{zkey}, limit, max(lease.Milliseconds(), 1), holder).Int64()
	if err != nil {
		return nil, false, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if n < 0 || (n == 0 && limit <= 0) {
		return nil, false, nil
	}
	return func() {
		// A fresh context: the request's may already be done, and the
		// slot must be given back either way.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r.c.ZRem(ctx, zkey, holder)
	}, true, nil
}

// Reset forgets every window and slot under the prefix.
func (r *Redis) Reset(ctx context.Context) error {
	var cursor uint64
	for {
		keys, next, err := r.c.Scan(ctx, cursor, r.prefix+":*", 1000).Result()
		if err != nil {
			return fmt.Errorf("ratelimit: redis reset: %w", err)
		}
		for _, k := range keys {
			if err := r.c.Del(ctx, k).Err(); err != nil {
				return fmt.Errorf("ratelimit: redis reset: %w", err)
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// String describes the limiter without credentials.
func (r *Redis) String() string { return "redis(prefix " + strconv.Quote(r.prefix) + ")" }
