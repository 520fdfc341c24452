// OBJECT IDLETIME / FREQ and MEMORY USAGE: what one key costs and how it is used (Redis's object.c).
import { checkKey, type Db } from './db.js'
import { syntaxError } from './errors.js'
import { estimateIdleTime, lfuDecrAndReturn, lruClock } from './lru.js'
import { HANDLE_INDEX_MASK, SLOT_TABLE_ENTRY_BYTES } from './store.js'

const LFU_IDLETIME_ERROR =
  'An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between ' +
  'policies at runtime LRU and LFU data will take some time to adjust.'
const ADAPTIVE_IDLETIME_ERROR =
  'An adaptive maxmemory policy is selected, idle time not tracked (the lru field holds an access clock).'
const LFU_FREQ_ERROR =
  'An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching ' +
  'between policies at runtime LRU and LFU data will take some time to adjust.'

/**
 * The key model (ARCHITECTURE.md, "Memory"): bytes a key costs outside its slot's usable size. A table
 * position (32-bit fingerprint + 32-bit handle), the LRU/LFU stamp and the volatile-list position (4 B each), the
 * native slot-table entry; a key with a TTL adds its volatile-list entry (handle, hash, expire time as a double).
 * No V8 heap object is kept per key: test/accounting.test.ts calibrates that constant at 0.
 */
export const KEY_MODEL_BYTES = 8 + 4 + 4 + SLOT_TABLE_ENTRY_BYTES
export const KEY_MODEL_VOLATILE_BYTES = 4 + 4 + 8
export const KEY_MODEL_JS_HEAP_BYTES = 0

export function keyModelBytes(volatile: boolean): number {
  return KEY_MODEL_BYTES + KEY_MODEL_JS_HEAP_BYTES + (volatile ? KEY_MODEL_VOLATILE_BYTES : 0)
}

/** MEMORY USAGE's SAMPLES argument: a whole number ≥ 0 (0 = every element; a string value has only one). */
export function checkUsageSamples(opts: { samples?: number } | undefined): void {
  if (opts === undefined) return
  if (opts === null || typeof opts !== 'object') throw new TypeError('memoryUsage options must be an object')
  const samples = opts.samples
  if (samples === undefined) return
  if (typeof samples !== 'number') throw new TypeError(`samples must be a number, got ${typeof samples}`)
  if (!Number.isSafeInteger(samples) || samples < 0) {
    throw new RangeError(`samples must be a whole number ≥ 0, got ${samples}`)
  }
}

/** OBJECT IDLETIME in seconds; ERR_SYNTAX under an LFU policy (the field holds a counter), as Redis. */
export function objectIdletimeCommand(db: Db, key: string): number | undefined {
  db.assertOpen()
  checkKey(key)
  const handle = db.lookupNoTouchOrEnd(key)
  if (handle === 0) return undefined
  if (db.evictor.adaptive.active) throw syntaxError(ADAPTIVE_IDLETIME_ERROR)
  if (db.lfu) throw syntaxError(LFU_IDLETIME_ERROR)
  const idleMs = estimateIdleTime(lruClock(db.now()), db.ks.lru[handle & HANDLE_INDEX_MASK])
  return Math.floor(idleMs / 1000)
}

/** OBJECT FREQ: the decayed LFU counter; ERR_SYNTAX unless an LFU policy is set, as Redis. */
export function objectFreqCommand(db: Db, key: string): number | undefined {
  db.assertOpen()
  checkKey(key)
  const handle = db.lookupNoTouchOrEnd(key)
  if (handle === 0) return undefined
  // Under the adaptive policies: the frequency sketch's estimate of the key's recent requests (0..16).
  if (db.evictor.adaptive.active) return db.evictor.adaptive.frequency(db.ks.hashKey(key))
  if (!db.lfu) throw syntaxError(LFU_FREQ_ERROR)
  return lfuDecrAndReturn(db.ks.lru[handle & HANDLE_INDEX_MASK], db.now(), db.cfg.lfuDecayTime)
}

/**
 * MEMORY USAGE: the slot's usable bytes plus what the key costs in the tables (the key model above);
 * undefined for a missing or expired key, which it neither expires nor counts as a hit or miss.
 */
export function memoryUsageCommand(db: Db, key: string, opts?: { samples?: number }): number | undefined {
  db.assertOpen()
  checkUsageSamples(opts)
  checkKey(key)
  const handle = db.peekHandle(key)
  if (handle === undefined) return undefined
  return db.store.usableSize(handle) + keyModelBytes(db.ks.volatilePos[handle & HANDLE_INDEX_MASK] !== 0)
}
