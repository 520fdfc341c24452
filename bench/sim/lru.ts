// Exact LRU by Map insertion order: a hit moves the key to the back, a miss evicts the front. Reference only.

/** Hits of an exact LRU cache of `capacity` keys on `trace`, counting requests from index `from` on. */
export function lruHits(trace: Uint32Array, capacity: number, from = 0): number {
  const map = new Map<number, true>()
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const k = trace[i]
    if (map.delete(k)) {
      if (i >= from) hits++
    } else if (map.size >= capacity) {
      map.delete(map.keys().next().value as number)
    }
    if (capacity > 0) map.set(k, true)
  }
  return hits
}
