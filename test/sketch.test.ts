import { describe, expect, it } from 'vitest'
import { GhostFilter } from '../lib/ghost.js'
import { HandleRing } from '../lib/ring.js'
import { BLOCK_WORDS, COUNTER_MAX, FrequencySketch } from '../lib/sketch.js'

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
    // Crowded (4,000 keys in a sketch for 1,000): estimates may exceed the truth, never fall below it.
    const crowded = new FrequencySketch(1000)
    for (let k = 0; k < 4000; k++) for (let r = 0; r < k % 3; r++) crowded.increment(hash(k))
    for (let k = 0; k < 4000; k++) expect(crowded.estimate(hash(k))).toBeGreaterThanOrEqual(k % 3)
  })

  it('saturates at COUNTER_MAX without overflowing into neighbouring counters', () => {
    const s = new FrequencySketch(10_000)
    for (let r = 0; r < 100; r++) s.increment(hash(7))
    expect(s.estimate(hash(7))).toBe(COUNTER_MAX)
    // Every other key still reads zero: a carry out of a nibble would show up in some of them.
    let stray = 0
    for (let k = 100; k < 2100; k++) stray += s.estimate(hash(k))
    expect(stray).toBe(0)
    for (const word of s.table) for (let n = 0; n < 32; n += 4) expect((word >>> n) & 0xf).toBeLessThanOrEqual(COUNTER_MAX)
    // A saturated key no longer counts as an increment (the halving period is in increments).
    const before = s.additions
    s.increment(hash(7))
    expect(s.additions).toBe(before)
  })

  it('halves every counter after sampleSize increments', () => {
    const s = new FrequencySketch(16)
    expect(s.sampleSize).toBe(160)
    for (let r = 0; r < 9; r++) s.increment(hash(1))
    expect(s.estimate(hash(1))).toBe(9)
    let i = 0
    while (s.resets === 0) s.increment(hash(1000 + (i++ % 400)))
    expect(i).toBe(160 - 9)
    // 9 halved to 4 (the other keys may add a little to its counters by collision).
    expect(s.estimate(hash(1))).toBeGreaterThanOrEqual(4)
    expect(s.estimate(hash(1))).toBeLessThanOrEqual(5)
    expect(s.additions).toBe(80)
  })

  it('keeps estimates (never lowering them) across a resize, and counts its bytes', () => {
    // Whole 64-byte blocks: 1,000 keys take 63 (1,008 words).
    const s = new FrequencySketch(1000)
    expect(s.byteLength).toBe(1008 * 4)
    for (let k = 0; k < 20; k++) for (let r = 0; r < 5; r++) s.increment(hash(k))
    const before = Array.from({ length: 20 }, (_, k) => s.estimate(hash(k)))
    s.resize(2000)
    expect(s.byteLength).toBe(2000 * 4)
    expect(s.table.length % BLOCK_WORDS).toBe(0)
    for (let k = 0; k < 20; k++) expect(s.estimate(hash(k))).toBeGreaterThanOrEqual(before[k])
    s.resize(400)
    expect(s.byteLength).toBe(400 * 4)
    for (let k = 0; k < 20; k++) expect(s.estimate(hash(k))).toBeGreaterThanOrEqual(before[k])
    // A byte budget rounds down to whole blocks, never below one.
    s.resize(400, 1000)
    expect(s.byteLength).toBe(960)
    for (let k = 0; k < 20; k++) expect(s.estimate(hash(k))).toBeGreaterThanOrEqual(before[k])
    s.resize(400, 10)
    expect(s.byteLength).toBe(64)
    for (let k = 0; k < 20; k++) expect(s.estimate(hash(k))).toBeGreaterThanOrEqual(before[k])
    // Growing more than twofold starts over.
    s.resize(1000)
    for (let k = 0; k < 20; k++) expect(s.estimate(hash(k))).toBe(0)
    expect(s.additions).toBe(0)
    s.resize(0)
    expect(s.byteLength).toBe(0)
    expect(s.estimate(hash(1))).toBe(0)
    expect(() => s.resize(-1)).toThrow(RangeError)
    expect(() => s.resize(Number.NaN)).toThrow(RangeError)
    s.release()
    expect(s.byteLength).toBe(0)
  })
})

describe('GhostFilter', () => {
  it('remembers between n/2 and n of the keys added last, and counts its bytes', () => {
    const g = new GhostFilter(1000)
    expect(g.byteLength).toBe(2 * Math.ceil((500 * 8) / 32) * 4)
    for (let k = 0; k < 400; k++) g.add(hash(k))
    for (let k = 0; k < 400; k++) expect(g.has(hash(k))).toBe(true)
    g.remember(200)
    for (let k = 400; k < 800; k++) g.add(hash(k))
    // 100 per generation now: the last 100..200 are remembered, the first 400 forgotten (bar false positives).
    for (let k = 700; k < 800; k++) expect(g.has(hash(k))).toBe(true)
    let remembered = 0
    for (let k = 0; k < 400; k++) if (g.has(hash(k))) remembered++
    expect(remembered).toBeLessThan(40)
    g.clear()
    expect(g.size).toBe(0)
    for (let k = 700; k < 800; k++) expect(g.has(hash(k))).toBe(false)
  })

  it('reports its false-positive rate as measured on keys never added, across a generation swap', () => {
    const g = new GhostFilter(2000)
    expect(g.falsePositiveRate()).toBe(0)
    const measured = (): number => {
      let hits = 0
      for (let k = 1_000_000; k < 1_040_000; k++) if (g.has(hash(k))) hits++
      return hits / 40_000
    }
    for (let k = 0; k < 600; k++) g.add(hash(k))
    const young = g.falsePositiveRate()
    expect(young).toBeGreaterThan(0.005)
    expect(Math.abs(measured() - young)).toBeLessThan(0.01)
    // 1,000 per generation: the first 600 are now the old generation, 700 more fill the young one.
    for (let k = 600; k < 1700; k++) g.add(hash(k))
    const both = g.falsePositiveRate()
    expect(both).toBeGreaterThan(young)
    expect(Math.abs(measured() - both)).toBeLessThan(0.015)
    g.clear()
    expect(g.falsePositiveRate()).toBe(0)
  })
})

describe('HandleRing', () => {
  it('is a FIFO that grows and shrinks its counted arrays', () => {
    const r = new HandleRing()
    for (let i = 1; i <= 1000; i++) r.push(i, -i)
    expect(r.length).toBe(1000)
    expect(r.byteLength).toBeGreaterThanOrEqual(1000 * 8)
    expect(r.byteLength).toBeLessThanOrEqual(1250 * 8)
    for (let i = 1; i <= 990; i++) {
      expect(r.headHandle()).toBe(i)
      expect(r.headHash()).toBe(-i)
      r.shift()
    }
    expect(r.length).toBe(10)
    expect(r.byteLength).toBeLessThanOrEqual(64 * 8)
    expect(r.headHandle()).toBe(991)
    r.release()
    expect(r.byteLength).toBe(0)
    expect(r.length).toBe(0)
  })
})
