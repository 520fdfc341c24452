// The allocator contract: the same assertions for every build (jemalloc, tcmalloc, mimalloc, libc, ASAN). test/allocator-builds.test.ts runs this file once per build in a fresh process.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'
import { describe, expect, test } from 'vitest'
import { allocator } from '../../lib/allocator.js'
import { ArenaKVError } from '../../lib/errors.js'
import { createStore } from '../../lib/store.js'

const sanitized = allocator.capabilities.sanitizer !== undefined

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Lets V8 collect the scratch buffers of stores closed earlier: each block is freed with its buffer. */
async function collectClosedStores(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}
const expected = process.env.ARENAKV_EXPECT_ALLOCATOR

describe(`allocator contract: ${allocator.name} ${allocator.version}`, () => {
  test('is the build the runner asked for', () => {
    if (expected) expect(allocator.name).toBe(expected)
    expect(allocator.version).toMatch(/^\d+\.\d+/)
  })

  test('usable size is at least what was asked and what the allocator says', () => {
    const store = createStore({ scratchBytes: 1024 })
    const header = 8
    const sizes = [0, 1, 7, 8, 9, 15, 16, 17, 24, 100, 127, 128, 129, 1000, 4095, 4096, 4097, 16384, 65536, 70000, 1 << 20]
    for (const n of sizes) {
      const h = store.put('', new Uint8Array(n))
      const usable = store.usableSize(h)
      expect(usable).toBeGreaterThanOrEqual(header + n)
      if (allocator.capabilities.goodSize) expect(usable).toBe(allocator.goodSize(header + n))
      store.free(h)
    }
    store.close()
  })

  test('usedMemory rises by exactly the usable sizes and returns to its baseline', () => {
    const store = createStore({ scratchBytes: 1024 })
    store.free(store.put('warm', 'up')) // the first put allocates the slot table
    const base = allocator.usedMemory()
    const storeBase = store.usedBytes()
    const handles: number[] = []
    let sum = 0
    for (let i = 0; i < 2000; i++) {
      const h = store.put(`key:${i}`, 'v'.repeat((i * 131) % 5000))
      handles.push(h)
      sum += store.usableSize(h)
    }
    expect(allocator.usedMemory() - base).toBe(sum)
    expect(store.usedBytes() - storeBase).toBe(sum)
    for (const h of handles) store.free(h)
    expect(allocator.usedMemory()).toBe(base)
    store.close()
    // The scratch block outlives the store while JS still holds its buffer (store.scratch, alive here).
    expect(allocator.usedMemory()).toBe(base - storeBase + store.scratchUsable)
  })

  test('replace keeps the handle and accounts the new size exactly', () => {
    const store = createStore({ scratchBytes: 1 << 16 })
    const h = store.put('k', 'small')
    const before = allocator.usedMemory() - store.usableSize(h)
    store.replace(h, new Uint8Array(10_000).fill(7))
    expect(allocator.usedMemory() - before).toBe(store.usableSize(h))
    expect(store.read(h, 'k')).toBe(10_000)
    expect(store.scratch[9_999]).toBe(7)
    store.close()
  })

  test('jemalloc arena stats agree with the store, other allocators say unsupported', () => {
    const store = createStore({ scratchBytes: 1024 })
    for (let i = 0; i < 5000; i++) store.put(`k${i}`, new Uint8Array(i % 700))
    if (allocator.capabilities.arenas) {
      expect(store.arena).toBeGreaterThan(0)
      // The scratch block is not in the arena: it can outlive the store (and its arena) while JS holds it.
      expect(store.arenaStats().allocated).toBe(store.usedBytes() - store.scratchUsable)
      expect(allocator.arenaStats(store.arena).allocated).toBe(store.usedBytes() - store.scratchUsable)
      const arena = allocator.createArena()
      expect(allocator.arenaStats(arena).allocated).toBe(0)
      expect(() => allocator.destroyArena(store.arena)).toThrow(RangeError)
      allocator.destroyArena(arena)
      expect(() => allocator.destroyArena(arena)).toThrow(RangeError)
      expect(() => allocator.arenaStats(4000)).toThrow(RangeError)
    } else {
      expect(store.arena).toBe(-1)
      expect(() => store.arenaStats()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }))
      expect(() => allocator.createArena()).toThrow(ArenaKVError)
      expect(() => allocator.destroyArena(1)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }))
      expect(() => allocator.arenaStats(0)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }))
      expect(() => store.defragStep(0, 100)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }))
    }
    store.close()
  })

  test('info() reports real figures, and null only where the allocator cannot say', () => {
    const store = createStore({ scratchBytes: 1024 })
    for (let i = 0; i < 1000; i++) store.put(`i${i}`, new Uint8Array(1000))
    const info = allocator.info()
    store.close()
    if (sanitized) {
      // The sanitizer's allocator replaces glibc's: mallinfo2 describes nothing, so nothing is reported.
      expect(info.allocated).toBeNull()
    } else {
      expect(info.allocated).toBeGreaterThan(1000 * 1000)
      expect(info.active).toBeGreaterThanOrEqual(info.allocated ?? 0)
    }
    if (allocator.name === 'jemalloc') {
      for (const [k, v] of Object.entries(info)) expect(v, k).not.toBeNull()
      expect(info.resident).toBeGreaterThanOrEqual(info.active ?? 0)
      expect(info.fragSmallbinsBytes).toBeGreaterThanOrEqual(0)
    }
    if (allocator.name === 'libc') expect(info.resident).toBeNull()
    if (allocator.name === 'mimalloc') {
      // Its private heap's allocated bytes are the zmalloc counters; what it commits covers them; it cannot say
      // what of that is resident (mi_process_info's RSS is the whole process's), nor the rest.
      expect(info.active).toBeGreaterThanOrEqual(info.allocated ?? 0)
      expect(info.resident).toBeNull()
      expect(info.fragSmallbinsBytes).toBeNull()
    }
    expect(allocator.rss()).toBeGreaterThan(10 * 1024 * 1024)
    expect(allocator.privateDirty()).toBeGreaterThan(0)
    expect(allocator.mallocStats().length).toBeGreaterThan(100)
  })

  test('background threads are a jemalloc capability', () => {
    if (allocator.capabilities.backgroundThreads) {
      allocator.setBackgroundThread(true)
      expect(allocator.backgroundThread()).toBe(true)
      allocator.setBackgroundThread(false)
      expect(allocator.backgroundThread()).toBe(false)
    } else {
      expect(() => allocator.setBackgroundThread(true)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }))
    }
  })

  test('purge() returns freed memory to the OS', () => {
    // The default heap: an engine's own jemalloc arena hands freed pages back at once (decay 0), leaving purge
    // nothing to find there.
    const store = createStore({ scratchBytes: 1024, ownArena: false })
    const value = new Uint8Array(1000).fill(1)
    const handles: number[] = []
    for (let i = 0; i < 150_000; i++) handles.push(store.put(`p${i}`, value)) // ~150 MB in 1 KB slots
    // Keep one slot in 64 so the pages are not simply unmapped at free: purge must find them.
    handles.forEach((h, i) => i % 64 !== 0 && store.free(h))
    const before = allocator.rss() ?? 0
    const residentBefore = allocator.info().resident
    allocator.purge()
    const after = allocator.rss() ?? 0
    if (!allocator.capabilities.purge) {
      // mimalloc 2.0.9 returns only whole free pages, and only after a delay on later allocations in the same
      // segment: purge() (mi_collect) runs, but promises nothing, and the capability says so.
      expect(allocator.name).toBe('mimalloc')
    } else if (!sanitized) {
      // ~140 MB were freed; ASAN's own allocator keeps freed memory quarantined, so it cannot drop there.
      expect(before - after).toBeGreaterThan(50 * 1024 * 1024)
      if (residentBefore !== null) expect(allocator.info().resident).toBeLessThan(residentBefore)
    }
    store.close()
  })

  test('an emptied engine store hands its memory back: at once on jemalloc and mimalloc, on purge elsewhere', () => {
    const store = createStore({ scratchBytes: 1024 })
    const value = new Uint8Array(1000).fill(1)
    const handles: number[] = []
    for (let i = 0; i < 150_000; i++) handles.push(store.put(`e${i}`, value)) // ~150 MB in 1 KB slots
    const full = allocator.rss() ?? 0
    for (const h of handles) store.free(h)
    const atOnce = allocator.name === 'jemalloc' || allocator.name === 'mimalloc'
    if (!atOnce) allocator.purge()
    const after = allocator.rss() ?? 0
    // ASAN's own allocator keeps freed memory quarantined, so RSS cannot drop there.
    if (!sanitized) expect(full - after).toBeGreaterThan(100 * 1024 * 1024)
    store.close()
  })

  test('counters are summed across 4 worker threads allocating at once', async () => {
    await collectClosedStores()
    const base = allocator.usedMemory()
    const workers = [0, 1, 2, 3].map(
      (id) => new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { id, count: 3000 } }),
    )
    const next = (w: Worker) =>
      new Promise<{ phase: string; usedBytes: number; slotBytes?: number }>((resolve, reject) => {
        w.once('message', resolve)
        w.once('error', reject)
      })
    const holding = await Promise.all(workers.map(next))
    const held = holding.reduce((s, m) => s + m.usedBytes, 0)
    expect(held).toBeGreaterThan(4 * 3000 * 16)
    expect(allocator.usedMemory() - base).toBe(held)
    const freed = await Promise.all(
      workers.map((w) => {
        const p = next(w)
        w.postMessage('free')
        return p
      }),
    )
    for (const m of freed) expect(m.usedBytes).toBeLessThan(held / 4)
    await Promise.all(workers.map((w) => w.terminate()))
    expect(allocator.usedMemory()).toBe(base)
  })
})
