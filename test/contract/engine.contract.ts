// The engine on every allocator build: reporting works everywhere, and activedefrag is accepted exactly where
// the allocator gives placement hints (jemalloc), refused with ERR_UNSUPPORTED elsewhere.
import { expect, test } from 'vitest'
import { allocator } from '../../lib/allocator.js'
import { Engine } from '../../lib/engine.js'
import { ArenaKVError } from '../../lib/errors.js'

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
    expect(db.memoryUsage('k1')).toBe(db.slotStore.usableSize(db.peekHandle('k1') as number) + 32)
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
