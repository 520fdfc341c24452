// Type-only import: the child module runs its workload when loaded.
import type { NearcacheMode, NearcacheParams, NearcacheResult } from '../nearcache-child.js'
import type { Cell } from '../output.js'
import { missingPeerNote } from '../peers.js'
import { RedisServer } from '../redis.js'
import type { Scale, Suite } from '../suite.js'

// arenakv as node-redis's client-side cache (arenakv/redis) beside node-redis's BasicClientSideCache and no cache,
// one client process each, against the same redis-server in the same run: GET on hits (sequential and 64 in
// flight), RSS held per cached entry, RSS growth ÷ maxmemory, and the invalidation delay. A fourth client, the
// floor, has a provider that answers every GET with a constant: node-redis's command path alone, which every hit
// pays whatever the cache.

const MB = 1 << 20
const VALUE_BYTES = 100
const PLAN: Record<Scale, { maxmemory: number; keys: number; hitOps: number; missOps: number }> = {
  tiny: { maxmemory: 4 * MB, keys: 40_000, hitOps: 50_000, missOps: 5_000 },
  small: { maxmemory: 16 * MB, keys: 150_000, hitOps: 300_000, missOps: 20_000 },
  full: { maxmemory: 64 * MB, keys: 600_000, hitOps: 1_000_000, missOps: 50_000 },
}
/** Goals: hits ≥ 20 × uncached GETs, ≥ 1.5 × BasicClientSideCache's hits; RSS growth ≤ 1.05 × maxmemory. */
const GOAL_VS_NONE = 20
const GOAL_VS_BASIC = 1.5
const GOAL_RSS = 1.05

const LABEL: Record<NearcacheMode, string> = {
  arenakv: 'arenakv/redis',
  basic: 'BasicClientSideCache',
  floor: 'floor (constant provider)',
  none: 'no cache',
}

