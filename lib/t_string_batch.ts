// MGETINTO: a batch read into one caller-owned buffer (no Buffer per value), with MGET's semantics for expiry, the
// access clock and the hit/miss counters. On the native store the batch is one call per run of keys whose cache
// misses overlap (software prefetch, native/hot_binding.cc); engine.ts exposes it.
import { checkKeys, type Db } from './db.js'
import { CELL_BATCH_OFFSET, I32_HANDLE, I32_HASH, I32_HITS, I32_MISSES } from './store.js'

/**
 * Copies the values of `keys` back to back into `target`, `lengths[i]` each value's length or -1 for a missing
 * key; stops before the first value that does not fit. Returns how many keys were processed.
 */
export function mgetIntoCommand(db: Db, keys: readonly string[], target: Uint8Array, lengths: Int32Array): number {
  db.assertOpen()
  if (!Array.isArray(keys)) throw new TypeError('keys must be an array of strings')
  checkKeys(keys)
  if (!(target instanceof Uint8Array)) throw new TypeError('target must be a Uint8Array')
  if (!(lengths instanceof Int32Array)) throw new TypeError('lengths must be an Int32Array')
  if (lengths.length < keys.length) throw new RangeError('lengths must have an element per key')
  const fused = db.fused
  // LFU counters are updated in TypeScript (they draw a random number), so LFU policies read key by key.
  if (fused === null || db.lfu) return mgetIntoByKey(db, keys, target, lengths)
  const io = fused.cellsI32
  let i = 0
  let offset = 0
  while (i < keys.length) {
    i = fused.mgetInto(keys, i, target, offset, lengths, db.clock.prepare(fused.cells))
    db.stats.keyspace_hits += io[I32_HITS]
    db.stats.keyspace_misses += io[I32_MISSES]
    offset = fused.cells[CELL_BATCH_OFFSET]
    const expired = io[I32_HANDLE]
    // Done, or the next value does not fit.
    if (expired === 0) break
    // Lazy expiry is TypeScript's: the key goes (its event queued) and reads as missing; the batch goes on after it.
    db.removeWithEvent(expired, io[I32_HASH], 'expired')
    db.stats.keyspace_misses++
    lengths[i] = -1
    i++
  }
  db.events.flush()
  return i
}

function mgetIntoByKey(db: Db, keys: readonly string[], target: Uint8Array, lengths: Int32Array): number {
  let offset = 0
  let i = 0
  for (; i < keys.length; i++) {
    const handle = db.lookupRead(keys[i])
    if (handle === 0) {
      lengths[i] = -1
      continue
    }
    const length = db.ks.readLength
    if (length > target.length - offset) break
    if (length > db.scratch.length) db.store.readInto(handle, target, offset)
    else target.set(db.scratchView(length), offset)
    lengths[i] = length
    offset += length
  }
  db.events.flush()
  return i
}
