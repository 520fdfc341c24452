// maxmemoryAccounting 'resident': eviction counts the engine's resident memory (its arena's resident pages and
// its tables), so under churn — sizes changing, keys expiring, eviction never stopping — maxmemory bounds what the
// engine really holds, not only what it has allocated.
import { afterEach, describe, expect, it } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { Engine } from '../lib/engine.js'

const MB = 1024 * 1024
const open: Engine[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

/** Overwrites over a skewed key space with log-uniform sizes (32 B – 16 KiB), 20% with a TTL. */
function churn(db: Engine, writes: number): void {
  let s = 12345
  const rnd = () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
  const buf = Buffer.alloc(16384, 120)
  for (let i = 0; i < writes; i++) {
    const key = `k:${Math.floor(100_000 * rnd() ** 3)}`
    const value = buf.subarray(0, Math.floor(32 * 512 ** rnd()))
    if (rnd() < 0.2) db.set(key, value, { ex: 1 + Math.floor(rnd() * 10) })
    else db.set(key, value)
  }
}

function engineRss(db: Engine): number {
  return db.infoObject('memory').used_memory_rss as number
}

describe('maxmemoryAccounting (jemalloc)', () => {
  it("'resident' holds the engine's resident memory within maxmemory under churn; 'allocated' lets it ride above", () => {
    expect(allocator.name).toBe('jemalloc')
    const maxmemory = 16 * MB
    const resident = new Engine({ maxmemory, maxmemoryPolicy: 'allkeys-lru', maxmemoryAccounting: 'resident' })
    const allocated = new Engine({ maxmemory, maxmemoryPolicy: 'allkeys-lru' })
    open.push(resident, allocated)
    churn(resident, 300_000)
    churn(allocated, 300_000)
    expect(resident.infoObject('memory').maxmemory_accounting).toBe('resident')
    expect(allocated.infoObject('memory').maxmemory_accounting).toBe('allocated')
    // Allocated accounting fills used_memory to the bound; what the allocator holds beyond it rides on top.
    expect(allocated.usedMemory()).toBeGreaterThan(maxmemory - 64 * 1024)
    expect(engineRss(allocated)).toBeGreaterThan(maxmemory)
    // Resident accounting leaves used_memory the room the overhead takes, and the engine's RSS within 5%.
    expect(resident.usedMemory()).toBeLessThan(maxmemory - 256 * 1024)
    expect(engineRss(resident)).toBeLessThanOrEqual(maxmemory * 1.05)
    expect(engineRss(resident)).toBeLessThan(engineRss(allocated))
  })

  it('is an option only: CONFIG does not know it, and a bad value is a RangeError', () => {
    expect(() => new Engine({ maxmemoryAccounting: 'rss' as 'resident' })).toThrow(RangeError)
    const db = new Engine({ maxmemoryAccounting: 'resident' })
    open.push(db)
    expect(db.configGet('maxmemory-accounting')).toEqual({})
    expect(db.config.maxmemoryAccounting).toBe('resident')
  })
})