export const nearcacheSuite: Suite = {
  name: 'nearcache',
  title: 'Near cache in front of redis-server: arenakv/redis vs node-redis BasicClientSideCache vs no cache',
  description: 'node-redis GET on hits (sequential, 64 in flight), RSS per cached key, RSS growth ÷ maxmemory, invalidation delay',
  async run(ctx) {
    const p = PLAN[ctx.scale]
    const build = ctx.allocators[0]
    const notes: string[] = []
    const hasRedis = await ctx.peer('redis-server')
    const hasClient = await ctx.peer('redis')
    if (!hasRedis) notes.push(missingPeerNote('redis-server'))
    if (!hasClient) notes.push(missingPeerNote('redis'))
    const results: NearcacheResult[] = []
    if (hasRedis && hasClient) {
      const server = await RedisServer.start({ maxmemory: 0, policy: 'noeviction' })
      try {
        const value = 'v'.repeat(VALUE_BYTES)
        for (let i = 0; i < p.keys; i += 1000) {
          const args: string[] = ['MSET']
          for (let j = i; j < Math.min(p.keys, i + 1000); j++) args.push(`nc:${j}`, value)
          await server.client.call(...args)
        }
        let held = 0
        for (const mode of ['arenakv', 'basic', 'floor', 'none'] as const) {
          ctx.log(`  [${LABEL[mode]}] ${p.keys.toLocaleString('en-US')} keys, ${(mode === 'none' ? p.missOps : p.hitOps).toLocaleString('en-US')} GETs`)
          const params: NearcacheParams = { ...p, mode, port: server.port, maxEntries: Math.max(1, held) }
          const r = await ctx.child<NearcacheResult>('nearcache-child', params, build, LABEL[mode])
          if (mode === 'arenakv') held = r.held
          results.push(r)
          // The invalidation phase rewrote hot keys: put them back for the next client.
          await server.client.call('FLUSHALL')
          for (let i = 0; i < p.keys; i += 1000) {
            const args: string[] = ['MSET']
            for (let j = i; j < Math.min(p.keys, i + 1000); j++) args.push(`nc:${j}`, value)
            await server.client.call(...args)
          }
        }
      } finally {
        await server.stop()
      }
    }
    const by = (m: NearcacheMode): NearcacheResult | undefined => results.find((r) => r.mode === m)
    const a = by('arenakv')
    const b = by('basic')
    const n = by('none')
    const fl = by('floor')
    const cached = (r: NearcacheResult): boolean => r.mode === 'arenakv' || r.mode === 'basic'
    const f = (x: number | null | undefined, digits = 0): Cell => (x === null || x === undefined || Number.isNaN(x) ? null : +x.toFixed(digits))
    const rows: Cell[][] = results.map((r) => [
      LABEL[r.mode],
      f(r.seqOpsPerSec),
      f(r.seqCpuNs),
      f(r.seqP50Us, 2),
      f(r.seqP99Us, 2),
      f(r.concOpsPerSec),
      r.hitRatio === null ? null : f(r.hitRatio * 100, 1),
      cached(r) ? r.held : null,
      cached(r) ? f(r.rssGrowth / MB, 1) : null,
      cached(r) ? f(r.heapGrowth / MB, 1) : null,
      cached(r) && r.held > 0 ? f(r.rssGrowth / r.held) : null,
      f(r.invalidationP50Ms, 3),
      f(r.invalidationP99Ms, 3),
    ])
    if (a && n) {
      const x = a.seqOpsPerSec / n.seqOpsPerSec
      const y = a.concOpsPerSec / n.concOpsPerSec
      notes.push(
        `arenakv/redis hits: ${x.toFixed(1)} × uncached GET throughput, sequential (goal ≥ ${GOAL_VS_NONE}: ${x >= GOAL_VS_NONE ? 'met' : 'not met'}); ` +
          `${y.toFixed(1)} × with 64 in flight on both sides (the uncached client then pipelines).`,
      )
    }
    if (a && fl) {
      const ns = (r: NearcacheResult): number => 1e9 / r.seqOpsPerSec
      notes.push(
        `Per hit, sequential: floor (node-redis's command path, constant provider) ${ns(fl).toFixed(0)} ns, arenakv/redis ${ns(a).toFixed(0)} ns ` +
          `(${(ns(a) - ns(fl)).toFixed(0)} ns above the floor)` +
          (b ? `, BasicClientSideCache ${ns(b).toFixed(0)} ns (${(ns(b) - ns(fl)).toFixed(0)} above)` : '') +
          (n ? `; the floor is ${(fl.seqOpsPerSec / n.seqOpsPerSec).toFixed(1)} × uncached GET throughput.` : '.') +
          ` In CPU time per hit: floor ${fl.seqCpuNs.toFixed(0)} ns, arenakv/redis ${a.seqCpuNs.toFixed(0)} ns` +
          (b ? `, BasicClientSideCache ${b.seqCpuNs.toFixed(0)} ns (${(b.seqCpuNs / a.seqCpuNs).toFixed(2)} × arenakv/redis's).` : '.'),
      )
    }
    if (a && b) {
      const x = a.seqOpsPerSec / b.seqOpsPerSec
      const y = a.concOpsPerSec / b.concOpsPerSec
      notes.push(
        `arenakv/redis hits: ${x.toFixed(2)} × BasicClientSideCache sequential, ${y.toFixed(2)} × at 64 in flight (goal ≥ ${GOAL_VS_BASIC}: ${x >= GOAL_VS_BASIC ? 'met' : 'not met'}).`,
      )
    }
    if (a) {
      const x = a.rssGrowth / p.maxmemory
      notes.push(
        `arenakv/redis RSS growth ÷ maxmemory: ${x.toFixed(2)} (goal ≤ ${GOAL_RSS}: ${x <= GOAL_RSS ? 'met' : 'not met'}); ` +
          (a.engineRss !== null ? `the engine's own used_memory_rss ÷ maxmemory ${(a.engineRss / p.maxmemory).toFixed(2)}; ` : '') +
          `used_memory at the end ${a.usedMemory} B of ${p.maxmemory}.`,
      )
    }
    notes.push(
      'Each client runs in a fresh process against the same redis-server (loopback TCP, RESP3), one after another; ' +
        'BasicClientSideCache is bounded to the entries arenakv held within maxmemory. Sequential throughput is timed ' +
        'without a clock read per GET (the percentiles come from a separate pass of up to 200,000 timed GETs); RSS is ' +
        'read once it has settled (V8 returns pages some time after a GC). Timings on a shared machine are noisy.',
    )
    return {
      suite: 'nearcache',
      title: this.title,
      allocators: [await ctx.allocatorEnv(build)],
      tables: [
        {
          title: `${p.keys.toLocaleString('en-US')} keys of ${VALUE_BYTES} B read once, then GET on the most recent (hits); maxmemory ${p.maxmemory / MB} MB allkeys-lru`,
          columns: [
            'cache',
            'GET ops/s (sequential)',
            'CPU ns per GET (sequential)',
            'p50 µs',
            'p99 µs',
            'GET ops/s (64 in flight)',
            'hit %',
            'entries held',
            'RSS growth, MB',
            'V8 heap growth, MB',
            'RSS per entry, B',
            'invalidation p50 ms',
            'invalidation p99 ms',
          ],
          rows,
        },
      ],
      charts: [],
      notes,
      data: { plan: p, results },
    }
  },
}
