import type { FidelityParams, FidelityPeer, FidelityResult } from '../fidelity.js'
import type { Cell } from '../output.js'
import { missingPeerNote, type PeerName } from '../peers.js'
import { pipelined, withRedis } from '../redis.js'
import { groupedBars, type BarDatum } from '../specs.js'
import type { Suite, SuiteContext, Scale } from '../suite.js'

const MB = 1 << 20
const SIZES = [16, 100, 1024, 10240] as const
const FULL_WRITES: Record<(typeof SIZES)[number], number> = { 16: 3_000_000, 100: 1_600_000, 1024: 200_000, 10240: 20_000 }
const PLAN: Record<Scale, { maxmemory: number; divide: number }> = {
  tiny: { maxmemory: 4 * MB, divide: 16 },
  small: { maxmemory: 16 * MB, divide: 4 },
  full: { maxmemory: 64 * MB, divide: 1 },
}
/**
 * Writes of a key deleted straight after, before the baseline: they bring in the code the fill runs (V8 compiles
 * it; the kernel faults in the pages of node's binary it executes, ~4 MB) without leaving data in the cache, so
 * the growth is what the cache holds rather than what a cold process spends once. Every peer gets the same.
 */
const WARMUP_WRITES = 100_000
/** Goal: RSS growth ≤ 1.05 × maxmemory at every value size. */
const GOAL = 1.05

interface Row {
  peer: FidelityPeer | 'redis-server'
  valueBytes: number
  writes: number
  keys: number
  rssGrowth: number
  rssGrowthPeak: number | null
  rssGrowthCold: number
  rssGrowthAfterGc: number | null
  heapGrowth: number | null
  ratio: number
  coldRatio: number
  seconds: number
}

async function redisFill(ctx: SuiteContext, maxmemory: number, valueBytes: number, writes: number): Promise<Row> {
  return withRedis({ maxmemory, policy: 'allkeys-lru' }, async (server) => {
    const { client } = server
    const value = 'a'.repeat(valueBytes)
    const cold = server.rss()
    // The same warm-up the Node peers get: a key written and deleted, so no data stays behind.
    await pipelined(client, WARMUP_WRITES * 2, (i) => (i % 2 === 0 ? ['SET', `warm:${i >> 1}`, value] : ['DEL', `warm:${i >> 1}`]))
    const before = server.rss()
    const t0 = performance.now()
    let lastLog = 0
    let peak = before
    await pipelined(client, writes, (i) => ['SET', `key:${i}`, value], (done) => {
      peak = Math.max(peak, server.rss())
      if (performance.now() - lastLog > 1000) {
        lastLog = performance.now()
        ctx.log(`  [redis-server ${valueBytes} B] ${Math.round((done / writes) * 100)}%`)
      }
    })
    const seconds = (performance.now() - t0) / 1000
    const after = server.rss()
    const keys = Number((await client.call('DBSIZE')) ?? 0)
    const growth = after - before
    return {
      peer: 'redis-server', valueBytes, writes, keys, rssGrowth: growth, rssGrowthPeak: Math.max(peak, after) - before,
      rssGrowthCold: after - cold, rssGrowthAfterGc: null, heapGrowth: null, ratio: growth / maxmemory,
      coldRatio: (after - cold) / maxmemory, seconds,
    }
  })
}

