import { describe, expect, it } from 'vitest'
import {
  LFU_COUNTER_MAX,
  LFU_INIT_VAL,
  LRU_CLOCK_MAX,
  estimateIdleTime,
  lfuCounter,
  lfuDecrAndReturn,
  lfuInit,
  lfuLogIncr,
  lfuTimeElapsed,
  lfuTimeInMinutes,
  lfuTouch,
  lruClock,
} from '../lib/lru.js'

// A seeded generator so the LFU figures are reproducible run to run.
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 4294967296
  }
}

function hits(n: number, logFactor: number, seed: number): number {
  const random = xorshift(seed)
  let counter = LFU_INIT_VAL
  for (let i = 0; i < n; i++) counter = lfuLogIncr(counter, logFactor, random())
  return counter
}

describe('LRU clock', () => {
  it('is the wall clock in ms modulo 2^32', () => {
    expect(lruClock(0)).toBe(0)
    expect(lruClock(1234)).toBe(1234)
    expect(lruClock(2 ** 32 + 7)).toBe(7)
    expect(lruClock(1_700_000_000_123)).toBe(1_700_000_000_123 % 2 ** 32)
  })

  it('estimates idle time in ms, across one wrap-around', () => {
    expect(estimateIdleTime(5000, 2000)).toBe(3000)
    expect(estimateIdleTime(2000, 2000)).toBe(0)
    // The stamp was taken just before the clock wrapped: 10 ticks before the wrap plus 20 after.
    expect(estimateIdleTime(20, LRU_CLOCK_MAX - 10)).toBe(30)
    const before = lruClock(2 ** 32 - 100)
    const after = lruClock(2 ** 32 + 400)
    expect(estimateIdleTime(after, before)).toBe(499)
  })
})

describe('LFU counter', () => {
  it('starts at LFU_INIT_VAL with the current minutes stamp', () => {
    const t = 90 * 60000 + 5
    expect(lfuCounter(lfuInit(t))).toBe(LFU_INIT_VAL)
    expect(lfuInit(t) >>> 8).toBe(90)
  })

  it("grows like Redis's table for log factor 10: 100 / 1,000 / 100,000 hits give about 10 / 18 / 142", () => {
    // Redis's table (redis.conf) is one run; the counter is random, so compare the mean of 20 seeded runs.
    const mean = (n: number): number => {
      let sum = 0
      for (let seed = 1; seed <= 20; seed++) sum += hits(n, 10, seed * 7919)
      return sum / 20
    }
    expect(Math.abs(mean(100) - 10)).toBeLessThanOrEqual(1.5)
    expect(Math.abs(mean(1000) - 18)).toBeLessThanOrEqual(2)
    expect(Math.abs(mean(100_000) - 142)).toBeLessThanOrEqual(8)
  })

  it("matches Redis's table for other log factors and saturates at 255", () => {
    expect(hits(1_000_000, 10, 7)).toBe(LFU_COUNTER_MAX)
    expect(Math.abs(hits(100, 1, 7) - 18)).toBeLessThanOrEqual(3)
    expect(hits(1000, 0, 7)).toBe(LFU_COUNTER_MAX)
    expect(lfuLogIncr(255, 10, 0)).toBe(255)
  })

  it('always increments at or below the initial value', () => {
    expect(lfuLogIncr(0, 10, 0.999)).toBe(1)
    expect(lfuLogIncr(LFU_INIT_VAL, 10, 0.999)).toBe(LFU_INIT_VAL + 1)
    // p = 1/((6-5)*10+1) = 1/11
    expect(lfuLogIncr(6, 10, 1 / 11 - 1e-9)).toBe(7)
    expect(lfuLogIncr(6, 10, 1 / 11 + 1e-9)).toBe(6)
  })

  it('decays by one per lfu-decay-time minutes, never below zero', () => {
    const t0 = 1000 * 60000
    const packed = ((lfuTimeInMinutes(t0) << 8) | 20) >>> 0
    expect(lfuDecrAndReturn(packed, t0 + 59_999, 1)).toBe(20)
    expect(lfuDecrAndReturn(packed, t0 + 60_000, 1)).toBe(19)
    expect(lfuDecrAndReturn(packed, t0 + 10 * 60_000, 1)).toBe(10)
    expect(lfuDecrAndReturn(packed, t0 + 10 * 60_000, 2)).toBe(15)
    expect(lfuDecrAndReturn(packed, t0 + 60 * 60_000, 1)).toBe(0)
    expect(lfuDecrAndReturn(packed, t0 + 60 * 60_000, 0)).toBe(20)
  })

  it('handles the 16-bit minutes stamp wrapping', () => {
    expect(lfuTimeElapsed(3, 65534)).toBe(5)
    expect(lfuTimeElapsed(10, 4)).toBe(6)
    const t = 65534 * 60000
    const packed = ((lfuTimeInMinutes(t) << 8) | 9) >>> 0
    expect(lfuDecrAndReturn(packed, t + 3 * 60000, 1)).toBe(6)
  })

  it('touch decays, increments and restamps', () => {
    const t0 = 500 * 60000
    const packed = ((lfuTimeInMinutes(t0) << 8) | 12) >>> 0
    const later = t0 + 2 * 60000
    const touched = lfuTouch(packed, later, 10, 1, 0) // random 0 always increments
    expect(lfuCounter(touched)).toBe(11)
    expect(touched >>> 8).toBe(lfuTimeInMinutes(later))
  })
})
