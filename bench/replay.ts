// Replays a trace cache-aside (GET; on a miss, SET) through an engine whose maxmemory holds about `capacity` keys,
// as the hit-ratio suite does for every policy.
import type { MaxmemoryPolicy } from '../lib/config.js'
import type { Engine } from '../lib/engine.js'

export interface ReplayResult {
  hits: number
  /** Mean keys held after the cache first filled. */
  heldKeys: number
  maxmemory: number
  opsPerSec: number
  /** INFO memory's adaptive_* fields at the end, when the policy is adaptive. */
  info: Record<string, string | number>
}

/** maxmemory for `capacity` keys of `valueBytes` each: what an identical engine holding exactly that many uses. */
export function maxmemoryFor(EngineClass: typeof Engine, capacity: number, valueBytes: number): number {
  const probe = new EngineClass()
  const value = Buffer.alloc(valueBytes, 0x63)
  for (let i = 0; i < capacity; i++) probe.set(`key:${i}`, value)
  const maxmemory = probe.usedMemory()
  probe.close()
  return maxmemory
}

export function replay(
  EngineClass: typeof Engine,
  trace: Uint32Array,
  policy: MaxmemoryPolicy,
  samples: number,
  maxmemory: number,
  valueBytes: number,
  progress?: (share: number) => void,
): ReplayResult {
  const db = new EngineClass({ maxmemory, maxmemoryPolicy: policy, maxmemorySamples: samples })
  const value = Buffer.alloc(valueBytes, 0x63)
  const target = Buffer.allocUnsafe(valueBytes)
  // Keys as strings made once: the timed loop measures the engine, not string building.
  let distinct = 0
  for (let i = 0; i < trace.length; i++) if (trace[i] >= distinct) distinct = trace[i] + 1
  const names: string[] = new Array<string>(distinct)
  for (let i = 0; i < distinct; i++) names[i] = `key:${i}`
  let hits = 0
  let heldSum = 0
  let heldSamples = 0
  const t0 = performance.now()
  for (let i = 0; i < trace.length; i++) {
    const key = names[trace[i]]
    if (db.getInto(key, target) >= 0) hits++
    else db.set(key, value)
    if ((i & 0xff) === 0 && db.stats.evicted_keys > 0) {
      heldSum += db.dbsize()
      heldSamples++
    }
    if (progress !== undefined && (i & 0xffff) === 0) progress(i / trace.length)
  }
  const seconds = (performance.now() - t0) / 1000
  const info: Record<string, string | number> = {}
  for (const [k, v] of Object.entries(db.infoObject('memory'))) if (k.startsWith('adaptive_')) info[k] = v
  db.close()
  return { hits, heldKeys: heldSamples > 0 ? heldSum / heldSamples : 0, maxmemory, opsPerSec: trace.length / seconds, info }
}
