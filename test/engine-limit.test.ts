// How many engines a process can hold open: each engine's store has its own jemalloc arena, and jemalloc has a
// fixed number of arena indices (4095, some kept for its automatic arenas). Past that, opening an engine throws
// ERR_ARENA_LIMIT; closing an engine destroys its arena, and the index is used again by the next one.
// Its own file: it takes every arena index of the process (vitest runs each file in its own process).
import { afterEach, describe, expect, it } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { Engine, engineInternals } from '../lib/engine.js'
import { ArenaKVError } from '../lib/errors.js'

const JEMALLOC_ARENA_INDICES = 4095

const open: Engine[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

/** Opens engines until `max` are open or the constructor throws; returns what it threw. */
function openUpTo(max: number): unknown {
  try {
    while (open.length < max) open.push(new Engine())
  } catch (e) {
    return e
  }
  return undefined
}

describe('engines open at once (jemalloc arenas)', () => {
  it('past the last arena index, opening an engine throws ERR_ARENA_LIMIT naming the limit; closing one frees it', () => {
    expect(allocator.name).toBe('jemalloc')
    const error = openUpTo(4100)
    expect(error).toBeInstanceOf(ArenaKVError)
    const e = error as ArenaKVError
    expect(e.code).toBe('ERR_ARENA_LIMIT')
    // Every index but the automatic arenas' went to an engine, and the message gives the limit it hit.
    const opened = open.length
    expect(opened).toBeGreaterThan(JEMALLOC_ARENA_INDICES - 1024)
    expect(open.map((db) => engineInternals(db).slotStore.arena).sort((a, b) => b - a)[0]).toBe(JEMALLOC_ARENA_INDICES - 1)
    expect(e.message).toContain(`at most ${opened} `)
    expect(e.message).toContain(`${JEMALLOC_ARENA_INDICES} arena indices`)
    expect(e.message).toMatch(/close an engine/i)
    // allocator.createArena() draws on the same indices.
    expect(() => allocator.createArena()).toThrow(expect.objectContaining({ code: 'ERR_ARENA_LIMIT' }))

    const closed = open.splice(123, 1)[0]
    const freed = engineInternals(closed).slotStore.arena
    closed.close()
    const again = new Engine()
    open.push(again)
    expect(engineInternals(again).slotStore.arena).toBe(freed)
    expect(again.set('k', 'v')).toBe(true)
    expect(() => new Engine()).toThrow(expect.objectContaining({ code: 'ERR_ARENA_LIMIT' }))

    // An arena from createArena holds an index as an engine does, and destroyArena gives it back.
    open.pop()?.close()
    const arena = allocator.createArena()
    expect(() => new Engine()).toThrow(expect.objectContaining({ code: 'ERR_ARENA_LIMIT' }))
    allocator.destroyArena(arena)
    open.push(new Engine())
    expect(engineInternals(open[open.length - 1]).slotStore.arena).toBe(arena)
  })

  it('FLUSHALL with every arena index taken empties the engine and keeps it working', () => {
    expect(openUpTo(4100)).toBeInstanceOf(ArenaKVError)
    const db = open[open.length - 1]
    for (let i = 0; i < 100; i++) db.set(`k${i}`, 'v')
    db.flushall()
    expect(db.dbsize()).toBe(0)
    expect(db.set('after', 'flush')).toBe(true)
    expect(db.getString('after')).toBe('flush')
    expect(() => new Engine()).toThrow(expect.objectContaining({ code: 'ERR_ARENA_LIMIT' }))
  })

  it('every engine can be opened again once the others are closed', () => {
    expect(openUpTo(4100)).toBeInstanceOf(ArenaKVError)
    const most = open.length
    for (const db of open.splice(0)) db.close()
    expect(openUpTo(most)).toBeUndefined()
    expect(open).toHaveLength(most)
  })

  it('opens and closes 5,000 engines in sequence: each close gives its arena back', () => {
    const arenas = new Set<number>()
    for (let i = 0; i < 5000; i++) {
      const db = new Engine()
      db.set('k', 'v'.repeat(i % 300))
      arenas.add(engineInternals(db).slotStore.arena)
      db.close()
    }
    expect(arenas.size).toBe(1)
  })
})
