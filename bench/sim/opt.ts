// Belady's OPT: on a miss with the cache full, evict the key whose next request is farthest in the future (never
// requested again counts as infinitely far). The upper bound every policy is compared with. Reference only.

/** Hits of OPT with `capacity` keys on `trace`, counting requests from index `from` on. */
export function optHits(trace: Uint32Array, capacity: number, from = 0): number {
  const n = trace.length
  // next[i]: the index of the next request of trace[i] after i, or n + i (never again; distinct, so ties break).
  const next = new Float64Array(n)
  const seen = new Map<number, number>()
  for (let i = n - 1; i >= 0; i--) {
    const at = seen.get(trace[i])
    next[i] = at === undefined ? n + i : at
    seen.set(trace[i], i)
  }
  // The cache maps key -> its next request; a max-heap of (next request, key) with lazy deletion picks the victim.
  const cached = new Map<number, number>()
  const heapAt: number[] = []
  const heapKey: number[] = []
  const push = (at: number, key: number): void => {
    let i = heapAt.length
    heapAt.push(at)
    heapKey.push(key)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (heapAt[p] >= at) break
      heapAt[i] = heapAt[p]
      heapKey[i] = heapKey[p]
      i = p
    }
    heapAt[i] = at
    heapKey[i] = key
  }
  const popMax = (): number => {
    const key = heapKey[0]
    const lastAt = heapAt.pop() as number
    const lastKey = heapKey.pop() as number
    const size = heapAt.length
    if (size > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= size) break
        const c = l + 1 < size && heapAt[l + 1] > heapAt[l] ? l + 1 : l
        if (heapAt[c] <= lastAt) break
        heapAt[i] = heapAt[c]
        heapKey[i] = heapKey[c]
        i = c
      }
      heapAt[i] = lastAt
      heapKey[i] = lastKey
    }
    return key
  }
  let hits = 0
  for (let i = 0; i < n; i++) {
    const k = trace[i]
    if (cached.has(k)) {
      if (i >= from) hits++
    } else {
      if (capacity <= 0) continue
      while (cached.size >= capacity) {
        const topAt = heapAt[0]
        const victim = popMax()
        // A stale heap entry (the key was requested since) is skipped.
        if (cached.get(victim) === topAt) cached.delete(victim)
      }
    }
    cached.set(k, next[i])
    push(next[i], k)
  }
  return hits
}
