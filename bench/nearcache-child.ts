// One client process of the nearcache suite: node-redis against the suite's redis-server with arenakv's cache,
// node-redis's BasicClientSideCache, no cache, or the floor: a provider that answers every command with a constant,
// at once, which is what node-redis's own command path costs a hit whatever the cache. It fills the cache from a keyspace larger than it holds
// (RSS growth, entries held), times GET on hits sequentially and 64 at a time, and, with a cache, times the
// invalidations of 1,000 writes from a second connection.
import { BasicClientSideCache, BasicPooledClientSideCache, createClient } from 'redis'
import { ArenaKVClientSideCache } from '../lib/redis/index.js'
import { collectGarbage, progressReporter, rssBytes, runChild, sleep } from './child.js'

export type NearcacheMode = 'arenakv' | 'basic' | 'floor' | 'none'

export interface NearcacheParams {
  mode: NearcacheMode
  port: number
  keys: number
  maxmemory: number
  /** BasicClientSideCache's bound: the entries arenakv's cache held within maxmemory. */
  maxEntries: number
  hitOps: number
  missOps: number
}

export interface NearcacheResult {
  mode: NearcacheMode
  held: number
  rssGrowth: number
  /** V8 heap (used) growth over the fill, after a full GC. */
  heapGrowth: number
  usedMemory: number | null
  /** The engine's used_memory_rss after the fill (its arena's resident pages and its tables). */
  engineRss: number | null
  seqOpsPerSec: number
  /**
   * The process's CPU time per GET in the sequential pass, ns: on a shared machine the wall clock also counts time
   * the process waited for a core, CPU time does not (an uncached GET's wait for the server is not in it either).
   */
  seqCpuNs: number
  seqP50Us: number
  seqP99Us: number
  concOpsPerSec: number
  hitRatio: number | null
  invalidationP50Ms: number | null
  invalidationP99Ms: number | null
}

const CONCURRENCY = 64
const WRITES = 1000
/** GETs timed one by one for the percentiles. */
const LATENCY_OPS = 200_000

