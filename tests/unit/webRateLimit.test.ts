import assert from 'node:assert/strict';
import { TokenBucketLimiter } from '../../web/src/rateLimit';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('web token bucket rate limiter', () => {
  it('allows a burst of `capacity`, then refuses with the seconds until the next token', () => {
    const c = clock();
    const limiter = new TokenBucketLimiter({ capacity: 3, refillPerSecond: 0.5, now: c.now });
    assert.deepEqual(limiter.take('u1'), { allowed: true, remaining: 2 });
    assert.deepEqual(limiter.take('u1'), { allowed: true, remaining: 1 });
    assert.deepEqual(limiter.take('u1'), { allowed: true, remaining: 0 });
    // One token takes 2 s at 0.5/s.
    assert.deepEqual(limiter.take('u1'), { allowed: false, retryAfterSeconds: 2 });
    c.advance(1500);
    assert.deepEqual(limiter.take('u1'), { allowed: false, retryAfterSeconds: 1 });
    c.advance(500);
    assert.deepEqual(limiter.take('u1'), { allowed: true, remaining: 0 });
  });

  it('keeps keys apart', () => {
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 1, now: clock().now });
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
    assert.equal(limiter.take('b').allowed, true);
  });

  it('refills no further than capacity', () => {
    const c = clock();
    const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSecond: 1, now: c.now });
    limiter.take('u');
    c.advance(60_000);
    assert.deepEqual(limiter.take('u'), { allowed: true, remaining: 1 });
    assert.deepEqual(limiter.take('u'), { allowed: true, remaining: 0 });
    assert.equal(limiter.take('u').allowed, false);
  });

  it('ignores a clock that goes backwards', () => {
    const c = clock();
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 1, now: c.now });
    limiter.take('u');
    c.advance(-10_000);
    assert.equal(limiter.take('u').allowed, false);
  });

  it('forgets the least recently used keys beyond maxKeys', () => {
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 0.001, maxKeys: 2, now: clock().now });
    limiter.take('a');
    limiter.take('b');
    limiter.take('a'); // refused, but touches a: b is now the oldest
    limiter.take('c');
    assert.equal(limiter.size, 2);
    assert.equal(limiter.take('a').allowed, false, 'a is still tracked and empty');
    assert.equal(limiter.take('b').allowed, true, 'b was forgotten and starts full');
  });

  it('rejects nonsensical settings', () => {
    assert.throws(() => new TokenBucketLimiter({ capacity: 0, refillPerSecond: 1 }), /capacity/);
    assert.throws(() => new TokenBucketLimiter({ capacity: 1, refillPerSecond: 0 }), /refillPerSecond/);
  });
});
