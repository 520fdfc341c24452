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

test(`maxmemoryAccounting 'resident' where the engine has an arena of its own, ERR_UNSUPPORTED elsewhere, on ${allocator.name}`, () => {
  if (allocator.capabilities.arenas) {
    const db = new Engine({ maxmemory: '1mb', maxmemoryPolicy: 'allkeys-lru', maxmemoryAccounting: 'resident' })
    try {
      for (let i = 0; i < 5000; i++) db.set(`k${i}`, 'v'.repeat(500))
      expect(db.infoObject('memory').used_memory_rss as number).toBeLessThanOrEqual(1024 * 1024 * 1.05)
    } finally {
      db.close()
    }
  } else {
    expect(() => new Engine({ maxmemoryAccounting: 'resident' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }))
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
