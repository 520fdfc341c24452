// Child of the throughput suite: a hot-set trace (90% of accesses on 10% of keys, 90% GET / 10% SET) against
// one cache for a fixed time, in chunks that yield to the event loop so its delay shows every stall.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { collectGarbage, progressReporter, rssBytes, runChild } from './child.js'
import { Rng } from './rng.js'
import { hotSetTrace } from './zipf.js'

export type ThroughputPeer = 'arenakv get' | 'arenakv getInto' | 'lru-cache' | 'mnemonist'

export interface ThroughputParams {
  peer: ThroughputPeer
  keys: number
  valueBytes: number
  durationMs: number
}

export interface ThroughputResult {
  peer: ThroughputPeer
  ops: number
  opsPerSec: number
  /** Event-loop delay over the timed run, ms (perf_hooks monitorEventLoopDelay, 1 ms resolution). */
  delayP50Ms: number
  delayP99Ms: number
  delayMaxMs: number
  rssGrowth: number
  hitRatio: number
}

interface Cache {
  get(key: string): boolean
  set(key: string, value: Buffer): void
  close(): void
}

const CHUNK = 2000
const TRACE = 1 << 22
const progress = progressReporter()

async function makeCache(p: ThroughputParams): Promise<Cache> {
  if (p.peer === 'arenakv get' || p.peer === 'arenakv getInto') {
    const { Engine } = await import('../lib/engine.js')
    const db = new Engine()
    const target = Buffer.allocUnsafe(p.valueBytes)
    // get() returns a copy (the API most users call); getInto() copies into the caller's buffer.
    const get = p.peer === 'arenakv get' ? (k: string) => db.get(k) !== undefined : (k: string) => db.getInto(k, target) >= 0
    return { get, set: (k, v) => void db.set(k, v), close: () => db.close() }
  }
  if (p.peer === 'mnemonist') {
    const { LRUCache: MnemonistLRU } = await import('mnemonist')
    const cache = new MnemonistLRU<string, Buffer>(p.keys)
    return { get: (k) => cache.get(k) !== undefined, set: (k, v) => void cache.set(k, v), close: () => cache.clear() }
  }
  // Peers are imported only by the child that measures them: both are optional (bench/peers.ts).
  const { LRUCache } = await import('lru-cache')
  const cache = new LRUCache<string, Buffer>({ max: p.keys })
  return { get: (k) => cache.get(k) !== undefined, set: (k, v) => void cache.set(k, v), close: () => cache.clear() }
}

runChild<ThroughputParams, ThroughputResult>(async (p) => {
  const rng = new Rng(3)
  const trace = hotSetTrace(p.keys, TRACE, 0.1, 0.9, rng)
  const isSet = new Uint8Array(TRACE)
  for (let i = 0; i < TRACE; i++) isSet[i] = rng.next() < 0.1 ? 1 : 0
  const template = Buffer.alloc(p.valueBytes, 0x62)
  const copies = p.peer.startsWith('arenakv') ? false : true
  collectGarbage()
  const rss0 = rssBytes()
  const cache = await makeCache(p)
  for (let i = 0; i < p.keys; i++) cache.set(`key:${i}`, copies ? Buffer.from(template) : template)

  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  let ops = 0
  let gets = 0
  let hits = 0
  let pos = 0
  const t0 = performance.now()
  const end = t0 + p.durationMs
  // Bounded: the run stops at durationMs whatever the speed.
  while (performance.now() < end) {
    for (let c = 0; c < CHUNK; c++) {
      const key = `key:${trace[pos]}`
      if (isSet[pos] === 1) cache.set(key, copies ? Buffer.from(template) : template)
      else {
        gets++
        if (cache.get(key)) hits++
      }
      pos = (pos + 1) & (TRACE - 1)
    }
    ops += CHUNK
    progress(`${p.peer}: ${Math.round(((performance.now() - t0) / p.durationMs) * 100)}%`)
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  const seconds = (performance.now() - t0) / 1000
  histogram.disable()
  const result: ThroughputResult = {
    peer: p.peer,
    ops,
    opsPerSec: ops / seconds,
    delayP50Ms: histogram.percentile(50) / 1e6,
    delayP99Ms: histogram.percentile(99) / 1e6,
    delayMaxMs: histogram.max / 1e6,
    rssGrowth: rssBytes() - rss0,
    hitRatio: gets > 0 ? hits / gets : 0,
  }
  cache.close()
  return result
})
