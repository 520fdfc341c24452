// The string commands (Redis's t_string.c): SET with its options, GET and its variants, MGET, MSET, GETDEL, GETEX.
// Functions over a Db (db.ts); engine.ts exposes them.
import { checkKey, checkKeys, type Db, type Value } from './db.js'
import { syntaxError } from './errors.js'
import { absoluteExpire } from './expire.js'
import { NO_EXPIRE, REPLACE_EXPIRED } from './keyspace.js'
import { lruClock } from './lru.js'
import { CELL_NOW, HANDLE_INDEX_MASK } from './store.js'

/** EX / PX / EXAT / PXAT, as SET and GETEX take them: int64s (a bigint where a number cannot carry one). */
export interface ExpireOptions {
  ex?: number | bigint
  px?: number | bigint
  exat?: number | bigint
  pxat?: number | bigint
}

export interface SetOptions extends ExpireOptions {
  nx?: boolean
  xx?: boolean
  keepttl?: boolean
}

export interface GetExOptions extends ExpireOptions {
  persist?: boolean
}

export function checkValue(value: unknown): asserts value is Value {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new TypeError('value must be a string or a Uint8Array')
  }
}

function checkOptions(opts: unknown, command: string): void {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${command} options must be an object`)
}

/** How many of EX, PX, EXAT, PXAT are given (more than one is a syntax error). */
function expireOptionCount(opts: ExpireOptions): number {
  return +(opts.ex !== undefined) + +(opts.px !== undefined) + +(opts.exat !== undefined) + +(opts.pxat !== undefined)
}

/**
 * The absolute expire time (unix ms) EX / PX / EXAT / PXAT give, or NO_EXPIRE: Redis's
 * parseExtendedStringArgumentsOrReply and getExpireMillisecondsOrReply, which refuse values that are not
 * positive integers with 'invalid expire time'.
 */
function expireOptionTime(opts: ExpireOptions, now: number, command: string): number {
  if (opts.ex !== undefined) return absoluteExpire(opts.ex, 1000, now, true, command)
  if (opts.px !== undefined) return absoluteExpire(opts.px, 1, now, true, command)
  if (opts.exat !== undefined) return absoluteExpire(opts.exat, 1000, 0, true, command)
  if (opts.pxat !== undefined) return absoluteExpire(opts.pxat, 1, 0, true, command)
  return NO_EXPIRE
}

/** Redis's setGenericCommand; false when NX or XX refuse the write. `command` names it in errors (SETEX, …). */
export function setCommand(db: Db, key: string, value: Value, opts?: SetOptions, command = 'set'): boolean {
  db.assertOpen()
  checkKey(key)
  checkValue(value)
  // The time is read here only when an option needs it; otherwise the write's own call reads it (Clock.prepare).
  let now = 0
  let when = NO_EXPIRE
  let nx = false
  let xx = false
  let keepttl = false
  if (opts !== undefined) {
    checkOptions(opts, command)
    db.clock.tick()
    now = db.clock.cell[0]
    nx = opts.nx === true
    xx = opts.xx === true
    keepttl = opts.keepttl === true
    if (expireOptionCount(opts) + +keepttl > 1 || (nx && xx)) throw syntaxError()
    when = expireOptionTime(opts, now, command)
  }
  const ks = db.ks
  const hash = ks.hashKey(key)
  if (db.cfg.maxmemory !== 0) db.reserve(db.slotEstimate(ks.ascii ? key.length : -1, key, value))
  if (!nx && (when === NO_EXPIRE || when > now)) {
    // The common case: overwrite in place with one native call per fingerprint match, or insert a key known
    // to be absent (no second probe). An expired match takes the general path below, which expires it first.
    const arrays = ks.arrayBytes
    const high = ks.highIndex
    let handle: number
    const fused = db.fused
    if (fused !== null && ks.hasFingerprint(hash)) {
      // One native call: probe, verify, replace in place (ARCHITECTURE.md, "The path of a SET").
      let nativeClock = false
      if (opts === undefined) nativeClock = db.clock.prepare(fused.cells)
      else fused.cells[CELL_NOW] = now
      handle = fused.upsert(key, hash, value, nativeClock)
      now = fused.cells[CELL_NOW]
    } else if (fused !== null) {
      // No slot has the key's fingerprint: the key is absent, and the insert below is the only native call.
      handle = 0
      if (opts === undefined) {
        db.clock.tick()
        now = db.clock.cell[0]
      }
    } else {
      if (opts === undefined) {
        db.clock.tick()
        now = db.clock.cell[0]
      }
      ks.replaceNow[0] = now
      handle = ks.replaceExisting(key, hash, value)
    }
    if (handle !== REPLACE_EXPIRED) {
      if (handle !== 0) {
        // An overwrite is an access; LFU keeps the key's counter (Redis's dbSetValue copies the old lru). The
        // LRU stamp is written here rather than through touchKey: a double passed to a call that is not
        // inlined is boxed, a heap number per write.
        if (db.lfu) db.touchKey(handle, now, hash)
        else ks.lru[handle & HANDLE_INDEX_MASK] = lruClock(now)
      } else {
        if (xx) {
          db.events.flush()
          return false
        }
        handle = ks.insert(key, hash, value)
        ks.lru[handle & HANDLE_INDEX_MASK] = db.lfu ? db.newKeyClock(handle, hash, now) : lruClock(now)
      }
      if (when !== NO_EXPIRE) ks.setExpire(handle, hash, when)
      else if (!keepttl) ks.clearExpire(handle)
      if (db.cfg.maxmemory !== 0) db.settle(arrays, high)
      db.events.flush()
      return true
    }
  }
  let handle = db.lookupWrite(key, hash, now)
  if ((nx && handle !== 0) || (xx && handle === 0)) {
    db.events.flush()
    return false
  }
  if (when !== NO_EXPIRE && when <= now) {
    // Already expired (Redis's checkAlreadyExpired): the key is deleted rather than written.
    if (handle !== 0) ks.remove(handle, hash)
    db.events.flush()
    return true
  }
  const arrays = ks.arrayBytes
  const high = ks.highIndex
  handle = db.writeValue(key, hash, value, handle, now)
  if (when !== NO_EXPIRE) ks.setExpire(handle, hash, when)
  else if (!keepttl) ks.clearExpire(handle)
  if (db.cfg.maxmemory !== 0) db.settle(arrays, high)
  db.events.flush()
  return true
}

/**
 * SET … GET (and GETSET): the old value, or undefined; the write happens as SET's options allow (NX and XX
 * included, as Redis 7 allows). The options are checked and room made before the old value is read, as Redis
 * parses and refuses a command before running it.
 */
export function setGetCommand(db: Db, key: string, value: Value, opts?: SetOptions, command = 'set'): Buffer | undefined {
  db.assertOpen()
  checkKey(key)
  checkValue(value)
  if (opts !== undefined) {
    checkOptions(opts, command)
    if (expireOptionCount(opts) + +(opts.keepttl === true) > 1 || (opts.nx === true && opts.xx === true)) throw syntaxError()
    expireOptionTime(opts, db.now(), command)
  }
  if (db.cfg.maxmemory !== 0) db.reserve(db.slotEstimate(-1, key, value))
  const handle = db.lookupRead(key)
  const old = handle === 0 ? undefined : db.copyValue(handle)
  setCommand(db, key, value, opts, command)
  return old
}

/** MSETNX: writes every pair only when none of the keys exists; false (nothing written) otherwise. */
export function msetnxCommand(db: Db, entries: Iterable<readonly [string, Value]>): boolean {
  db.assertOpen()
  const list = [...entries]
  for (const entry of list) {
    if (!Array.isArray(entry) || entry.length < 2) throw new TypeError('msetnx entries must be [key, value] pairs')
    checkKey(entry[0])
    checkValue(entry[1])
  }
  const now = db.now()
  for (const [key] of list) {
    if (db.lookupWrite(key, db.ks.hashKey(key), now) !== 0) {
      db.events.flush()
      return false
    }
  }
  msetCommand(db, list)
  return true
}

export function getCommand(db: Db, key: string): Buffer | undefined {
  db.assertOpen()
  checkKey(key)
  const handle = db.lookupRead(key)
  if (handle !== 0) return db.copyValue(handle)
  // Only a miss can have expired the key.
  db.events.flush()
  return undefined
}

export function getStringCommand(db: Db, key: string): string | undefined {
  db.assertOpen()
  checkKey(key)
  if (db.fused !== null) {
    const handle = db.lookupRead(key)
    if (handle === 0) {
      db.events.flush()
      return undefined
    }
    const length = db.ks.readLength
    return length <= db.scratch.length ? db.scratch.toString('utf8', 0, length) : db.store.readString(handle)
  }
  const ks = db.ks
  const hash = ks.hashKey(key)
  const handle = ks.findString(key, hash)
  if (handle === 0) {
    db.stats.keyspace_misses++
    return undefined
  }
  if (db.liveForRead(handle, hash)) return ks.readString
  db.events.flush()
  return undefined
}

export function getIntoCommand(db: Db, key: string, target: Uint8Array): number {
  db.assertOpen()
  checkKey(key)
  if (!(target instanceof Uint8Array)) throw new TypeError('target must be a Uint8Array')
  const handle = db.lookupRead(key)
  if (handle === 0) {
    db.events.flush()
    return -1
  }
  const length = db.ks.readLength
  if (length > db.scratch.length) return db.store.readInto(handle, target)
  target.set(db.scratchView(Math.min(length, target.length)))
  return length
}

/** getIntoCommand without the copy: the bytes stay in db.scratch when they fit (lengths beyond it are not read). */
export function readScratchCommand(db: Db, key: string): number {
  db.assertOpen()
  checkKey(key)
  const handle = db.lookupRead(key)
  if (handle === 0) {
    db.events.flush()
    return -1
  }
  return db.ks.readLength
}

export function mgetCommand(db: Db, keys: readonly string[]): (Buffer | undefined)[] {
  db.assertOpen()
  if (!Array.isArray(keys)) throw new TypeError('keys must be an array of strings')
  checkKeys(keys)
  const out = new Array<Buffer | undefined>(keys.length)
  for (let i = 0; i < keys.length; i++) {
    const handle = db.lookupRead(keys[i])
    out[i] = handle === 0 ? undefined : db.copyValue(handle)
  }
  db.events.flush()
  return out
}

/** MSET: the room for every entry is made before the first is written, so a refused MSET writes nothing. */
export function msetCommand(db: Db, entries: Iterable<readonly [string, Value]>): void {
  db.assertOpen()
  const list = [...entries]
  let incoming = 0
  for (const entry of list) {
    if (!Array.isArray(entry) || entry.length < 2) throw new TypeError('mset entries must be [key, value] pairs')
    checkKey(entry[0])
    checkValue(entry[1])
    if (db.cfg.maxmemory !== 0) incoming += db.slotEstimate(-1, entry[0], entry[1])
  }
  if (db.cfg.maxmemory !== 0) db.reserve(incoming)
  const now = db.now()
  const arrays = db.ks.arrayBytes
  const high = db.ks.highIndex
  for (const [key, value] of list) {
    const hash = db.ks.hashKey(key)
    const handle = db.writeValue(key, hash, value, db.lookupWrite(key, hash, now), now)
    db.ks.clearExpire(handle)
  }
  if (db.cfg.maxmemory !== 0) db.settle(arrays, high)
  db.events.flush()
}

export function getdelCommand(db: Db, key: string): Buffer | undefined {
  db.assertOpen()
  checkKey(key)
  const handle = db.lookupRead(key)
  if (handle === 0) {
    db.events.flush()
    return undefined
  }
  const value = db.copyValue(handle)
  db.ks.remove(handle, db.lastHash)
  return value
}

export function getexCommand(db: Db, key: string, opts?: GetExOptions): Buffer | undefined {
  db.assertOpen()
  checkKey(key)
  const now = db.now()
  let when = NO_EXPIRE
  let persist = false
  if (opts !== undefined) {
    checkOptions(opts, 'getex')
    persist = opts.persist === true
    if (expireOptionCount(opts) + +persist > 1) throw syntaxError()
    when = expireOptionTime(opts, now, 'getex')
  }
  const handle = db.lookupRead(key)
  if (handle === 0) {
    db.events.flush()
    return undefined
  }
  const value = db.copyValue(handle)
  const hash = db.lastHash
  if (when !== NO_EXPIRE) {
    if (when <= now) db.ks.remove(handle, hash)
    else db.ks.setExpire(handle, hash, when)
  } else if (persist) {
    db.ks.clearExpire(handle)
  }
  return value
}
