import { describe, expect, it } from 'vitest'
import { Keyspace, NO_EXPIRE } from '../lib/keyspace.js'
import { FakeStore } from './helpers/fake-store.js'

// Pure keyspace tests against the JS fake store: the table, its incremental resize, sampling, scan and the
// volatile list. The engine suites exercise the same code against the native store.

function fresh(): Keyspace {
  return new Keyspace(new FakeStore())
}

function add(ks: Keyspace, key: string, hash = ks.hashKey(key)): number {
  return ks.insert(key, hash, `v:${key}`)
}

function scanAll(ks: Keyspace, between?: () => void): string[] {
  const keys: string[] = []
  let cursor = 0
  do {
    const handles: number[] = []
    const hashes: number[] = []
    cursor = ks.scanStep(cursor, handles, hashes)
    for (const h of handles) keys.push(ks.store.key(h))
    between?.()
  } while (cursor !== 0)
  return keys
}

describe('keyspace table', () => {
  it('finds what it stores and nothing else', () => {
    const ks = fresh()
    for (let i = 0; i < 1000; i++) add(ks, `key:${i}`)
    expect(ks.count).toBe(1000)
    for (let i = 0; i < 1000; i++) {
      const key = `key:${i}`
      const h = ks.find(key, ks.hashKey(key))
      expect(h).not.toBe(0)
      expect(ks.store.key(h)).toBe(key)
    }
    expect(ks.find('nope', ks.hashKey('nope'))).toBe(0)
  })

  it('reads the value in the verifying call', () => {
    const ks = fresh()
    add(ks, 'a')
    const h = ks.findRead('a', ks.hashKey('a'))
    expect(h).not.toBe(0)
    expect(Buffer.from(ks.store.scratch.subarray(0, ks.readLength)).toString()).toBe('v:a')
    expect(ks.findString('a', ks.hashKey('a'))).toBe(h)
    expect(ks.readString).toBe('v:a')
  })

  it('tells keys apart when their fingerprints collide, and deletes from the middle of a probe run', () => {
    const ks = fresh()
    const handles = ['x', 'y', 'z', 'w'].map((k) => add(ks, k, 12345))
    for (const k of ['x', 'y', 'z', 'w']) expect(ks.store.key(ks.find(k, 12345))).toBe(k)
    expect(ks.remove(handles[1], 12345)).toBe(true)
    expect(ks.find('y', 12345)).toBe(0)
    for (const k of ['x', 'z', 'w']) expect(ks.store.key(ks.find(k, 12345))).toBe(k)
    expect(ks.remove(handles[1], 12345)).toBe(false)
    expect(ks.count).toBe(3)
  })

  it('computes the ascii flag in the hashing loop', () => {
    const ks = fresh()
    ks.hashKey('plain')
    expect(ks.ascii).toBe(true)
    ks.hashKey('café')
    expect(ks.ascii).toBe(false)
    expect(ks.hashKey('a')).not.toBe(ks.hashKey('b'))
    expect(ks.hashKey('\ud800')).not.toBe(ks.hashKey('\ufffd'))
  })

  it('agrees with a Map under random inserts and deletes through several grows and shrinks', () => {
    const ks = fresh()
    const model = new Map<string, number>()
    let seed = 99
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 20000; i++) {
        const key = `k${rand(8000 + round * 4000)}`
        const hash = ks.hashKey(key)
        if (rand(3) === 0) {
          const h = model.get(key)
          if (h !== undefined) {
            expect(ks.remove(h, hash)).toBe(true)
            model.delete(key)
          }
        } else if (!model.has(key)) {
          expect(ks.find(key, hash)).toBe(0)
          model.set(key, add(ks, key, hash))
        }
      }
      // Drain most keys so the table shrinks.
      for (const [key, h] of [...model].slice(0, Math.floor(model.size * 0.95))) {
        expect(ks.remove(h, ks.hashKey(key))).toBe(true)
        model.delete(key)
      }
      expect(ks.count).toBe(model.size)
      for (const [key, h] of model) expect(ks.find(key, ks.hashKey(key))).toBe(h)
    }
  })

  it('resizes incrementally: a grow moves a bounded number of entries per write', () => {
    const ks = fresh()
    let sawRehash = false
    let maxSize = 0
    for (let i = 0; i < 50000; i++) {
      add(ks, `k${i}`)
      sawRehash ||= ks.rehashing
      maxSize = Math.max(maxSize, ks.tableSize)
      // Every key stays reachable while entries are split across the two tables.
      if (ks.rehashing && i % 97 === 0) {
        for (let j = 0; j <= i; j += 101) expect(ks.find(`k${j}`, ks.hashKey(`k${j}`))).not.toBe(0)
      }
    }
    expect(sawRehash).toBe(true)
    expect(ks.count / maxSize).toBeLessThanOrEqual(0.9)
    while (ks.rehashing) ks.cron()
    expect(ks.count).toBe(50000)
  })

  it('stops growing past GROW_LOAD when told there is no room, up to the forced limit', () => {
    const ks = fresh()
    ks.growAllowed = () => false
    for (let i = 0; i < 57; i++) add(ks, `k${i}`)
    expect(ks.tableSize).toBe(64)
    for (let i = 57; i < 60; i++) add(ks, `k${i}`)
    expect(ks.tableSize).toBeGreaterThan(64)
  })

  it('counts the exact bytes of its typed arrays', () => {
    const ks = fresh()
    const initial = ks.arrayBytes
    // 64-slot table (2 x 4 B), 64 metadata entries (2 x 4 B), 16 volatile entries (4 + 4 + 8 B).
    expect(initial).toBe(64 * 8 + 64 * 8 + 16 * 16)
    for (let i = 0; i < 100; i++) add(ks, `k${i}`)
    while (ks.rehashing) ks.cron()
    expect(ks.arrayBytes).toBe(ks.tableSize * 8 + 128 * 8 + 16 * 16)
  })
})

