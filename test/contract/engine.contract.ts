// The engine on every allocator build: reporting works everywhere, and activedefrag is accepted exactly where
// the allocator gives placement hints (jemalloc), refused with ERR_UNSUPPORTED elsewhere.
import { expect, test } from 'vitest'
import { allocator } from '../../lib/allocator.js'
import { Engine, engineInternals } from '../../lib/engine.js'
import { ArenaKVError } from '../../lib/errors.js'
import { native } from '../../lib/native.js'
import { ModelFuzz } from '../helpers/model-fuzz.js'

test(`engine reporting and activedefrag on ${allocator.name}`, () => {
  const db = new Engine()
  try {
    for (let i = 0; i < 1000; i++) db.set(`k${i}`, 'v'.repeat(100))
    const m = db.infoObject('memory')
    expect(m.mem_allocator).toBe(allocator.name === 'libc' ? 'libc' : `${allocator.name}-${allocator.version}`)
    expect(m.used_memory).toBe(db.usedMemory())
    expect((m.used_memory_dataset as number) + (m.used_memory_overhead as number)).toBe(db.usedMemory())
    expect(Number.isFinite(m.allocator_frag_ratio as number)).toBe(true)
    expect(Number.isFinite(m.mem_fragmentation_ratio as number)).toBe(true)
    expect(db.memoryUsage('k1')).toBe(engineInternals(db).slotStore.usableSize(engineInternals(db).peekHandle('k1') as number) + 32)
    db.memoryPurge()
    expect(db.memoryDoctor().length).toBeGreaterThan(0)
    if (allocator.capabilities.defragHints) {
      db.configSet('activedefrag', 'yes')
      expect(db.configGet('activedefrag')).toEqual({ activedefrag: 'yes' })
    } else {
      expect(() => new Engine({ activedefrag: true })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }))
      let refused: unknown
      try {
        db.configSet('activedefrag', 'yes')
      } catch (e) {
        refused = e
      }
      expect(refused).toBeInstanceOf(ArenaKVError)
      expect((refused as ArenaKVError).code).toBe('ERR_UNSUPPORTED')
      expect(db.configGet('activedefrag')).toEqual({ activedefrag: 'no' })
    }
  } finally {
    db.close()
  }
})

/** Overwrites over a skewed key space with log-uniform sizes (32 B – 16 KiB), 20% with a TTL: the churn workload. */
function churn(db: Engine, writes: number, seed: number): void {
  let s = seed
  const rnd = (): number => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
  const buf = Buffer.alloc(16384, 120)
  for (let i = 0; i < writes; i++) {
    const key = `k:${Math.floor(50_000 * rnd() ** 3)}`
    const value = buf.subarray(0, Math.floor(32 * 512 ** rnd()))
    db.set(key, value, rnd() < 0.2 ? { ex: 1 + Math.floor(rnd() * 10) } : undefined)
  }
}

const rss = (db: Engine): number => db.infoObject('memory').used_memory_rss as number

test(`maxmemoryAccounting 'resident' on jemalloc and mimalloc, ERR_UNSUPPORTED with the reason on tcmalloc and libc, on ${allocator.name}`, () => {
  expect(allocator.capabilities.residentAccounting).toBe(allocator.name === 'jemalloc' || allocator.name === 'mimalloc')
  if (!allocator.capabilities.residentAccounting) {
    let refused: unknown
    try {
      new Engine({ maxmemoryAccounting: 'resident' }).close()
    } catch (err) {
      refused = err
    }
    expect(refused).toBeInstanceOf(ArenaKVError)
    expect((refused as ArenaKVError).code).toBe('ERR_UNSUPPORTED')
    expect((refused as ArenaKVError).message).toMatch(
      allocator.name === 'tcmalloc' ? /stays up when eviction frees objects inside partly used spans/ : /glibc's heap is the whole process's/,
    )
    return
  }
  const maxmemory = 8 * 1024 * 1024
  const resident = new Engine({ maxmemory, maxmemoryPolicy: 'allkeys-lru', maxmemoryAccounting: 'resident' })
  const allocated = new Engine({ maxmemory, maxmemoryPolicy: 'allkeys-lru' })
  try {
    churn(resident, 120_000, 12345)
    churn(allocated, 120_000, 12345)
    expect(resident.infoObject('memory').maxmemory_accounting).toBe('resident')
    // used_memory_rss is the engine's own resident memory here, not the process's (which is V8 and code besides).
    const processRss = allocator.rss() ?? Infinity
    expect(rss(resident)).toBeLessThan(processRss)
    expect(rss(allocated)).toBeLessThan(processRss)
    // Allocated accounting fills used_memory to the bound and the allocator's overhead rides on top; resident
    // accounting counts that overhead, leaving used_memory the room it takes.
    expect(allocated.usedMemory()).toBeGreaterThan(maxmemory - 64 * 1024)
    expect(rss(allocated)).toBeGreaterThan(allocated.usedMemory())
    expect(resident.usedMemory()).toBeLessThan(allocated.usedMemory())
    expect(rss(resident)).toBeLessThanOrEqual(maxmemory * 1.05)
  } finally {
    resident.close()
    allocated.close()
  }
})

