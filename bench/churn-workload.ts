// The churn suite's write trace, made the same way in the Node children and in the parent that drives
// redis-server: a seeded Zipf key pick, a log-uniform size and a share of writes with a TTL, drawn up front so
// sampling costs nothing inside the timed loop and every subject replays the identical sequence.
import { Rng } from './rng.js'
import { ZipfSampler } from './zipf.js'

export const ZIPF_S = 0.99
export const MIN_VALUE_BYTES = 32
export const MAX_VALUE_BYTES = 16 * 1024
/** Share of writes that carry EX, and its range in seconds (inclusive). */
export const TTL_SHARE = 0.2
export const TTL_MIN_S = 1
export const TTL_MAX_S = 10

export interface ChurnTrace {
  /** Key index per write (Zipf over the key space, so most writes overwrite a popular key). */
  keys: Uint32Array
  /** Value bytes per write: log-uniform over [MIN_VALUE_BYTES, MAX_VALUE_BYTES]. */
  sizes: Uint16Array
  /** EX seconds per write, 0 for a write with no TTL. */
  ttls: Uint8Array
}

export function churnTrace(keySpace: number, writes: number, seed: number): ChurnTrace {
  const rng = new Rng(seed)
  const zipf = new ZipfSampler(keySpace, ZIPF_S, new Rng(seed ^ 0x2f1b))
  const keys = zipf.trace(writes)
  const sizes = new Uint16Array(writes)
  const ttls = new Uint8Array(writes)
  const span = Math.log(MAX_VALUE_BYTES / MIN_VALUE_BYTES)
  const ttlRange = TTL_MAX_S - TTL_MIN_S + 1
  for (let i = 0; i < writes; i++) {
    // Log-uniform: as many writes between 32 B and 64 B as between 8 KB and 16 KB, the spread that mixes
    // small bins, large size classes and page runs in one arena.
    sizes[i] = Math.min(MAX_VALUE_BYTES, Math.round(MIN_VALUE_BYTES * Math.exp(rng.next() * span)))
    ttls[i] = rng.next() < TTL_SHARE ? TTL_MIN_S + rng.int(ttlRange) : 0
  }
  return { keys, sizes, ttls }
}
