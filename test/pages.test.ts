import { describe, expect, test } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { native } from '../lib/native.js'
import { PAGED_MIN_BYTES, allocArray, isPaged, releaseArray } from '../lib/pages.js'

const MB = 1 << 20
const pages = native.pages

describe('kernel pages for the keyspace tables', () => {
  test('allocate gives zeroed memory and validates its size', () => {
    const buffer = pages.allocate(3 * 4096 + 5)
    expect(buffer.byteLength).toBe(3 * 4096 + 5)
    const bytes = new Uint8Array(buffer)
    expect(bytes.every((b) => b === 0)).toBe(true)
    bytes[bytes.length - 1] = 7
    expect(bytes[bytes.length - 1]).toBe(7)
    pages.release(buffer)
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 34]) {
      expect(() => pages.allocate(bad)).toThrow(RangeError)
    }
    for (const bad of ['4096', null, undefined, {}]) {
      expect(() => pages.allocate(bad as unknown as number)).toThrow(TypeError)
    }
  })

  test('discard zeroes the whole pages inside a view, leaves its partial end pages and everything outside alone', () => {
    // A growable SharedArrayBuffer, as a shared engine's regions are.
    const GrowableSAB = SharedArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => SharedArrayBuffer
    const sab = new GrowableSAB(16 * 4096, { maxByteLength: 64 * 4096 })
    const all = new Uint8Array(sab)
    all.fill(5)
    // From the middle of page 2 to the middle of page 9: pages 3..8 go.
    const from = 2 * 4096 + 100
    const to = 9 * 4096 + 100
    expect(pages.resident(new Uint8Array(sab))).toBe(16 * 4096)
    expect(pages.discard(new Uint8Array(sab, from, to - from))).toBe(6 * 4096)
    expect(pages.resident(new Uint8Array(sab))).toBe(10 * 4096)
    for (let i = 0; i < all.length; i += 512) expect(all[i]).toBe(i >= 3 * 4096 && i < 9 * 4096 ? 0 : 5)
    expect(all[from]).toBe(5)
    expect(all[to - 1]).toBe(5)
    // Still usable after: written pages read back.
    all[5 * 4096] = 3
    expect(all[5 * 4096]).toBe(3)
    expect(pages.discard(new Uint8Array(sab, 10, 100))).toBe(0)
    for (const bad of [new Int32Array(sab), sab, new ArrayBuffer(8), 'x', 1, null, undefined]) {
      expect(() => pages.discard(bad as unknown as Uint8Array)).toThrow(TypeError)
      expect(() => pages.resident(bad as unknown as Uint8Array)).toThrow(TypeError)
    }
  })

  test('release refuses anything it did not allocate, and never zeroes V8-owned memory', () => {
    const own = new ArrayBuffer(PAGED_MIN_BYTES)
    new Uint8Array(own).fill(9)
    expect(() => pages.release(own)).toThrow(TypeError)
    expect(new Uint8Array(own).every((b) => b === 9)).toBe(true)
    for (const bad of [new Uint8Array(16), 'x', 1, null, undefined]) {
      expect(() => pages.release(bad as unknown as ArrayBuffer)).toThrow(TypeError)
    }
  })

  test('release gives the resident pages back at once, without a GC; the buffer then reads zeros', () => {
    const buffer = pages.allocate(64 * MB)
    const bytes = new Uint8Array(buffer)
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 1
    const touched = allocator.rss() as number
    const liveBefore = pages.liveBytes()
    pages.release(buffer)
    const released = allocator.rss() as number
    expect(touched - released).toBeGreaterThan(60 * MB)
    expect(liveBefore - pages.liveBytes()).toBe(64 * MB)
    expect(bytes[0]).toBe(0)
    expect(bytes[bytes.length - 4096]).toBe(0)
    // A second release is harmless and counts nothing twice.
    pages.release(buffer)
    expect(liveBefore - pages.liveBytes()).toBe(64 * MB)
  })

  test('allocArray puts large arrays on pages and leaves small ones to V8', () => {
    const small = allocArray(Uint32Array, PAGED_MIN_BYTES / 4 - 1)
    const large = allocArray(Float64Array, PAGED_MIN_BYTES / 8)
    expect(isPaged(small)).toBe(false)
    expect(isPaged(large)).toBe(true)
    expect(large).toBeInstanceOf(Float64Array)
    expect(large.length).toBe(PAGED_MIN_BYTES / 8)
    const live = pages.liveBytes()
    releaseArray(small)
    releaseArray(large)
    expect(live - pages.liveBytes()).toBe(PAGED_MIN_BYTES)
    expect(isPaged(large)).toBe(false)
  })
})