export const fidelitySuite: Suite = {
  name: 'fidelity',
  title: 'Memory bound fidelity: RSS growth ÷ maxmemory (allkeys-lru)',
  description: 'fill to several times maxmemory at 16 B/100 B/1 KB/10 KB values: arenakv, lru-cache, redis-server',
  async run(ctx) {
    const { maxmemory, divide } = PLAN[ctx.scale]
    const build = ctx.allocators[0]
    const hasLru = await ctx.peer('lru-cache')
    const hasRedis = await ctx.peer('redis-server')
    const missing: PeerName[] = [...(hasLru ? [] : ['lru-cache' as const]), ...(hasRedis ? [] : ['redis-server' as const])]
    const rows: Row[] = []
    for (const valueBytes of SIZES) {
      const writes = Math.round(FULL_WRITES[valueBytes] / divide)
      for (const peer of hasLru ? (['arenakv', 'lru-cache'] as const) : (['arenakv'] as const)) {
        ctx.log(`  ${peer} ${valueBytes} B × ${writes.toLocaleString('en-US')}`)
        const params: FidelityParams = { peer, valueBytes, writes, maxmemory, warmupWrites: WARMUP_WRITES }
        const r = await ctx.child<FidelityResult>('fidelity', params, peer === 'arenakv' ? build : null, `${peer} ${valueBytes} B`)
        rows.push({ ...r, ratio: r.rssGrowth / maxmemory, coldRatio: r.rssGrowthCold / maxmemory })
      }
      if (!hasRedis) continue
      ctx.log(`  redis-server ${valueBytes} B × ${writes.toLocaleString('en-US')}`)
      rows.push(await redisFill(ctx, maxmemory, valueBytes, writes))
    }
    // A missing peer's columns are left out: a cell per peer that ran, and the ratios whose both sides ran.
    const peers: Row['peer'][] = ['arenakv', ...(hasLru ? ['lru-cache' as const] : []), ...(hasRedis ? ['redis-server' as const] : [])]
    const row = (peer: Row['peer'], size: number): Row | undefined => rows.find((r) => r.peer === peer && r.valueBytes === size)
    const ratio = (peer: Row['peer'], size: number): number => row(peer, size)?.ratio ?? NaN
    const coldRatio = (peer: Row['peer'], size: number): number => row(peer, size)?.coldRatio ?? NaN
    const bars: BarDatum[] = rows.map((r) => ({ group: `${r.valueBytes} B`, series: r.peer, value: r.ratio }))
    const worst = Math.max(...SIZES.map((s) => ratio('arenakv', s)))
    return {
      suite: 'fidelity',
      title: this.title,
      allocators: [await ctx.allocatorEnv(build)],
      tables: [
        {
          title: `RSS growth ÷ maxmemory (${maxmemory / MB} MB), each cell a fresh process`,
          columns: [
            'value', 'writes', ...peers, ...(hasRedis ? ['arenakv/redis'] : []), ...(hasLru ? ['lru-cache/arenakv'] : []),
          ],
          rows: SIZES.map((s): Cell[] => [
            `${s} B`,
            rows.find((r) => r.valueBytes === s)?.writes ?? 0,
            ...peers.map((p) => ratio(p, s)),
            ...(hasRedis ? [ratio('arenakv', s) / ratio('redis-server', s)] : []),
            ...(hasLru ? [ratio('lru-cache', s) / ratio('arenakv', s)] : []),
          ]),
        },
        {
          title: `From the cold process (RSS growth ÷ maxmemory with the ${WARMUP_WRITES.toLocaleString('en-US')} warm-up writes counted)`,
          columns: ['value', ...peers],
          rows: SIZES.map((s): Cell[] => [`${s} B`, ...peers.map((p) => coldRatio(p, s))]),
        },
        {
          title: 'Details (MB of RSS growth; peak sampled during the fill; from the cold process; after a forced full GC)',
          columns: ['peer', 'value', 'keys held', 'growth MB', 'peak MB', 'cold MB', 'after GC MB', 'V8 heap MB', 'fill s'],
          rows: rows.map((r) => [
            r.peer, `${r.valueBytes} B`, r.keys, r.rssGrowth / MB,
            r.rssGrowthPeak === null ? null : r.rssGrowthPeak / MB, r.rssGrowthCold / MB,
            r.rssGrowthAfterGc === null ? null : r.rssGrowthAfterGc / MB,
            r.heapGrowth === null ? null : r.heapGrowth / MB, r.seconds,
          ]),
        },
      ],
      charts: [{ name: 'ratio', title: 'RSS growth ÷ maxmemory by value size', spec: groupedBars('RSS growth ÷ maxmemory', 'ratio', bars) }],
      notes: [
        `Goal: arenakv RSS growth ≤ ${GOAL} × maxmemory at every size; worst measured here ${worst.toFixed(2)} (${worst <= GOAL ? 'met' : 'not met'}).`,
        'Growth is measured right after the fill against the process baseline just before it (redis-server: /proc/<pid>/statm), ' +
          `taken after ${WARMUP_WRITES.toLocaleString('en-US')} warm-up writes of keys deleted at once (every peer alike): they bring in the ` +
          'code the fill runs (JIT output, the pages of node\'s binary it executes), a one-off cost of a cold process, not memory the cache holds.',
        'Keys are decoded from bytes per write, as a server\'s protocol parser makes them; `key:${i}` template literals ' +
          'go through V8\'s number-to-string cache, which keeps each key reachable until overwritten and grows the young ' +
          'generation by ~14 MB with no cache at all.',
        '"V8 heap MB" is the growth of V8\'s heap (heapTotal) over the fill.',
        ...missing.map(missingPeerNote),
        ...(ctx.scale === 'full' ? [] : [`Scale ${ctx.scale}: maxmemory ${maxmemory / MB} MB and 1/${divide} of the writes; Node's fixed costs weigh more at this size.`]),
      ],
      data: { maxmemory, goal: GOAL, rows },
    }
  },
}
