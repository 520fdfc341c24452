// allocator.createArena() / destroyArena() on the jemalloc build: an arena made by createArena can be destroyed
// (jemalloc's arena.<i>.destroy) and its index is handed out again; every other arena index is refused, above
// all the automatic arenas and the arena an engine's store allocates from. Other builds: the allocator contract.
import { describe, expect, it } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { Engine, engineInternals } from '../lib/engine.js'

const refused = (arena: number) =>
  expect(() => allocator.destroyArena(arena), `arena ${arena}`).toThrow(
    expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
  )

describe('allocator.destroyArena (jemalloc)', () => {
  it('destroys an arena from createArena, and createArena hands its index out again', () => {
    expect(allocator.name).toBe('jemalloc')
    const arena = allocator.createArena()
    expect(allocator.arenaStats(arena).allocated).toBe(0)
    allocator.destroyArena(arena)
    // jemalloc forgets a destroyed arena: no stats, no purge.
    expect(() => allocator.arenaStats(arena)).toThrow(RangeError)
    const again = allocator.createArena()
    expect(again).toBe(arena)
    allocator.destroyArena(again)
  })

  it('gives back every index: 5,000 create/destroy pairs need one index', () => {
    const seen = new Set<number>()
    for (let i = 0; i < 5000; i++) {
      const arena = allocator.createArena()
      seen.add(arena)
      allocator.destroyArena(arena)
    }
    expect(seen.size).toBe(1)
  })

  it('refuses an arena destroyed already, one never created, and the automatic arenas', () => {
    const arena = allocator.createArena()
    allocator.destroyArena(arena)
    refused(arena)
    expect(() => allocator.destroyArena(arena)).toThrow(/not created by allocator\.createArena\(\)/)
    refused(4000)
    for (let automatic = 0; automatic < 4; automatic++) refused(automatic)
  })

  it("refuses the arena of an engine's store, which keeps working", () => {
    const db = new Engine()
    try {
      db.set('k', 'v')
      const arena = engineInternals(db).slotStore.arena
      expect(arena).toBeGreaterThan(0)
      refused(arena)
      expect(() => allocator.destroyArena(arena)).toThrow(/engine/)
      db.set('k2', 'x'.repeat(10_000))
      expect(db.getString('k')).toBe('v')
      expect(allocator.arenaStats(arena).allocated).toBeGreaterThan(10_000)
    } finally {
      db.close()
    }
  })

  it('checks its argument: an integer arena index', () => {
    for (const bad of ['1', null, undefined, {}, 1n]) {
      expect(() => allocator.destroyArena(bad as number)).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
      )
    }
    for (const bad of [-1, 1.5, NaN, Infinity, 4095, 2 ** 32]) {
      expect(() => allocator.destroyArena(bad)).toThrow(
        expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
      )
    }
  })
})

describe('allocator.setArenaDecay (jemalloc)', () => {
  /** Fills an engine with 8 MB of 64 KiB values (large extents of their own), deletes them, and reads its arena. */
  function freedPages(decay?: [number, number]): { dirty: number; resident: number; allocated: number } {
    const db = new Engine()
    try {
      const arena = engineInternals(db).slotStore.arena
      if (decay !== undefined) allocator.setArenaDecay(arena, decay[0], decay[1])
      const value = Buffer.alloc(64 * 1024, 1)
      for (let i = 0; i < 128; i++) db.set(`k${i}`, value)
      for (let i = 0; i < 128; i++) db.del(`k${i}`)
      const a = engineInternals(db).slotStore.arenaStats()
      return { dirty: a.dirty, resident: a.resident, allocated: a.allocated }
    } finally {
      db.close()
    }
  }

  it("an engine's arena returns freed pages at once (decay 0); with a 60 s decay they stay dirty and resident", () => {
    const now = freedPages()
    expect(now.dirty).toBe(0)
    const later = freedPages([60_000, 0])
    expect(later.dirty).toBeGreaterThanOrEqual(8 * 1024 * 1024)
    expect(later.resident - later.allocated).toBeGreaterThan(now.resident - now.allocated + 8 * 1024 * 1024 - 1)
  })

  it('checks its arguments: an arena that exists, delays from -1 ms to an hour', () => {
    const db = new Engine()
    try {
      const arena = engineInternals(db).slotStore.arena
      expect(() => allocator.setArenaDecay(arena, -2, 0)).toThrow(RangeError)
      expect(() => allocator.setArenaDecay(arena, 0, 3_600_001)).toThrow(RangeError)
      expect(() => allocator.setArenaDecay(arena, 1.5, 0)).toThrow(RangeError)
      expect(() => allocator.setArenaDecay('1' as unknown as number, 0, 0)).toThrow(TypeError)
      expect(() => allocator.setArenaDecay(4000, 0, 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
      allocator.setArenaDecay(arena, -1, -1)
      allocator.setArenaDecay(arena, 0, 0)
    } finally {
      db.close()
    }
  })
})
