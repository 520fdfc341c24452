// Child of the throughput suite: one subject on one workload for a fixed time, keys built per operation
// ('key:' + n) from a precomputed trace, in chunks that yield to the event loop so its delay shows every stall.
// arenakv runs as production does, with maxmemory set (allkeys-lru, room for every key).
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { collectGarbage, progressReporter, rssBytes, runChild } from './child.js'
import { Rng } from './rng.js'
import { ZipfSampler, hotSetTrace } from './zipf.js'

/** mix: 90% GET / 10% SET; read: GETs only; write: SETs only (overwrites of existing keys). */
export type Workload = 'mix' | 'read' | 'write'
export type TraceShape = 'hotset' | 'zipf'
export type ThroughputPeer = 'arenakv get' | 'arenakv get (allkeys-adaptive)' | 'arenakv getInto' | 'arenakv mgetInto' | 'arenakv set' | 'lru-cache' | 'mnemonist'

export interface ThroughputParams {
  peer: ThroughputPeer
  workload: Workload
  trace: TraceShape
  keys: number
  valueBytes: number
  durationMs: number
}

export interface ThroughputResult {
  peer: ThroughputPeer
  workload: Workload
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
  /** Reads keys[0..n) at once; returns the hits (arenakv mgetInto only). */
  getMany?(keys: string[]): number
  close(): void
}

const CHUNK = 2048
/** Keys per mgetInto call: CHUNK is a multiple of it. */
export const BATCH = 64
const TRACE = 1 << 22
const progress = progressReporter()

/** maxmemory with room for every key: twice what the keys need, at least 64 MB. */
export function roomFor(keys: number, valueBytes: number): number {
  return Math.max(64 << 20, keys * (valueBytes + 96) * 2)
}

async function makeCache(p: ThroughputParams): Promise<Cache> {
  if (p.peer.startsWith('arenakv')) {
    const { Engine } = await import('../lib/engine.js')
    // allkeys-adaptive's row measures what its sketch and window cost a read beside allkeys-lru's.
    const policy = p.peer === 'arenakv get (allkeys-adaptive)' ? 'allkeys-adaptive' : 'allkeys-lru'
    const db = new Engine({ maxmemory: roomFor(p.keys, p.valueBytes), maxmemoryPolicy: policy })
    const target = Buffer.allocUnsafe(p.valueBytes * BATCH)
    const lengths = new Int32Array(BATCH)
    // get() returns a copy (the API most users call); getInto() copies into the caller's buffer; mgetInto() a batch.
    const get = p.peer === 'arenakv getInto' || p.peer === 'arenakv mgetInto' ? (k: string) => db.getInto(k, target) >= 0 : (k: string) => db.get(k) !== undefined
    const getMany = (keys: string[]): number => {
      db.mgetInto(keys, target, lengths)
      let hits = 0
      for (let i = 0; i < keys.length; i++) if (lengths[i] >= 0) hits++
      return hits
    }
    return { get, getMany: p.peer === 'arenakv mgetInto' ? getMany : undefined, set: (k, v) => void db.set(k, v), close: () => db.close() }
  }
  // Peers are imported only by the child that measures them: both are optional (bench/peers.ts).
  if (p.peer === 'mnemonist') {
    const { LRUCache: MnemonistLRU } = await import('mnemonist')
    const cache = new MnemonistLRU<string, Buffer>(p.keys)
    return { get: (k) => cache.get(k) !== undefined, set: (k, v) => void cache.set(k, v), close: () => cache.clear() }
  }
  const { LRUCache } = await import('lru-cache')
  const cache = new LRUCache<string, Buffer>({ max: p.keys })
  return { get: (k) => cache.get(k) !== undefined, set: (k, v) => void cache.set(k, v), close: () => cache.clear() }
}

runChild<ThroughputParams, ThroughputResult>(async (p) => {
  const rng = new Rng(3)
  const trace = p.trace === 'zipf' ? new ZipfSampler(p.keys, 0.99, rng).trace(TRACE) : hotSetTrace(p.keys, TRACE, 0.1, 0.9, rng)
  const isSet = new Uint8Array(TRACE)
  const setShare = p.workload === 'mix' ? 0.1 : p.workload === 'write' ? 1 : 0
  for (let i = 0; i < TRACE; i++) isSet[i] = rng.next() < setShare ? 1 : 0
  const template = Buffer.alloc(p.valueBytes, 0x62)
  // The JS caches keep the Buffer they are given, so they get a copy per write, as the engine copies into its slot.
  const copies = !p.peer.startsWith('arenakv')
  collectGarbage()
  const rss0 = rssBytes()
  const cache = await makeCache(p)
  for (let i = 0; i < p.keys; i++) cache.set(`key:${i}`, copies ? Buffer.from(template) : template)

  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  const batch = new Array<string>(BATCH).fill('')
  let ops = 0
  let gets = 0
  let hits = 0
  let pos = 0
  const t0 = performance.now()
  const end = t0 + p.durationMs
  // Bounded: the run stops at durationMs whatever the speed.
  while (performance.now() < end) {
    if (cache.getMany !== undefined) {
      for (let c = 0; c < CHUNK; c += BATCH) {
        for (let j = 0; j < BATCH; j++) batch[j] = `key:${trace[(pos + j) & (TRACE - 1)]}`
        hits += cache.getMany(batch)
        gets += BATCH
        pos = (pos + BATCH) & (TRACE - 1)
      }
    } else {
      for (let c = 0; c < CHUNK; c++) {
        const key = `key:${trace[pos]}`
        if (isSet[pos] === 1) cache.set(key, copies ? Buffer.from(template) : template)
        else {
          gets++
          if (cache.get(key)) hits++
        }
        pos = (pos + 1) & (TRACE - 1)
      }
    }
    ops += CHUNK
    progress(`${p.peer} ${p.workload}: ${Math.round(((performance.now() - t0) / p.durationMs) * 100)}%`)
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  const seconds = (performance.now() - t0) / 1000
  histogram.disable()
  const result: ThroughputResult = {
    peer: p.peer,
    workload: p.workload,
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
