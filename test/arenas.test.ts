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
