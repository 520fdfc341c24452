import { describe, expect, it } from 'vitest'
import { COUNTER_MAX, FrequencySketch } from '../lib/sketch.js'

// Distinct, well-spread 32-bit hashes, as Dict.hashKey gives.
const hash = (i: number): number => {
  let h = Math.imul(i + 1, 0x9e3779b1)
  h ^= h >>> 16
  return Math.imul(h, 0x85ebca6b) | 0
}

describe('FrequencySketch', () => {
  it('estimates request counts: never below the truth, exact for a few keys in a roomy sketch', () => {
    const s = new FrequencySketch(1000)
    for (let k = 0; k < 50; k++) for (let r = 0; r < k % 10; r++) s.increment(hash(k))
    for (let k = 0; k < 50; k++) expect(s.estimate(hash(k))).toBe(k % 10)
    expect(s.estimate(hash(999_999))).toBe(0)
  })

  it('counts the first request in the doorkeeper and the following ones in the counters', () => {
    const s = new FrequencySketch(100)
    s.increment(hash(1))
    expect(s.estimate(hash(1))).toBe(1)
    expect(s.additions).toBe(1)
    s.increment(hash(1))
    expect(s.estimate(hash(1))).toBe(2)
  })

  it('saturates at COUNTER_MAX + 1 without overflowing into neighbouring counters', () => {
    const s = new FrequencySketch(10_000)
    for (let r = 0; r < 100; r++) s.increment(hash(7))
    expect(s.estimate(hash(7))).toBe(COUNTER_MAX + 1)
    // Every other key still reads (nearly) zero: a carry out of a nibble would have shown up in some of them.
    let stray = 0
    for (let k = 100; k < 2100; k++) stray += s.estimate(hash(k))
    expect(stray).toBeLessThanOrEqual(2)
    for (const word of s.table) for (let n = 0; n < 32; n += 4) expect((word >>> n) & 0xf).toBeLessThanOrEqual(COUNTER_MAX)
  })

  it('halves every counter and clears the doorkeeper after sampleSize increments', () => {
    const s = new FrequencySketch(16)
    expect(s.sampleSize).toBe(160)
    for (let r = 0; r < 9; r++) s.increment(hash(1))
    expect(s.estimate(hash(1))).toBe(9)
    let i = 0
    while (s.resets === 0) s.increment(hash(1000 + (i++ % 400)))
    expect(i).toBe(160 - 9)
    // 8 in the counters, halved to 4; the doorkeeper's 1 is gone (the other keys may add a little by collision).
    expect(s.estimate(hash(1))).toBeGreaterThanOrEqual(4)
    expect(s.estimate(hash(1))).toBeLessThanOrEqual(5)
    expect(s.additions).toBe(80)
  })

  it('keeps estimates (never lowering them) across a resize, and counts its bytes', () => {
    const s = new FrequencySketch(1000)
    expect(s.byteLength).toBe(1000 * 4 + 250 * 4)
    for (let k = 0; k < 20; k++) for (let r = 0; r < 5; r++) s.increment(hash(k))
    const before = Array.from({ length: 20 }, (_, k) => s.estimate(hash(k)))
    s.resize(3000)
    expect(s.byteLength).toBe(3000 * 4 + 750 * 4)
    for (let k = 0; k < 20; k++) expect(s.estimate(hash(k))).toBeGreaterThanOrEqual(before[k])
    s.resize(400)
    for (let k = 0; k < 20; k++) expect(s.estimate(hash(k))).toBeGreaterThanOrEqual(before[k])
    expect(() => s.resize(-1)).toThrow(RangeError)
    s.release()
    expect(s.byteLength).toBe(0)
  })
})