function pct(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/**
 * RSS once it has settled: V8 gives pages back some time after a GC (and a closed engine's arena may still be
 * returning its pages), so a single reading can be off by megabytes either way. Collects and reads again until two
 * readings 100 ms apart are within 256 KiB (at most 3 s).
 */
async function settledRss(): Promise<number> {
  let last = -Infinity
  for (let i = 0; i < 30; i++) {
    collectGarbage()
    await sleep(100)
    const now = rssBytes()
    if (Math.abs(now - last) < 256 * 1024) return now
    last = now
  }
  return last
}

/** The floor: every cacheable command answered with the same value, synchronously; it caches nothing. */
class ConstantProvider extends BasicPooledClientSideCache {
  override trackingOn(): string[] {
    return ['CLIENT', 'TRACKING', 'ON']
  }

  override handleCache(): Promise<unknown> {
    return 'constant' as unknown as Promise<unknown>
  }
}

type Provider = ArenaKVClientSideCache | BasicClientSideCache | ConstantProvider

function makeCache(p: NearcacheParams): Provider | null {
  if (p.mode === 'arenakv') return new ArenaKVClientSideCache({ maxmemory: p.maxmemory, maxmemoryPolicy: 'allkeys-lru' })
  if (p.mode === 'basic') return new BasicClientSideCache({ maxEntries: p.maxEntries })
  if (p.mode === 'floor') return new ConstantProvider()
  return null
}

async function main(p: NearcacheParams): Promise<NearcacheResult> {
  const progress = progressReporter()
  const socket = { host: '127.0.0.1', port: p.port }
  const connect = async (c: Provider | null) => {
    const client = c === null ? createClient({ socket, RESP: 3 }) : createClient({ socket, RESP: 3, clientSideCache: c })
    await client.connect()
    return client
  }
  const key = (i: number): string => `nc:${i}`
  const fill = async (client: Awaited<ReturnType<typeof connect>>, n: number): Promise<void> => {
    for (let i = 0; i < n; i += CONCURRENCY) {
      const batch: Promise<unknown>[] = []
      for (let j = i; j < Math.min(n, i + CONCURRENCY); j++) batch.push(client.get(key(j)))
      await Promise.all(batch)
      progress(`  fill ${i}/${n}`)
    }
  }

  // Warm-up, the same for every client, with a cache of its own that is then dropped: up to 30,000 distinct
  // keys compile the paths and grow V8's young generation to the fill's allocation rate, a cost a process pays once
  // whatever its cache holds. The measured cache starts empty after it.
  {
    const warmCache = makeCache(p)
    const warmClient = await connect(warmCache)
    await fill(warmClient, Math.min(p.keys, 30_000))
    await warmClient.close()
    if (warmCache instanceof ArenaKVClientSideCache) warmCache.close()
    else warmCache?.clear()
  }
  const arenakv = p.mode === 'arenakv' ? (makeCache(p) as ArenaKVClientSideCache) : null
  const cache = arenakv ?? makeCache(p)
  const client = await connect(cache)
  const writer = createClient({ socket })
  await writer.connect()
  const rss0 = await settledRss()
  const heap0 = process.memoryUsage().heapUsed

  // Fill: read every key once, 64 at a time.
  await fill(client, p.keys)
  const rssGrowth = (await settledRss()) - rss0
  const heapGrowth = process.memoryUsage().heapUsed - heap0
  let engineRss: number | null = null
  if (arenakv !== null) {
    const m = arenakv.engine.infoObject('memory')
    engineRss = Number(m.used_memory_rss)
    const pick = ['used_memory', 'allocator_allocated', 'allocator_active', 'allocator_resident', 'allocator_frag_bytes', 'process_rss']
    process.stderr.write(`  after fill: ${pick.map((k) => `${k} ${m[k]}`).join(', ')}; external ${process.memoryUsage().external}, arrayBuffers ${process.memoryUsage().arrayBuffers}\n`)
  }
  const held = cache?.size() ?? 0

  // Hits: the most recently read keys, which LRU keeps (a first pass makes any missing ones cached).
  const hot = Math.max(1, Math.min(held > 0 ? Math.floor(held * 0.8) : 10_000, 10_000))
  const hotKeys = Array.from({ length: hot }, (_, i) => key(p.keys - hot + i))
  for (const k of hotKeys) await client.get(k)
  const ops = cache === null ? p.missOps : p.hitOps
  const hits0 = cache?.stats().hitCount ?? 0
  // Throughput, one await after another, with no timer per operation (two clock reads would add to every hit).
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < ops; i++) await client.get(hotKeys[i % hot])
  const cpu = process.cpuUsage(cpu0)
  const seconds = (performance.now() - t0) / 1000
  const hitRatio = cache === null || p.mode === 'floor' ? null : (cache.stats().hitCount - hits0) / ops
  // Latency percentiles, in a pass of their own.
  const latOps = Math.min(ops, LATENCY_OPS)
  const lat = new Float64Array(latOps)
  for (let i = 0; i < latOps; i++) {
    const s = performance.now()
    await client.get(hotKeys[i % hot])
    lat[i] = performance.now() - s
  }
  lat.sort()
  const t1 = performance.now()
  for (let i = 0; i < ops; i += CONCURRENCY) {
    const batch: Promise<unknown>[] = []
    for (let j = i; j < Math.min(ops, i + CONCURRENCY); j++) batch.push(client.get(hotKeys[j % hot]))
    await Promise.all(batch)
  }
  const concSeconds = (performance.now() - t1) / 1000

  // Invalidation delay: from the start of a write on another connection to the cache's processing of its push.
  let invalidationP50Ms: number | null = null
  let invalidationP99Ms: number | null = null
  if (cache !== null && p.mode !== 'floor') {
    const delays = new Float64Array(WRITES)
    for (let i = 0; i < WRITES; i++) {
      const k = hotKeys[i % hot]
      await client.get(k)
      let resolve!: (t: number) => void
      const seen = new Promise<number>((r) => (resolve = r))
      const onInvalidate = (x: unknown): void => {
        if (x === null || String(x) === k) resolve(performance.now())
      }
      cache.on('invalidate', onInvalidate)
      const s = performance.now()
      await writer.set(k, `w${i}`)
      const timeout = setTimeout(() => resolve(NaN), 5000)
      delays[i] = (await seen) - s
      clearTimeout(timeout)
      cache.off('invalidate', onInvalidate)
    }
    delays.sort()
    invalidationP50Ms = pct(delays, 0.5)
    invalidationP99Ms = pct(delays, 0.99)
  }
  const usedMemory = arenakv?.engine.usedMemory() ?? null
  await client.close()
  await writer.close()
  arenakv?.close()
  return {
    mode: p.mode,
    held,
    rssGrowth,
    heapGrowth,
    usedMemory,
    engineRss,
    seqOpsPerSec: ops / seconds,
    seqCpuNs: ((cpu.user + cpu.system) * 1000) / ops,
    seqP50Us: pct(lat, 0.5) * 1000,
    seqP99Us: pct(lat, 0.99) * 1000,
    concOpsPerSec: ops / concSeconds,
    hitRatio,
    invalidationP50Ms,
    invalidationP99Ms,
  }
}

runChild(main)
