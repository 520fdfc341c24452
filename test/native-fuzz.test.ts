// 100,000 random bad calls into the native surface: the process survives, every call throws a typed error
// with a code, no live slot is disturbed, and not one byte of memory is allocated or freed by them.
import { expect, test } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { ArenaKVError } from '../lib/errors.js'
import { native } from '../lib/native.js'
import { createStore } from '../lib/store.js'
import { rng } from './helpers/rng.js'

test('100,000 random bad native calls each throw a typed error and change nothing', () => {
  const random = rng(0xa5e1a)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]
  const store = createStore({ scratchBytes: 256 })
  const live = Array.from({ length: 64 }, (_, i) => store.put(`live:${i}`, `value:${i}`))
  const stale: number[] = []
  for (let i = 0; i < 64; i++) {
    const h = store.put(`gone:${i}`, 'x')
    store.free(h)
    stale.push(h)
  }
  const closed = createStore({ scratchBytes: 64 })
  const closedHandle = closed.put('k', 'v')
  closed.close()
  const huge = new Uint8Array(512 * 1024 * 1024 + 1)
  const st = native.store as unknown as Record<string, (...args: unknown[]) => unknown>
  const liveId = st.open(false, 64) as number
  const closedId = st.open(true, 64) as number
  // Held to the end: a closed store's scratch block is freed once V8 collects its buffer, which must not happen
  // between the two memory readings.
  const closedScratch = st.scratch(closedId)
  st.close(closedId)
  const base = allocator.usedMemory()
  const storeBytes = store.usedBytes()

  const badHandles = [
    () => pick(stale),
    () => pick(live) & 0x3ffffff, // generation 0: never issued
    () => (pick(live) + (1 << 26)) >>> 0, // a generation that is not the slot's
    () => Math.floor(random() * 2 ** 32) | (1 << 26) | 0x3fff000, // an index never issued
    () => -1 - Math.floor(random() * 1000),
    () => pick(live) + 0.5,
    () => pick([NaN, Infinity, -Infinity, 2 ** 32, 2 ** 53, -0.5]),
  ]
  const notNumbers = [undefined, null, 'x', '12', {}, [], true, 1n, Symbol('s'), () => 1]
  const notValues = [undefined, null, 12, {}, [1, 2], true, new Uint16Array(4), new DataView(new ArrayBuffer(4)), new ArrayBuffer(8)]
  const badHandle = () => (random() < 0.8 ? pick(badHandles)() : pick(notNumbers))
  const s = store as unknown as Record<string, (...args: unknown[]) => unknown>
  const n = native as unknown as Record<string, (...args: unknown[]) => unknown>

  // The fused paths need bound tables to get past their first check: empty ones (every lookup misses).
  const table = new Int32Array(128)
  const lru = new Uint32Array(64)
  const volatilePos = new Uint32Array(64)
  const volatileExpires = new Float64Array(16)
  store.bindTables({ table, oldTable: null, lru, volatilePos, volatileExpires }, 0, false, false)
  const notStrings = notNumbers.filter((v) => typeof v !== 'string')
  // Each argument can be wrong on its own, as the addon receives them.
  const bind = (...[t, old, l, pos, exp, seed, lfu, exact]: unknown[]) =>
    (store.bindTables as (...a: unknown[]) => void)({ table: t, oldTable: old, lru: l, volatilePos: pos, volatileExpires: exp }, seed, lfu, exact)
  const calls: Array<() => unknown> = [
    () => s.read(badHandle(), 'live:0'),
    () => s.readString(badHandle()),
    () => s.readStringIfKey(badHandle(), 'k'),
    () => s.key(badHandle()),
    () => s.keyEquals(badHandle(), 'k'),
    () => s.valueLength(badHandle()),
    () => s.usableSize(badHandle()),
    () => s.free(badHandle()), // double frees of stale handles among them
    () => s.replace(badHandle(), 'v'),
    () => s.replace(pick(live), pick(notValues)),
    () => s.put(pick(notNumbers.filter((v) => typeof v !== 'string')), 'v'),
    () => s.put('k', pick(notValues)),
    () => s.put('k', huge),
    () => s.read(pick(live), pick(notNumbers.filter((v) => typeof v !== 'string'))),
    () => s.readInto(pick(live), pick(notValues)),
    () => s.readInto(pick(live), new Uint8Array(8), pick([9, -1, 0.5, 'x', NaN])),
    () => s.freeMany(Uint32Array.from([pick(live), pick(stale)]), 2),
    () => s.freeMany(Uint32Array.from([pick(live), pick(live)]).fill(live[3]), 2),
    () => s.freeMany(new Uint32Array(2), pick([3, -1, 1.5, 'x'])),
    () => s.freeMany(pick([[1, 2], new Int32Array(2), null]), 1),
    () => (closed as unknown as Record<string, (...a: unknown[]) => unknown>).readString(closedHandle),
    () => (closed as unknown as Record<string, (...a: unknown[]) => unknown>).put('k', 'v'),
    () => n.goodSize(pick([-1, 1.5, 'x', NaN, 2 ** 41, undefined])),
    () => n.arenaStats(pick([-1, 4096, 0.5, 'x', undefined])),
    () => n.purgeArena(pick([-1, 4096, 0.5, 'x', null])),
    () => n.setBackgroundThread(pick(['yes', 1, undefined, null])),
    () => n.setErrorClass(pick([5, 'x', undefined, {}])),
    () => st.open(pick(notNumbers.filter((v) => typeof v !== 'boolean')), 64),
    () => st.open(true, pick([15, 64 * 1024 * 1024 + 1, 64.5, -1, NaN, new Uint8Array(64), 'x', null])),
    () => st.scratch(pick([closedId, -1, 0.5, 'x', null, 123456789])),
    () => st.setExtraBytes(pick([closedId, 'x', null]), 0),
    () => st.setExtraBytes(liveId, pick([-1, 0.5, 'x', null, 2 ** 51])),
    () => st.read(pick([-1, 0.5, 2 ** 53, 'x', null, 123456789]), live[0], 'live:0'),
    () => st.put(closedId, 'k', 'v'),
    () => s.get(pick(notStrings), 0, true),
    () => s.get('live:0', 0, pick(['x', 1, null, undefined, {}])),
    () => s.get('live:0', pick(['x', null, undefined, {}]), true),
    () => s.upsert('k', 0, pick(notValues), true),
    () => s.upsert(pick(notStrings), 0, 'v', false),
    () => s.upsert('k', pick(['x', null, {}]), 'v', false),
    () => s.upsert('k', 0, huge, true),
    () => s.mgetInto(pick([null, 'x', {}, new Uint8Array(2)]), 0, new Uint8Array(8), 0, new Int32Array(1), true),
    () => s.mgetInto(['live:0'], pick([-1, 2, 0.5, 'x', NaN]), new Uint8Array(8), 0, new Int32Array(1), true),
    () => s.mgetInto(['live:0'], 0, pick(notValues), 0, new Int32Array(1), true),
    () => s.mgetInto(['live:0'], 0, new Uint8Array(8), 0, pick([new Uint32Array(1), [1], null]), true),
    () => s.mgetInto(['a', 'b'], 0, new Uint8Array(8), 0, new Int32Array(1), true),
    () => s.mgetInto(['live:0'], 0, new Uint8Array(8), pick([9, -1, 0.5, 'x']), new Int32Array(1), true),
    () => s.mgetInto([pick(notStrings), 'a'], 0, new Uint8Array(8), 0, new Int32Array(2), true),
    () => s.mgetInto(['live:0'], 0, new Uint8Array(8), 0, new Int32Array(1), pick(['yes', 0, null])),
    () => bind(pick(notValues), null, lru, volatilePos, volatileExpires, 0, false, false),
    () => bind(pick([new Int32Array(6), new Int32Array(0), new Uint32Array(128)]), null, lru, volatilePos, volatileExpires, 0, false, false),
    () => bind(table, pick([new Int32Array(3), 'x']), lru, volatilePos, volatileExpires, 0, false, false),
    () => bind(table, null, new Uint32Array(32), volatilePos, volatileExpires, 0, false, false),
    () => bind(table, null, lru, volatilePos, pick([new Uint32Array(4), null]), 0, false, false),
    () => bind(table, null, lru, volatilePos, volatileExpires, pick([-1, 2 ** 33, 0.5, 'x']), false, false),
    () => bind(table, null, lru, volatilePos, volatileExpires, 0, pick([1, 'no', null]), false),
    () => bind(table, null, lru, volatilePos, volatileExpires, 0, false, pick([1, 'no', null])),
    () => st.get(liveId, 'k', 0, true), // tables never bound
    () => st.mgetInto(closedId, ['k'], 0, new Uint8Array(1), 0, new Int32Array(1), true),
    // native/string_binding.cc: every argument checked before a slot is touched.
    () => s.appendValue(badHandle(), 'x'),
    () => s.appendValue(pick(live), pick(notValues)),
    () => s.appendValue(pick(live), huge),
    () => s.writeRange(badHandle(), 0, 'x'),
    () => s.writeRange(pick(live), pick([-1, 0.5, 'x', NaN, 2 ** 30, null]), 'x'),
    () => s.writeRange(pick(live), 2 ** 29 - 1, 'xy'),
    () => s.writeRange(pick(live), 0, pick(notValues)),
    () => s.readRange(badHandle(), 0, new Uint8Array(4)),
    () => s.readRange(pick(live), pick([-1, 0.5, 'x', 2 ** 30]), new Uint8Array(4)),
    () => s.readRange(pick(live), 0, pick(notValues)),
    () => s.setBit(badHandle(), 0, 1),
    () => s.setBit(pick(live), pick([-1, 2 ** 32, 0.5, 'x', null]), 1),
    () => s.setBit(pick(live), 3, pick([2, -1, 0.5, 'x', true])),
    () => s.bitcount(badHandle(), 0, 0, 255, 255),
    () => s.bitcount(pick(live), pick([-1, 1e9, 0.5, 'x']), 0, 255, 255),
    () => s.bitcount(pick(live), 3, pick([2, 1e9, 'x']), 255, 255),
    () => s.bitcount(pick(live), 0, 1, pick([256, -1, 0.5]), 255),
    () => s.bitpos(badHandle(), 1, 0, 7),
    () => s.bitpos(pick(live), pick([2, -1, 'x']), 0, 7),
    () => s.bitpos(pick(live), 1, 9, pick([3, 1e9, 'x'])),
    () => st.appendValue(closedId, live[0], 'x'),
    () => s.rekey(badHandle(), 'k'),
    () => s.duplicate(badHandle(), 'k'),
    () => s.duplicate(pick(live), pick(notNumbers.filter((v) => typeof v !== 'string'))),
    () => s.rekey(pick(live), pick(notNumbers.filter((v) => typeof v !== 'string'))),
  ]

  const codes = new Map<string, number>()
  for (let i = 0; i < 100_000; i++) {
    let thrown: unknown
    try {
      pick(calls)()
    } catch (err) {
      thrown = err
    }
    if (!(thrown instanceof TypeError || thrown instanceof RangeError || thrown instanceof ArenaKVError)) {
      throw new Error(`call ${i} did not throw a typed error: ${String(thrown)}`)
    }
    const code = (thrown as { code?: unknown }).code
    if (typeof code !== 'string') throw new Error(`call ${i} threw ${String(thrown)} without a code`)
    codes.set(code, (codes.get(code) ?? 0) + 1)
  }

  expect(allocator.usedMemory()).toBe(base)
  expect(store.usedBytes()).toBe(storeBytes)
  expect(store.count()).toBe(live.length)
  live.forEach((h, i) => expect(store.readStringIfKey(h, `live:${i}`)).toBe(`value:${i}`))
  // A bad bind changed nothing: the tables bound first are still the ones the lookups probe.
  expect(store.get('live:0', 0, true)).toBe(-1)
  expect([...codes.keys()].sort()).toEqual(
    expect.arrayContaining(['ERR_CLOSED', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_HANDLE', 'ERR_NATIVE', 'ERR_OUT_OF_RANGE', 'ERR_VALUE_TOO_LARGE']),
  )
  expect(closedScratch).toBeInstanceOf(ArrayBuffer)
  store.close()
  native.store.close(liveId)
}, 120_000)
