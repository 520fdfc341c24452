// ARC (Megiddo and Modha, 2003): two LRU lists, T1 (seen once recently) and T2 (seen at least twice), with ghost
// lists B1 and B2 of keys recently evicted from each; a ghost hit moves the target size p of T1. Reference only.

class LruList {
  readonly map = new Map<number, true>()
  get size(): number {
    return this.map.size
  }
  has(k: number): boolean {
    return this.map.has(k)
  }
  delete(k: number): boolean {
    return this.map.delete(k)
  }
  pushMru(k: number): void {
    this.map.set(k, true)
  }
  popLru(): number {
    const k = this.map.keys().next().value as number
    this.map.delete(k)
    return k
  }
}

/** Hits of ARC with `capacity` keys on `trace`, counting requests from index `from` on. */
export function arcHits(trace: Uint32Array, capacity: number, from = 0): number {
  const c = capacity
  const t1 = new LruList()
  const t2 = new LruList()
  const b1 = new LruList()
  const b2 = new LruList()
  let p = 0
  let hits = 0
  const replace = (inB2: boolean): void => {
    if (t1.size > 0 && (t1.size > p || (inB2 && t1.size === p))) b1.pushMru(t1.popLru())
    else if (t2.size > 0) b2.pushMru(t2.popLru())
    else if (t1.size > 0) b1.pushMru(t1.popLru())
  }
  for (let i = 0; i < trace.length; i++) {
    const x = trace[i]
    if (c <= 0) continue
    if (t1.delete(x) || t2.delete(x)) {
      if (i >= from) hits++
      t2.pushMru(x)
    } else if (b1.has(x)) {
      p = Math.min(c, p + Math.max(b2.size / b1.size, 1))
      replace(false)
      b1.delete(x)
      t2.pushMru(x)
    } else if (b2.has(x)) {
      p = Math.max(0, p - Math.max(b1.size / b2.size, 1))
      replace(true)
      b2.delete(x)
      t2.pushMru(x)
    } else {
      const l1 = t1.size + b1.size
      if (l1 === c) {
        if (t1.size < c) {
          b1.popLru()
          replace(false)
        } else {
          t1.popLru()
        }
      } else if (l1 < c) {
        const total = l1 + t2.size + b2.size
        if (total >= c) {
          if (total === 2 * c) b2.popLru()
          replace(false)
        }
      }
      t1.pushMru(x)
    }
  }
  return hits
}
