import { runInNewContext } from 'node:vm'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { afterEach, describe, expect, it } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { Engine, engineInternals } from '../lib/engine.js'
import { native } from '../lib/native.js'
import { PAGED_MIN_BYTES } from '../lib/pages.js'

// used_memory = the native store's exact usable bytes + the exact byte length of every typed array the keyspace
// holds. The engine keeps no per-key JS object, so its per-key JS-heap model is 0 bytes; the last test calibrates
// that constant against V8's own heap statistics for 1M keys.

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const open: Engine[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

function settle(): void {
  for (let i = 0; i < 3; i++) gc()
}

describe('used memory', () => {
  it('is the store usable bytes plus the keyspace typed arrays, each exact', () => {
    const db = new Engine()
    open.push(db)
    const store = engineInternals(db).slotStore
    expect(db.usedMemory() - store.usedBytes()).toBeGreaterThan(0)
    const handles: number[] = []
    for (let i = 0; i < 20_000; i++) {
      db.set(`key:${i}`, 'v'.repeat(i % 300), i % 3 === 0 ? { ex: 100 } : undefined)
    }
    for (let i = 0; i < 20_000; i++) handles.push(engineInternals(db).peekHandle(`key:${i}`) as number)
    // The store's figure is its slots' usable sizes plus its own slot table and its scratch block.
    let slots = 0
    for (const h of handles) slots += store.usableSize(h)
    expect(store.scratchUsable).toBeGreaterThanOrEqual(store.scratch.byteLength)
    const table = store.usedBytes() - slots - store.scratchUsable
    expect(table).toBeGreaterThan(0)
    expect(table % 16).toBe(0)
    // Freeing every key gives every slot's usable bytes back, exactly.
    const before = store.usedBytes()
    db.del(...Array.from({ length: 20_000 }, (_, i) => `key:${i}`))
    expect(before - store.usedBytes()).toBe(slots)
    expect(store.usedBytes()).toBe(table + store.scratchUsable)
  })

  it('moves with the allocator counters byte for byte', () => {
    const db = new Engine()
    open.push(db)
    const allocBefore = allocator.usedMemory()
    const storeBefore = engineInternals(db).slotStore.usedBytes()
    for (let i = 0; i < 50_000; i++) db.set(`k${i}`, 'x'.repeat(i % 100))
    for (let i = 0; i < 50_000; i += 3) db.del(`k${i}`)
    // Every native byte the keyspace takes is in the store's figure, and nothing else moved the counter.
    expect(allocator.usedMemory() - allocBefore).toBe(engineInternals(db).slotStore.usedBytes() - storeBefore)
    // The typed arrays: a table of 8 B per slot kept between 1/8 and 9/10 full, 8 B of metadata per slot index.
    const arrays = db.usedMemory() - engineInternals(db).slotStore.usedBytes()
    expect(arrays).toBeGreaterThan(db.dbsize() * 16)
    expect(arrays).toBeLessThan(50_000 * 48)
  })

  it('counts exactly the table pages the process holds, and hands replaced tables back at once', () => {
    const live0 = native.pages.liveBytes()
    const db = new Engine()
    open.push(db)
    // Small arrays (under PAGED_MIN_BYTES) are ordinary typed arrays; the rest are on kernel pages.
    const smallAtMost = 6 * PAGED_MIN_BYTES + db.usedMemory() - engineInternals(db).slotStore.usedBytes()
    for (let i = 0; i < 200_000; i++) {
      db.set(`k${i}`, 'v', i % 2 ? { px: 1_000_000 } : undefined)
      // Through every resize the pages still mapped are the arrays in use, never the ones they replaced.
      if ((i & 0x3fff) === 0) {
        const counted = db.usedMemory() - engineInternals(db).slotStore.usedBytes()
        const paged = native.pages.liveBytes() - live0
        expect(paged).toBeLessThanOrEqual(counted)
        expect(counted - paged).toBeLessThan(smallAtMost)
      }
    }
    const counted = db.usedMemory() - engineInternals(db).slotStore.usedBytes()
    expect(counted - (native.pages.liveBytes() - live0)).toBeLessThan(smallAtMost)
    db.flushall()
    expect(native.pages.liveBytes()).toBe(live0)
    for (let i = 0; i < 50_000; i++) db.set(`k${i}`, 'v')
    expect(native.pages.liveBytes()).toBeGreaterThan(live0)
    db.close()
    expect(native.pages.liveBytes()).toBe(live0)
  })

  it('keeps no per-key JS heap: V8 heap growth for 1M keys calibrates the model at 0 bytes per key', () => {
    settle()
    const before = getHeapStatistics().used_heap_size
    const db = new Engine()
    open.push(db)
    const value = Buffer.from('0123456789abcdef')
    for (let i = 0; i < 1_000_000; i++) db.set(`key:${i}`, value, i % 4 === 0 ? { ex: 3600 } : undefined)
    for (let i = 0; i < 1_000_000; i += 7) db.get(`key:${i}`)
    settle()
    const heapPerKey = (getHeapStatistics().used_heap_size - before) / 1_000_000
    expect(db.dbsize()).toBe(1_000_000)
    // The per-key JS model constant is 0; anything under half a byte per key is noise (code, ICs, the engine).
    expect(heapPerKey).toBeLessThan(0.5)
    const perKey = db.usedMemory() / db.dbsize()
    expect(perKey).toBeLessThan(100)
  })
})
