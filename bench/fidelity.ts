// Child of the fidelity suite: fill one cache under a 64 MB-style bound with values of one size, in a fresh
// process, and report how much the process RSS grew against the bound.
import { collectGarbage, progressReporter, rssBytes, runChild, sleep } from './child.js'
import { KeyDecoder } from './keys.js'

/** Warm-up keys are numbered from here, far from the fill's own. */
const WARMUP_KEY_BASE = 1e12

export type FidelityPeer = 'arenakv' | 'lru-cache'

export interface FidelityParams {
  peer: FidelityPeer
  valueBytes: number
  writes: number
  maxmemory: number
  /** Writes of a key deleted straight after, before the baseline (the suite says why). */
  warmupWrites: number
}

export interface FidelityResult {
  peer: FidelityPeer
  valueBytes: number
  writes: number
  keys: number
  /** RSS growth over the baseline right after the fill, and the highest growth sampled during it. */
  rssGrowth: number
  rssGrowthPeak: number
  /** RSS growth over the cold process, before the warm-up writes (what the fill and the warm-up cost together). */
  rssGrowthCold: number
  /** RSS growth after a forced full GC (what a JS heap cache holds once its garbage is collected). */
  rssGrowthAfterGc: number
  /** Growth of V8's heap (heapTotal) over the fill: JS-side memory, garbage included. */
  heapGrowth: number
  usedMemory: number | null
  seconds: number
}

const progress = progressReporter()

interface Cache {
  /** Whether the cache keeps the caller's Buffer (so each write needs its own) or copies the bytes. */
  keepsValue: boolean
  set(key: string, value: Buffer): void
  delete(key: string): void
  size(): number
  usedMemory(): number | null
  close(): void
}

async function makeCache(p: FidelityParams): Promise<Cache> {
  if (p.peer === 'arenakv') {
    const { Engine } = await import('../lib/engine.js')
    const db = new Engine({ maxmemory: p.maxmemory, maxmemoryPolicy: 'allkeys-lru' })
    return {
      keepsValue: false,
      set: (k, v) => void db.set(k, v),
      delete: (k) => void db.del(k),
      size: () => db.dbsize(),
      usedMemory: () => db.usedMemory(),
      close: () => db.close(),
    }
  }
  // lru-cache bounded by value bytes, as a user bounds it: maxSize with sizeCalculation = byteLength. Imported
  // here alone: it is an optional peer, absent from an installed arenakv unless the user adds it.
  const { LRUCache } = await import('lru-cache')
  const cache = new LRUCache<string, Buffer>({ maxSize: p.maxmemory, sizeCalculation: (v) => v.byteLength })
  return {
    keepsValue: true,
    set: (k, v) => void cache.set(k, v),
    delete: (k) => void cache.delete(k),
    size: () => cache.size,
    usedMemory: () => null,
    close: () => cache.clear(),
  }
}

runChild<FidelityParams, FidelityResult>(async (p) => {
  const template = Buffer.alloc(p.valueBytes, 0x61)
  const cache = await makeCache(p)
  const keys = new KeyDecoder()
  // lru-cache keeps the Buffer it is given, so each write brings its own (as data from the network would);
  // the engine copies the bytes into its arena, so the caller's buffer is transient and can be reused.
  const valueFor = (): Buffer => (cache.keepsValue ? Buffer.from(template) : template)
  collectGarbage()
  await sleep(50)
  const rssCold = rssBytes()
  for (let i = 0; i < p.warmupWrites; i++) {
    const key = keys.key(WARMUP_KEY_BASE + i)
    cache.set(key, valueFor())
    cache.delete(key)
  }
  await sleep(50)
  const rss0 = rssBytes()
  const heap0 = process.memoryUsage().heapTotal
  let peak = rss0
  const t0 = performance.now()
  for (let i = 0; i < p.writes; i++) {
    cache.set(keys.key(i), valueFor())
    if ((i & 0x3fff) === 0) {
      const rss = rssBytes()
      if (rss > peak) peak = rss
      progress(`${p.peer} ${p.valueBytes} B: ${Math.round((i / p.writes) * 100)}%`)
    }
  }
  const seconds = (performance.now() - t0) / 1000
  const rssEnd = rssBytes()
  const heapGrowth = process.memoryUsage().heapTotal - heap0
  collectGarbage()
  const rssGc = rssBytes()
  const result: FidelityResult = {
    peer: p.peer,
    valueBytes: p.valueBytes,
    writes: p.writes,
    keys: cache.size(),
    rssGrowth: rssEnd - rss0,
    rssGrowthPeak: Math.max(peak, rssEnd) - rss0,
    rssGrowthCold: rssEnd - rssCold,
    rssGrowthAfterGc: rssGc - rss0,
    heapGrowth,
    usedMemory: cache.usedMemory(),
    seconds,
  }
  cache.close()
  return result
})
