// Window TinyLFU with a fixed window (Einziger, Friedman and Manes, 2017; Caffeine's design before its hill
// climber): an LRU window of 1% of the capacity, a segmented LRU main region (80% protected), and a count-min
// sketch of 4-bit counters halved every 10 × capacity requests deciding whether the window's evictee replaces the
// main region's. Reference only: its own small sketch, independent of lib/sketch.ts.

class Sketch {
  private readonly table: Uint8Array
  private additions = 0
  private readonly sampleSize: number

  constructor(capacity: number) {
    let width = 16
    while (width < capacity * 4) width *= 2
    this.table = new Uint8Array(width * 4)
    this.sampleSize = 10 * Math.max(1, capacity)
  }

  private index(key: number, row: number): number {
    let h = Math.imul(key + 1, 0x9e3779b1 + row * 0x632be5a6)
    h ^= h >>> 15
    h = Math.imul(h, 0x2c1b3c6d)
    h ^= h >>> 13
    const width = this.table.length / 4
    return row * width + ((h >>> 0) & (width - 1))
  }

  estimate(key: number): number {
    let min = 15
    for (let r = 0; r < 4; r++) min = Math.min(min, this.table[this.index(key, r)])
    return min
  }

  increment(key: number): void {
    let added = false
    for (let r = 0; r < 4; r++) {
      const i = this.index(key, r)
      if (this.table[i] < 15) {
        this.table[i]++
        added = true
      }
    }
    if (added && ++this.additions >= this.sampleSize) {
      for (let i = 0; i < this.table.length; i++) this.table[i] >>= 1
      this.additions >>= 1
    }
  }
}

/** Hits of W-TinyLFU with `capacity` keys and a fixed window share, counting requests from index `from` on. */
export function wtinylfuHits(trace: Uint32Array, capacity: number, from = 0, windowShare = 0.01): number {
  if (capacity <= 0) return 0
  const windowMax = Math.max(1, Math.floor(capacity * windowShare))
  const mainMax = capacity - windowMax
  const protectedMax = Math.floor(mainMax * 0.8)
  const window = new Map<number, true>()
  const probation = new Map<number, true>()
  const protectedSeg = new Map<number, true>()
  const sketch = new Sketch(capacity)
  const first = (m: Map<number, true>): number => m.keys().next().value as number
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const k = trace[i]
    sketch.increment(k)
    if (window.delete(k)) {
      window.set(k, true)
    } else if (probation.delete(k)) {
      protectedSeg.set(k, true)
      if (protectedSeg.size > protectedMax) {
        const d = first(protectedSeg)
        protectedSeg.delete(d)
        probation.set(d, true)
      }
    } else if (protectedSeg.delete(k)) {
      protectedSeg.set(k, true)
    } else {
      window.set(k, true)
      if (window.size > windowMax) {
        const candidate = first(window)
        window.delete(candidate)
        if (probation.size + protectedSeg.size < mainMax) {
          probation.set(candidate, true)
        } else {
          const victimMap = probation.size > 0 ? probation : protectedSeg
          const victim = first(victimMap)
          if (sketch.estimate(candidate) > sketch.estimate(victim)) {
            victimMap.delete(victim)
            probation.set(candidate, true)
          }
        }
      }
      continue
    }
    if (i >= from) hits++
  }
  return hits
}