describe('keyspace sampling', () => {
  it('samples only live keys', () => {
    const ks = fresh()
    const live = new Set<number>()
    for (let i = 0; i < 500; i++) live.add(add(ks, `k${i}`))
    const handles = new Uint32Array(16)
    const hashes = new Uint32Array(16)
    for (let round = 0; round < 200; round++) {
      const n = ks.sampleKeys(5, handles, hashes)
      expect(n).toBe(5)
      for (let i = 0; i < n; i++) {
        expect(live.has(handles[i])).toBe(true)
        expect(ks.contains(handles[i], hashes[i])).toBe(true)
      }
    }
  })

  it('draws random keys from the whole table, also mid-rehash', () => {
    const ks = fresh()
    for (let i = 0; i < 200; i++) add(ks, `k${i}`)
    const seen = new Set<string>()
    for (let i = 0; i < 5000; i++) {
      const h = ks.randomKey()
      expect(ks.contains(h, ks.sampledHash)).toBe(true)
      seen.add(ks.store.key(h))
    }
    expect(seen.size).toBe(200)
    const empty = fresh()
    expect(empty.randomKey()).toBe(0)
    expect(empty.sampleKeys(5, new Uint32Array(5), new Uint32Array(5))).toBe(0)
  })
})

describe('keyspace scan', () => {
  it('returns every key once on a stable table', () => {
    const ks = fresh()
    for (let i = 0; i < 3000; i++) add(ks, `k${i}`)
    while (ks.rehashing) ks.cron()
    const keys = scanAll(ks)
    expect(keys.length).toBe(3000)
    expect(new Set(keys).size).toBe(3000)
  })

  it('returns every key present throughout, even while the table grows', () => {
    const ks = fresh()
    for (let i = 0; i < 1000; i++) add(ks, `old${i}`)
    let n = 0
    const keys = new Set(scanAll(ks, () => {
      for (let j = 0; j < 40 && n < 20000; j++) add(ks, `new${n++}`)
    }))
    for (let i = 0; i < 1000; i++) expect(keys.has(`old${i}`)).toBe(true)
  })

  it('returns every key present throughout, even while the table shrinks', () => {
    const ks = fresh()
    const doomed: [number, number][] = []
    for (let i = 0; i < 500; i++) add(ks, `keep${i}`)
    for (let i = 0; i < 20000; i++) {
      const key = `drop${i}`
      const hash = ks.hashKey(key)
      doomed.push([add(ks, key, hash), hash])
    }
    while (ks.rehashing) ks.cron()
    const keys = new Set(scanAll(ks, () => {
      for (let j = 0; j < 300 && doomed.length > 0; j++) {
        const [h, hash] = doomed.pop() as [number, number]
        ks.remove(h, hash)
      }
    }))
    for (let i = 0; i < 500; i++) expect(keys.has(`keep${i}`)).toBe(true)
  })
})

describe('keyspace volatile list', () => {
  it('keeps expire times in a dense list with O(1) removal', () => {
    const ks = fresh()
    const hs: number[] = []
    for (let i = 0; i < 100; i++) {
      const key = `k${i}`
      const hash = ks.hashKey(key)
      const h = add(ks, key, hash)
      hs.push(h)
      ks.setExpire(h, hash, 1000 + i)
    }
    expect(ks.volatileCount).toBe(100)
    expect(ks.getExpire(hs[7])).toBe(1007)
    ks.setExpire(hs[7], ks.hashKey('k7'), 5)
    expect(ks.getExpire(hs[7])).toBe(5)
    expect(ks.volatileCount).toBe(100)
    for (let i = 0; i < 90; i++) expect(ks.clearExpire(hs[i])).toBe(true)
    expect(ks.clearExpire(hs[0])).toBe(false)
    expect(ks.getExpire(hs[0])).toBe(NO_EXPIRE)
    expect(ks.volatileCount).toBe(10)
    for (let i = 90; i < 100; i++) expect(ks.getExpire(hs[i])).toBe(1000 + i)
    const listed = new Set<number>()
    for (let p = 0; p < ks.volatileCount; p++) listed.add(ks.volatileAt(p))
    expect(listed).toEqual(new Set(hs.slice(90)))
    // Removing a key drops it from the list too.
    expect(ks.remove(hs[95], ks.hashKey('k95'))).toBe(true)
    expect(ks.volatileCount).toBe(9)
  })
})
