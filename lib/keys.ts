// Generic key commands beyond DEL / EXISTS / TOUCH / SCAN (Redis's db.c and object.c): KEYS, RENAME, RENAMENX,
// COPY, RANDOMKEY, TYPE and OBJECT ENCODING. A key lives inside its slot: RENAME rewrites the key in the slot
// (native: resized in place when the size class allows, the value never leaves native memory), COPY duplicates the
// slot natively; the TTL goes with the key either way.
import { checkKey, type Db } from './db.js'
import { ArenaKVError, outOfRangeError } from './errors.js'
import { globMatch } from './glob.js'
import { NO_EXPIRE } from './keyspace.js'
import { lruClock } from './lru.js'
import { HANDLE_INDEX_MASK } from './store.js'
import { string2ll } from './strconv.js'
import { keyBytes, readShortValue, reserveValue, runCommand, settled } from './write.js'

/** OBJECT ENCODING's names for a string (Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT is 44 bytes). */
export type StringEncoding = 'int' | 'embstr' | 'raw'
const EMBSTR_SIZE_LIMIT = 44
const INT_MAX_CHARS = 20

export interface CopyOptions {
  /** Overwrite an existing destination. */
  replace?: boolean
  /** The destination database: this engine has one, db 0. */
  db?: number
}

/** KEYS: every live key matching the glob pattern (expired keys met on the way are removed). */
export function keysCommand(db: Db, pattern: string): string[] {
  if (typeof pattern !== 'string') throw new TypeError('pattern must be a string')
  return runCommand(db, () => {
    const handles: number[] = []
    const hashes: number[] = []
    let cursor = 0
    do cursor = db.ks.scanStep(cursor, handles, hashes)
    while (cursor !== 0)
    const all = pattern === '*'
    const now = db.now()
    const out: string[] = []
    for (let i = 0; i < handles.length; i++) {
      if (db.ks.isExpired(handles[i], now)) {
        db.removeWithEvent(handles[i], hashes[i], 'expired')
        continue
      }
      const key = db.store.key(handles[i])
      if (all || globMatch(pattern, key)) out.push(key)
    }
    return out
  })
}

/**
 * RENAME / RENAMENX (Redis's renameGenericCommand): `ERR_NO_SUCH_KEY` for a missing source; the key keeps its
 * value, TTL and access clock. Renaming a key onto itself is OK (RENAMENX: false). False when NX finds `dst`.
 */
export function renameCommand(db: Db, src: string, dst: string, nx: boolean): boolean {
  checkKey(src)
  checkKey(dst)
  return runCommand(db, () => {
    const now = db.now()
    const srcHash = db.ks.hashKey(src)
    let handle = db.lookupWrite(src, srcHash, now)
    if (handle === 0) throw new ArenaKVError('ERR_NO_SUCH_KEY', 'no such key')
    if (src === dst) return !nx
    const dstHash = db.ks.hashKey(dst)
    const existing = db.lookupWrite(dst, dstHash, now)
    if (existing !== 0 && nx) return false
    // RENAME is not refused under memory pressure (Redis's command is not DENYOOM), but eviction runs as before
    // any command; the new slot differs from the old by the key's length only.
    if (db.cfg.maxmemory !== 0) {
      db.evictor.performEvictions(Math.max(0, keyBytes(dst) - keyBytes(src)))
      handle = db.lookupWrite(src, srcHash, now)
      if (handle === 0) throw new ArenaKVError('ERR_NO_SUCH_KEY', 'no such key')
    }
    const old = db.lookupWrite(dst, dstHash, now)
    if (old !== 0) db.ks.remove(old, dstHash)
    // The slot itself takes the new key: its value, handle, access clock and TTL stay (Redis moves the object).
    settled(db, () => {
      db.ks.rekey(handle, srcHash, dst, dstHash)
      db.evictor.adaptive.renamed(handle, dstHash)
    })
    return true
  })
}