test(`each engine's resident memory (used_memory_rss) is its own heap's, or its share of a private heap by used memory, on ${allocator.name}`, () => {
  expect(allocator.capabilities.heapResident).toBe(allocator.name !== 'libc')
  if (!allocator.capabilities.heapResident) {
    expect(() => engineInternals(new Engine()).slotStore.heapResident?.()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }))
    return
  }
  const big = new Engine()
  const small = new Engine()
  try {
    const value = Buffer.alloc(1000, 1)
    for (let i = 0; i < 20_000; i++) big.set(`k${i}`, value)
    for (let i = 0; i < 2_000; i++) small.set(`k${i}`, value)
    const heap = (db: Engine): number => engineInternals(db).slotStore.heapResident!()
    const bytes = (db: Engine): number => engineInternals(db).slotStore.usedBytes() - engineInternals(db).slotStore.scratchUsable
    // Every engine holds at least what it allocated; the one with ten times the data holds about ten times more.
    expect(heap(big)).toBeGreaterThanOrEqual(bytes(big))
    expect(heap(small)).toBeGreaterThanOrEqual(bytes(small))
    const ratio = heap(big) / heap(small)
    expect(ratio).toBeGreaterThan(8)
    expect(ratio).toBeLessThan(12)
    // INFO's used_memory_rss is that heap plus the engine's tables, not the process's RSS.
    const processRss = allocator.rss() ?? Infinity
    for (const db of [big, small]) {
      const m = db.infoObject('memory')
      expect(m.used_memory_rss as number).toBeGreaterThanOrEqual(heap(db))
      expect(m.used_memory_rss as number).toBeLessThan(processRss)
    }
    if (!allocator.capabilities.arenas) {
      // One private heap shared out: the engines' shares add up to no more than the allocator's resident memory.
      const info = allocator.info()
      const whole = info.resident ?? info.active ?? Infinity
      expect(heap(big) + heap(small)).toBeLessThanOrEqual(whole * 1.01 + 1024 * 1024)
    }
  } finally {
    big.close()
    small.close()
  }
})

test(`keyspace tables on kernel pages through grows, shrinks, flushall and close on ${allocator.name}`, () => {
  const live0 = native.pages.liveBytes()
  const db = new Engine()
  try {
    // 50K keys, half with a TTL: the table, the metadata and the volatile list all pass PAGED_MIN_BYTES.
    for (let i = 0; i < 50_000; i++) db.set(`k${i}`, `v${i}`, i % 2 ? { px: 1_000_000 } : undefined)
    expect(native.pages.liveBytes()).toBeGreaterThan(live0)
    for (let i = 0; i < 50_000; i += 5) expect(db.getString(`k${i}`)).toBe(`v${i}`)
    // Delete most keys (the table and the volatile list shrink), then check the survivors.
    for (let i = 0; i < 50_000; i++) if (i % 16 !== 0) db.del(`k${i}`)
    expect(db.dbsize()).toBe(3125)
    for (let i = 0; i < 50_000; i += 16) expect(db.getString(`k${i}`)).toBe(`v${i}`)
    expect(db.volatileCount()).toBe(0)
    db.flushall()
    expect(native.pages.liveBytes()).toBe(live0)
    for (let i = 0; i < 20_000; i++) db.set(`k${i}`, 'x')
    expect(db.dbsize()).toBe(20_000)
  } finally {
    db.close()
  }
  expect(native.pages.liveBytes()).toBe(live0)
})

test(`the model-based fuzz on ${allocator.name}`, async () => {
  const fuzz = new ModelFuzz(0x2545f491)
  try {
    const result = await fuzz.run(Number(process.env.ARENAKV_CONTRACT_FUZZ_OPS ?? 100_000), 2000)
    expect(result.events.evicted + result.events.expired).toBeGreaterThan(0)
  } finally {
    fuzz.close()
  }
})
