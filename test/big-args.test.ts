// Keys and values near Redis's 512 MB proto-max-bulk-len: the limit applies to the encoded key on every command,
// and a huge argument leaves no copy behind in native memory once the call is over.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { Engine, engineInternals } from '../lib/engine.js'
import { createStore } from '../lib/store.js'

const MiB = 1024 * 1024
const open: Engine[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})
function engine(): Engine {
  const db = new Engine()
  open.push(db)
  return db
}
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** RSS once V8 has dropped its garbage (values read back as JS strings) and the allocator its free pages. */
function settledRss(db: Engine): number {
  gc()
  db.memoryPurge()
  return allocator.rss() as number
}

describe('big arguments leave no hidden native memory', () => {
  it('a 40 MB string value that exactly fills its allocation (no byte spare for a NUL) leaves nothing behind', () => {
    const db = engine()
    db.set('first', 'v')
    const store = engineInternals(db).slotStore
    // Size the value so header + key + value is exactly the slot's usable size: the allocator's size class when it
    // can say in advance, else the usable size of a probe.
    let slotBytes = 0
    if (allocator.capabilities.goodSize) {
      slotBytes = allocator.goodSize(40 * MiB)
    } else {
      const probe = store.put('p', new Uint8Array(40 * MiB))
      slotBytes = store.usableSize(probe)
      store.free(probe)
    }
    const valueLength = slotBytes - 8 - 1
    const value = 'x'.repeat(valueLength)
    db.exists(value)
    const used = db.usedMemory()
    const before = settledRss(db)
    expect(db.set('k', value)).toBe(true)
    const slot = engineInternals(db).peekHandle('k') as number
    expect(store.usableSize(slot)).toBe(8 + 1 + valueLength)
    // Read back into a small target: a 40 MB JS string would sit in V8's heap (whose freed pages are unmapped on a
    // background thread) and blur the RSS figure.
    const head = new Uint8Array(16)
    expect(db.getInto('k', head)).toBe(valueLength)
    expect(Buffer.from(head).toString()).toBe('x'.repeat(16))
    expect(db.del('k')).toBe(1)
    expect(db.usedMemory()).toBe(used)
    expect(settledRss(db) - before).toBeLessThan(20 * MiB)
  })

  it('a 40 MB key set then deleted gives its RSS back, and used memory is exact throughout', () => {
    const db = engine()
    db.set('first', 'v') // the store's first slot-table chunk is not what this test is about
    const key = 'k'.repeat(40 * MiB)
    db.exists(key) // hashing flattens the string now, so its flat copy is in the baseline
    const used = db.usedMemory()
    const before = settledRss(db)
    expect(db.set(key, 'v')).toBe(true)
    expect(db.get(key)?.toString()).toBe('v')
    expect(db.del(key)).toBe(1)
    expect(db.usedMemory()).toBe(used)
    expect(settledRss(db) - before).toBeLessThan(20 * MiB)
  })
})

describe('the key limit is 512 MB encoded, on every command', () => {
  it('accepts a 180 MB ASCII key in set, get, exists and del', () => {
    const db = engine()
    const key = 'a'.repeat(180_000_000)
    expect(db.set(key, 'v')).toBe(true)
    expect(db.get(key)?.toString()).toBe('v')
    expect(db.exists(key)).toBe(1)
    expect(db.del(key)).toBe(1)
    expect(db.dbsize()).toBe(0)
  })

  it('refuses a key over 512 MB encoded (180M × "€", 540 MB) with ERR_VALUE_TOO_LARGE everywhere', () => {
    const db = engine()
    const key = '€'.repeat(180_000_000)
    const tooLarge = expect.objectContaining({ code: 'ERR_VALUE_TOO_LARGE' })
    expect(() => db.set(key, 'v')).toThrow(tooLarge)
    expect(() => db.get(key)).toThrow(tooLarge)
    expect(() => db.getString(key)).toThrow(tooLarge)
    expect(() => db.del(key)).toThrow(tooLarge)
    expect(() => db.exists(key)).toThrow(tooLarge)
    expect(() => db.expire(key, 10)).toThrow(tooLarge)
    expect(() => db.ttl(key)).toThrow(tooLarge)
    // The native store applies the same limit to the keys it is given.
    const store = createStore({ scratchBytes: 64 })
    try {
      expect(() => store.put(key, 'v')).toThrow(tooLarge)
      const h = store.put('k', 'v')
      expect(() => store.keyEquals(h, key)).toThrow(tooLarge)
      expect(store.keyEquals(h, 'k')).toBe(true)
    } finally {
      store.close()
    }
  })
})
