// OBJECT IDLETIME / FREQ and MEMORY USAGE: what one key costs and how it is used (Redis's object.c).
import { checkKey, type Db } from './db.js'
import { syntaxError } from './errors.js'
import { estimateIdleTime, lfuDecrAndReturn, lruClock } from './lru.js'
import { checkUsageSamples, keyModelBytes } from './report.js'
import { HANDLE_INDEX_MASK } from './store.js'

const LFU_IDLETIME_ERROR =
  'An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between ' +
  'policies at runtime LRU and LFU data will take some time to adjust.'
const LFU_FREQ_ERROR =
  'An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching ' +
  'between policies at runtime LRU and LFU data will take some time to adjust.'

/** OBJECT IDLETIME in seconds; ERR_SYNTAX under an LFU policy (the field holds a counter), as Redis. */
export function objectIdletimeCommand(db: Db, key: string): number | undefined {
  db.assertOpen()
  checkKey(key)
  const handle = db.lookupNoTouchOrEnd(key)
  if (handle === 0) return undefined
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
  if (!db.lfu) throw syntaxError(LFU_FREQ_ERROR)
  return lfuDecrAndReturn(db.ks.lru[handle & HANDLE_INDEX_MASK], db.now(), db.cfg.lfuDecayTime)
}

/**
 * MEMORY USAGE: the slot's usable bytes plus what the key costs in the tables (the key model, report.ts);
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