/**
 * COPY (Redis's copyCommand): the value and its TTL under `dst`; false when the source is missing or `dst`
 * exists without `replace`. Copying a key onto itself is `ERR_SAME_OBJECT`; a db other than 0 is out of range.
 */
export function copyCommand(db: Db, src: string, dst: string, opts: CopyOptions = {}): boolean {
  checkKey(src)
  checkKey(dst)
  if (typeof opts !== 'object' || opts === null) throw new TypeError('copy options must be an object')
  if (opts.db !== undefined) {
    if (!Number.isInteger(opts.db)) throw new ArenaKVError('ERR_NOT_INTEGER', 'value is not an integer or out of range')
    if (opts.db !== 0) throw outOfRangeError('DB index is out of range')
  }
  if (src === dst) throw new ArenaKVError('ERR_SAME_OBJECT', 'source and destination objects are the same')
  return runCommand(db, () => {
    const now = db.now()
    const srcHash = db.ks.hashKey(src)
    let handle = db.lookupWrite(src, srcHash, now)
    if (handle === 0) return false
    const dstHash = db.ks.hashKey(dst)
    let existing = db.lookupWrite(dst, dstHash, now)
    if (existing !== 0 && opts.replace !== true) return false
    if (db.cfg.maxmemory !== 0) {
      reserveValue(db, dst, dstHash, 0, db.store.valueLength(handle), now)
      handle = db.lookupWrite(src, srcHash, now)
      if (handle === 0) return false
      existing = db.lookupWrite(dst, dstHash, now)
    }
    const when = db.ks.getExpire(handle)
    if (existing !== 0) db.ks.remove(existing, dstHash)
    const source = handle
    settled(db, () => {
      const copy = db.ks.insertCopy(dst, dstHash, source)
      db.ks.lru[copy & HANDLE_INDEX_MASK] = db.lfu ? db.newKeyClock(copy, dstHash, now) : lruClock(now)
      if (when !== NO_EXPIRE) db.ks.setExpire(copy, dstHash, when)
    })
    return true
  })
}

/** RANDOMKEY: a random live key, or undefined when there is none (expired keys drawn are removed). */
export function randomkeyCommand(db: Db): string | undefined {
  return runCommand(db, () => {
    const now = db.now()
    // Every draw that finds an expired key removes it, so this ends; the bound guards against a clock that moves.
    for (let tries = db.ks.count + 1; tries > 0; tries--) {
      const handle = db.ks.randomKey()
      if (handle === 0) return undefined
      const hash = db.ks.sampledHash
      if (!db.ks.isExpired(handle, now)) return db.store.key(handle)
      db.removeWithEvent(handle, hash, 'expired')
    }
    return undefined
  })
}

/** TYPE: 'string' for every key here, 'none' when missing (a no-touch lookup, as Redis's). */
export function typeCommand(db: Db, key: string): 'string' | 'none' {
  checkKey(key)
  return runCommand(db, () => (db.lookupNoTouch(key) === 0 ? 'none' : 'string'))
}

/**
 * OBJECT ENCODING, from the value as Redis's tryObjectEncoding would encode it on SET: 'int' for an int64 in
 * string2ll's form, 'embstr' up to 44 bytes, 'raw' beyond. Redis also calls 'raw' a short value that APPEND,
 * SETRANGE or SETBIT changed in place, and 'embstr' an integer INCRBYFLOAT wrote; this engine keeps no per-key
 * encoding, so it names those by their content.
 */
export function objectEncodingCommand(db: Db, key: string): StringEncoding | undefined {
  checkKey(key)
  return runCommand(db, () => {
    const handle = db.lookupNoTouch(key)
    if (handle === 0) return undefined
    const length = db.store.valueLength(handle)
    if (length <= INT_MAX_CHARS) {
      const text = readShortValue(db, handle, INT_MAX_CHARS)
      if (text !== null && string2ll(text) !== null) return 'int'
    }
    return length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw'
  })
}
