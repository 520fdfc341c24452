import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from 'vitest'
import { ArenaKVError } from '../lib/errors.js'
import { native } from '../lib/native.js'
import { HANDLE_INDEX_BITS, createStore, handleIndex, type NativeStore } from '../lib/store.js'
import { ensureDist } from './helpers/dist.js'
import { run } from './helpers/run.js'

const root = fileURLToPath(new URL('..', import.meta.url))

const stores: NativeStore[] = []
function open(scratchBytes = 1024): NativeStore {
  const s = createStore({ scratchBytes })
  stores.push(s)
  return s
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

const text = (s: NativeStore, n: number) => Buffer.from(s.scratch.subarray(0, n)).toString()

describe('store slots', () => {
  test('put and read back strings and bytes, key verified in the same call', () => {
    const s = open()
    const a = s.put('alpha', 'héllo wörld')
    const b = s.put('beta', new Uint8Array([0, 1, 2, 255]))
    expect(text(s, s.read(a, 'alpha'))).toBe('héllo wörld')
    expect(s.read(a, 'beta')).toBe(-1)
    expect(s.read(b, 'beta')).toBe(4)
    expect([...s.scratch.subarray(0, 4)]).toEqual([0, 1, 2, 255])
    expect(s.readString(a)).toBe('héllo wörld')
    expect(s.readStringIfKey(a, 'alpha')).toBe('héllo wörld')
    expect(s.readStringIfKey(a, 'alphA')).toBeUndefined()
    expect(s.valueLength(a)).toBe(Buffer.byteLength('héllo wörld'))
    expect(s.key(b)).toBe('beta')
    expect(s.keyEquals(b, 'beta')).toBe(true)
    expect(s.keyEquals(b, 'bet')).toBe(false)
    expect(s.count()).toBe(2)
  })

  test('every JS string is its own key, lone surrogates included', () => {
    const s = open()
    const keys = ['', 'a\uD800b', 'a\uDC00b', 'a\uFFFDb', '😀', '\u0100', '\u0000', 'ÿ', 'x'.repeat(300)]
    const handles = keys.map((k, i) => s.put(k, String(i)))
    keys.forEach((k, i) => {
      expect(s.key(handles[i])).toBe(k)
      keys.forEach((other, j) => expect(s.keyEquals(handles[i], other)).toBe(i === j))
    })
  })

  test('values larger than the scratch buffer are read with readInto', () => {
    const s = open(64)
    const big = new Uint8Array(10_000).map((_, i) => i & 0xff)
    const h = s.put('big', big)
    expect(s.read(h, 'big')).toBe(10_000)
    const out = new Uint8Array(10_000)
    expect(s.readInto(h, out)).toBe(10_000)
    expect(out).toEqual(big)
    const part = new Uint8Array(10)
    expect(s.readInto(h, part, 5)).toBe(10_000)
    expect([...part.subarray(5)]).toEqual([0, 1, 2, 3, 4])
    expect(() => s.readInto(h, part, 11)).toThrow(RangeError)
  })

  test('replace keeps the handle and the key', () => {
    const s = open()
    const h = s.put('k', 'one')
    s.replace(h, 'a much longer value than before'.repeat(10))
    expect(s.readStringIfKey(h, 'k')).toBe('a much longer value than before'.repeat(10))
    s.replace(h, new Uint8Array(0))
    expect(s.read(h, 'k')).toBe(0)
    s.replace(h, s.scratch.subarray(0, 0))
    expect(s.key(h)).toBe('k')
  })

  test('string values at every size near an allocation boundary are written whole', () => {
    const s = open(1 << 16)
    for (let n = 0; n < 600; n++) {
      const v = 'é'.repeat(n >> 1) + 'x'.repeat(n & 1)
      const h = s.put('', v)
      expect(s.readString(h)).toBe(v)
      s.replace(h, v + 'y')
      expect(s.readString(h)).toBe(v + 'y')
      s.free(h)
    }
  })

  test('handles are generation-checked: stale, freed and never-issued handles are RangeErrors', () => {
    const s = open()
    const h = s.put('k', 'v')
    expect(h).toBeGreaterThan(0)
    s.free(h)
    expect(() => s.free(h)).toThrow(RangeError)
    const reused = s.put('k2', 'v2')
    expect(handleIndex(reused)).toBe(handleIndex(h))
    expect(reused).not.toBe(h)
    expect(() => s.read(h, 'k2')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_HANDLE' }))
    for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 32, 12345, handleIndex(reused)]) {
      expect(() => s.readString(bad)).toThrow(RangeError)
    }
    expect(() => s.readString('1' as unknown as number)).toThrow(TypeError)
    expect(reused >>> HANDLE_INDEX_BITS).toBeGreaterThan(0)
  })

  test('freeMany is all-or-nothing', () => {
    const s = open()
    const hs = Uint32Array.from([s.put('a', '1'), s.put('b', '2'), s.put('c', '3')])
    const dup = Uint32Array.from([hs[0], hs[1], hs[0]])
    expect(() => s.freeMany(dup, 3)).toThrow(RangeError)
    expect(s.count()).toBe(3)
    expect(() => s.freeMany(Uint32Array.from([hs[0], 999]), 2)).toThrow(RangeError)
    expect(s.count()).toBe(3)
    expect(() => s.freeMany(hs, 4)).toThrow(RangeError)
    s.freeMany(hs, 2)
    expect(s.count()).toBe(1)
    expect(s.readString(hs[2])).toBe('3')
  })

  test('values and keys over 512 MB are refused with ERR_VALUE_TOO_LARGE', () => {
    const s = open()
    const huge = new Uint8Array(512 * 1024 * 1024 + 1)
    const before = s.usedBytes()
    expect(() => s.put('k', huge)).toThrow(expect.objectContaining({ code: 'ERR_VALUE_TOO_LARGE' }))
    const h = s.put('k', 'v')
    expect(() => s.replace(h, huge)).toThrow(ArenaKVError)
    expect(s.readString(h)).toBe('v')
    expect(s.usedBytes()).toBeGreaterThan(before)
  })

  test('wrong argument types are TypeErrors', () => {
    const s = open()
    const h = s.put('k', 'v')
    expect(() => s.put(1 as unknown as string, 'v')).toThrow(TypeError)
    expect(() => s.put('k', 5 as unknown as string)).toThrow(TypeError)
    expect(() => s.put('k', new Uint16Array(2) as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => s.readInto(h, [] as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => s.freeMany([h] as unknown as Uint32Array, 1)).toThrow(TypeError)
    expect(() => createStore({ scratchBytes: 3 })).toThrow(RangeError)
  })

  test('a closed store refuses every call with ERR_CLOSED and frees its memory', () => {
    const s = open()
    const h = s.put('k', 'v')
    expect(s.usedBytes()).toBeGreaterThan(0)
    s.close()
    expect(() => s.readString(h)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    const reopened = open()
    expect(() => s.readString(h)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    expect(reopened.count()).toBe(0)
    expect(() => s.put('k', 'v')).toThrow(ArenaKVError)
    expect(() => s.usedBytes()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    s.close()
  })

  test('the scratch buffer native code writes into cannot be transferred away', () => {
    const s = open()
    const h = s.put('k', 'v')
    try {
      structuredClone(s.scratch.buffer, { transfer: [s.scratch.buffer] })
    } catch {
      // refusing the transfer outright is as good as cloning instead
    }
    expect(s.scratch.buffer.byteLength).toBe(1024)
    expect(s.read(h, 'k')).toBe(1)
  })

  test('replaceIfKey overwrites only the slot holding that key; free reports the bytes released', () => {
    const s = open()
    const h = s.put('k', 'old')
    expect(s.replaceIfKey(h, 'other', 'x')).toBe(false)
    expect(s.readString(h)).toBe('old')
    expect(s.replaceIfKey(h, 'k', 'new value')).toBe(true)
    expect(s.readString(h)).toBe('new value')
    const usable = s.usableSize(h)
    expect(s.free(h)).toBe(usable)
    const a = s.put('a', 'x'.repeat(100))
    const b = s.put('b', 'y')
    const both = s.usableSize(a) + s.usableSize(b)
    expect(s.freeMany(Uint32Array.from([a, b]), 2)).toBe(both)
  })

  test('scratch memory is native: usedBytes counts it, and it is the same ArrayBuffer for the store’s life', () => {
    const s = open(1024)
    expect(s.scratchUsable).toBeGreaterThanOrEqual(1024)
    expect(s.usedBytes()).toBe(s.scratchUsable)
    const h = s.put('k', 'v'.repeat(100))
    expect(s.usedBytes()).toBeGreaterThanOrEqual(s.scratchUsable + s.usableSize(h))
    s.free(h)
    const ids = native.store
    const id = ids.open(false, 64)
    try {
      expect(ids.scratch(id)).toBe(ids.scratch(id))
      expect(ids.scratch(id).byteLength).toBe(64)
      for (const bad of [15, 64 * 1024 * 1024 + 1, 1.5, -1]) expect(() => ids.open(false, bad)).toThrow(RangeError)
      expect(() => ids.open(false, '64' as unknown as number)).toThrow(TypeError)
    } finally {
      ids.close(id)
    }
    expect(() => ids.scratch(id)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })

  test('the clock cell is one native ArrayBuffer per environment that clockTick writes the time into', () => {
    const buffer = native.clockCell()
    expect(native.clockCell()).toBe(buffer)
    const cell = new Float64Array(buffer, 0, 1)
    const before = Date.now()
    native.clockTick()
    const after = Date.now()
    expect(cell[0]).toBeGreaterThanOrEqual(before)
    expect(cell[0]).toBeLessThanOrEqual(after)
    expect(Number.isInteger(cell[0])).toBe(true)
  })

  // A BYOB read transfers the view's ArrayBuffer whatever markAsUntransferable says; once V8 collects it, native
  // code must not be left writing into freed memory. The script checks every value and that memory V8 handed out
  // again still holds what JS wrote there.
  test('a scratch buffer detached by a BYOB stream read and collected leaves native code in its own memory', async () => {
    await ensureDist()
    const script = `${root}test/scripts/scratch-detach.mjs`
    const r = await run(process.execPath, ['--expose-gc', script], { cwd: root, timeout: 120_000 })
    const output = `${r.stdout}\n${r.stderr}`
    expect(r.status, output).toBe(0)
    expect(JSON.parse(r.stdout.trim().split('\n').pop() as string), output).toEqual({ detached: true, checked: 9000 })
    // test/allocator-builds.test.ts runs the same script on the ASAN build.
  }, 120_000)
})
