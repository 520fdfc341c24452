// What the string and key commands beyond SET share on their way through the keyspace (ARCHITECTURE.md, "The path
// of a SET"): room made before the write (db.reserve), the value written, the typed arrays settled after it, and
// the command's queued events delivered at its end, also when it fails.
import type { Db, Value } from './db.js'
import { estimateUsableSize } from './evict.js'
import { SLOT_HEADER_BYTES } from './store.js'

/**
 * Runs a command's body, then delivers the events it queued (an expiry its lookup caused, keys evicted for it).
 * When the body throws, the events are still delivered and its error wins; a listener's error becomes its cause.
 */
export function runCommand<T>(db: Db, body: () => T): T {
  db.assertOpen()
  let result: T
  try {
    result = body()
  } catch (error) {
    try {
      db.events.flush()
    } catch (listenerError) {
      if (error instanceof Error && error.cause === undefined) error.cause = listenerError
    }
    throw error
  }
  db.events.flush()
  return result
}

/** Bytes a key takes in its slot (WTF-8, as the store keeps it). */
export function keyBytes(key: string): number {
  return Buffer.byteLength(key)
}

/**
 * Makes room for a value of `length` bytes under `key` before it is written: the new slot, or what replacing the
 * slot of `handle` (a live key) adds. Under noeviction with nothing to evict this is the OOM error, before anything
 * is written. Returns the key's handle again: eviction may have removed the key (0 then). `oldLength` is the live
 * value's length when the caller knows it.
 */
export function reserveValue(
  db: Db, key: string, hash: number, handle: number, length: number, now: number, oldLength = -1,
): number {
  if (db.cfg.maxmemory === 0) return handle
  // A value no longer than the live one it replaces fits the slot that holds it (its usable size is at least the
  // size class of what it holds): nothing to add, and no call to ask the slot's size.
  const fits = handle !== 0 && length <= oldLength
  const need = fits ? 0 : estimateUsableSize(SLOT_HEADER_BYTES + keyBytes(key) + length)
  const have = handle === 0 || fits ? 0 : db.store.usableSize(handle)
  // Only eviction removes keys here (listeners run after the command), and each key it removes is counted: when
  // the count has not moved, the key is still where it was and needs no second lookup.
  const evicted = db.stats.evicted_keys
  db.reserve(Math.max(0, need - have))
  return handle === 0 || db.stats.evicted_keys === evicted ? handle : db.lookupWrite(key, hash, now)
}

/** Runs `write` (which may insert a key or grow a slot), then evicts again if a typed array grew with it. */
export function settled<T>(db: Db, write: () => T): T {
  const arrays = db.ks.arrayBytes
  const high = db.ks.highIndex
  const result = write()
  if (db.cfg.maxmemory !== 0) db.settle(arrays, high)
  return result
}

/** Writes `value` over the key of `handle` (its TTL kept) or as a new key without one; the key's handle. */
export function storeValue(db: Db, key: string, hash: number, handle: number, value: Value, now: number): number {
  return settled(db, () => db.writeValue(key, hash, value, handle, now))
}

/**
 * LOOKUP_WRITE (lazy expiry, no statistics, no access clock) that also reads the value, in the same native call,
 * into scratch when it fits: its length is then db.ks.readLength.
 */
export function lookupWriteRead(db: Db, key: string, hash: number, now: number): number {
  const handle = db.ks.findRead(key, hash)
  if (handle !== 0 && db.ks.isExpired(handle, now)) {
    db.removeWithEvent(handle, hash, 'expired')
    return 0
  }
  return handle
}

/** The value of a live key as a latin1 string (one char per byte), or null when it is longer than `max` bytes. */
export function readShortValue(db: Db, handle: number, max: number): string | null {
  const length = db.store.valueLength(handle)
  if (length > max) return null
  const bytes = Buffer.allocUnsafe(length)
  db.store.readRange(handle, 0, bytes)
  return bytes.toString('latin1')
}
