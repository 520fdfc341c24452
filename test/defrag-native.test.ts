// The native half of active defragmentation: moving slots out of sparse slabs lowers the arena's small-bin
// fragmentation and never changes a byte of any value.
import { expect, test } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { createStore } from '../lib/store.js'

const fragRatio = (s: { allocated: number; fragSmallbinsBytes: number }) => s.fragSmallbinsBytes / s.allocated + 1

test('defragStep empties sparse slabs without corrupting data (jemalloc)', () => {
  expect(allocator.name).toBe('jemalloc')
  const store = createStore({ scratchBytes: 4096 })
  const n = 200_000
  const handles = new Array<number>(n)
  const valueOf = (i: number) => `${i}:`.padEnd(40 + (i % 90), String.fromCharCode(97 + (i % 26)))
  for (let i = 0; i < n; i++) handles[i] = store.put(`key:${i}`, valueOf(i))
  // Free a pseudo-random half so most slabs keep a few live regions.
  for (let i = 0; i < n; i++) if ((i * 2654435761) % 7 < 4) (store.free(handles[i]), (handles[i] = 0))
  const before = store.arenaStats()
  expect(fragRatio(before)).toBeGreaterThan(1.3)
  const used = allocator.usedMemory()

  let cursor = 0
  let hits = 0
  let misses = 0
  do {
    const [next, h, m] = store.defragStep(cursor, 5000)
    hits += h
    misses += m
    cursor = next
  } while (cursor !== 0)

  const after = store.arenaStats()
  expect(hits).toBeGreaterThan(0)
  expect(hits + misses).toBe(store.count())
  expect(fragRatio(after)).toBeLessThan(1.1)
  expect(after.allocated).toBe(before.allocated) // same size classes: moves change no byte count
  expect(allocator.usedMemory()).toBe(used)
  for (let i = 0; i < n; i++) {
    if (handles[i]) expect(store.readStringIfKey(handles[i], `key:${i}`)).toBe(valueOf(i))
  }
  expect(() => store.defragStep(-1, 10)).toThrow(RangeError)
  expect(() => store.defragStep(0, 0)).toThrow(RangeError)
  store.close()
})
