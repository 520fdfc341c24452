// Type-only import: the child module runs its workload when loaded.
import type { ChurnParams, ChurnResult, ChurnSubject } from '../churn.js'
import { churnTrace, MAX_VALUE_BYTES, MIN_VALUE_BYTES, TTL_MAX_S, TTL_MIN_S, TTL_SHARE, ZIPF_S } from '../churn-workload.js'
import type { Cell } from '../output.js'
import { missingPeerNote } from '../peers.js'
import { pipelined, withRedis } from '../redis.js'
import { groupedBars, type BarDatum } from '../specs.js'
import type { Scale, Suite, SuiteContext } from '../suite.js'

// Overwrite churn under a bound: popular keys rewritten again and again with a new size each time, some with a
// TTL, so the allocator keeps freeing one size class and filling another. Allocated-byte accounting holds
// used_memory at maxmemory while the arena's partly used slabs and page runs grow beside it; resident accounting
// counts those too. Each subject runs in a fresh process, in interleaved rounds, and keeps its median.

const MB = 1 << 20
const FULL = [
  { maxmemory: 64 * MB, keySpace: 500_000, writes: 1_500_000 },
  { maxmemory: 256 * MB, keySpace: 2_000_000, writes: 5_000_000 },
] as const
/** small and tiny shrink bound, key space and writes alike, so the churn keeps its shape (writes ≫ bound). */
const PLAN: Record<Scale, { divide: number; rounds: number; warmupWrites: number }> = {
  tiny: { divide: 16, rounds: 1, warmupWrites: 10_000 },
  small: { divide: 4, rounds: 1, warmupWrites: 50_000 },
  full: { divide: 1, rounds: 3, warmupWrites: 100_000 },
}
/** Goals under 'resident' accounting, at both sizes: engine RSS and the process's net growth within 5% of the bound. */
const GOAL = 1.05

type Subject = ChurnSubject | 'redis-server'
const NODE_SUBJECTS: readonly ChurnSubject[] = ['no cache', 'arenakv allocated', 'arenakv resident']

/** One subject's figures at one size in one round. Ratios are ÷ maxmemory. */
interface Run {
  subject: Subject
  maxmemory: number
  round: number
  /** INFO used_memory_rss ÷ maxmemory (arenakv: the engine's own resident memory; redis-server: its process RSS). */
  engineRssRatio: number
  /** Process RSS growth over the loop ÷ maxmemory; Node subjects net of the no-cache loop's growth in the same round. */
  growthRatio: number
  rssGrowth: number
  usedMemory: number
  memFrag: number
  allocatorFrag: number
  keys: number
  evictedKeys: number
  expiredKeys: number
  writesPerSec: number
  cpuSeconds: number
}

interface SubjectMedian extends Omit<Run, 'round'> {
  rounds: number
}

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

function medianOf(runs: readonly Run[]): SubjectMedian {
  const pick = (f: (r: Run) => number): number => median(runs.map(f))
  return {
    subject: runs[0].subject,
    maxmemory: runs[0].maxmemory,
    rounds: runs.length,
    engineRssRatio: pick((r) => r.engineRssRatio),
    growthRatio: pick((r) => r.growthRatio),
    rssGrowth: pick((r) => r.rssGrowth),
    usedMemory: pick((r) => r.usedMemory),
    memFrag: pick((r) => r.memFrag),
    allocatorFrag: pick((r) => r.allocatorFrag),
    keys: pick((r) => r.keys),
    evictedKeys: pick((r) => r.evictedKeys),
    expiredKeys: pick((r) => r.expiredKeys),
    writesPerSec: pick((r) => r.writesPerSec),
    cpuSeconds: pick((r) => r.cpuSeconds),
  }
}

async function redisChurn(ctx: SuiteContext, p: ChurnParams, round: number): Promise<Run> {
  const trace = churnTrace(p.keySpace, p.writes, p.seed)
  const template = 'c'.repeat(MAX_VALUE_BYTES)
  const command = (key: string, size: number, ttl: number): (string | number)[] =>
    ttl === 0 ? ['SET', key, template.slice(0, size)] : ['SET', key, template.slice(0, size), 'EX', ttl]
  return withRedis({ maxmemory: p.maxmemory, policy: 'allkeys-lru' }, async (server) => {
    const { client } = server
    // The same warm-up the Node subjects get: keys written and deleted at once, so no data stays behind.
    await pipelined(client, p.warmupWrites * 2, (i) => {
      const w = i >> 1
      const key = `warm:${w}`
      return i % 2 === 0 ? command(key, trace.sizes[w % p.writes], trace.ttls[w % p.writes]) : ['DEL', key]
    })
    const before = server.rss()
    const cpu = async (): Promise<number> => {
      const c = await client.info('cpu')
      return Number(c.used_cpu_user) + Number(c.used_cpu_sys)
    }
    const cpu0 = await cpu()
    const t0 = performance.now()
    let lastLog = 0
    await pipelined(client, p.writes, (i) => command(`key:${trace.keys[i]}`, trace.sizes[i], trace.ttls[i]), (done) => {
      if (performance.now() - lastLog > 1000) {
        lastLog = performance.now()
        ctx.log(`  [redis-server ${p.maxmemory / MB} MB] ${Math.round((done / p.writes) * 100)}%`)
      }
    })
    const seconds = (performance.now() - t0) / 1000
    const growth = server.rss() - before
    const cpuSeconds = (await cpu()) - cpu0
    // INFO's RSS and allocator figures are refreshed by serverCron (hz 10): let one sample pass.
    await new Promise((r) => setTimeout(r, 300))
    const m = await client.info('memory')
    const s = await client.info('stats')
    return {
      subject: 'redis-server', maxmemory: p.maxmemory, round,
      engineRssRatio: Number(m.used_memory_rss) / p.maxmemory,
      growthRatio: growth / p.maxmemory,
      rssGrowth: growth,
      usedMemory: Number(m.used_memory),
      memFrag: Number(m.mem_fragmentation_ratio),
      allocatorFrag: Number(m.allocator_frag_ratio),
      keys: Number((await client.call('DBSIZE')) ?? 0),
      evictedKeys: Number(s.evicted_keys),
      expiredKeys: Number(s.expired_keys),
      writesPerSec: p.writes / seconds,
      cpuSeconds,
    }
  })
}

function nodeRun(r: ChurnResult, p: ChurnParams, round: number, loopGrowth: number): Run {
  const m = r.memory
  return {
    subject: r.subject, maxmemory: p.maxmemory, round,
    engineRssRatio: m === null ? NaN : m.used_memory_rss / p.maxmemory,
    growthRatio: r.subject === 'no cache' ? r.rssGrowth / p.maxmemory : (r.rssGrowth - loopGrowth) / p.maxmemory,
    rssGrowth: r.rssGrowth,
    usedMemory: m?.used_memory ?? NaN,
    memFrag: m?.mem_fragmentation_ratio ?? NaN,
    allocatorFrag: m?.allocator_frag_ratio ?? NaN,
    keys: r.keys,
    evictedKeys: r.evictedKeys,
    expiredKeys: r.expiredKeys,
    writesPerSec: p.writes / r.seconds,
    cpuSeconds: r.cpuSeconds,
  }
}

export const churnSuite: Suite = {
  name: 'churn',
  title: 'Overwrite churn under maxmemory: engine RSS and process growth ÷ maxmemory (allkeys-lru)',
  description: 'Zipf overwrites with log-uniform 32 B–16 KB sizes, 20% with EX, at 64 MB and 256 MB: arenakv allocated/resident, redis-server, the loop alone',
  async run(ctx) {
    const plan = PLAN[ctx.scale]
    const build = ctx.allocators[0]
    const env = await ctx.allocatorEnv(build)
    const hasRedis = await ctx.peer('redis-server')
    const sizes = FULL.map((s, i) => ({
      maxmemory: s.maxmemory / plan.divide,
      keySpace: Math.round(s.keySpace / plan.divide),
      writes: Math.round(s.writes / plan.divide),
      seed: 101 + i,
    }))
    const runs: Run[] = []
    let refused: string | null = null
    for (let round = 1; round <= plan.rounds; round++) {
      for (const size of sizes) {
        const params = (subject: ChurnSubject): ChurnParams => ({ subject, ...size, warmupWrites: plan.warmupWrites })
        const tag = `${size.maxmemory / MB} MB, round ${round}/${plan.rounds}`
        ctx.log(`  ${tag}: ${size.writes.toLocaleString('en-US')} writes over ${size.keySpace.toLocaleString('en-US')} keys`)
        // The loop alone first: its growth is what each Node subject's process growth is net of, this round.
        let loopGrowth = NaN
        for (const subject of NODE_SUBJECTS) {
          if (subject === 'arenakv resident' && refused !== null) continue
          const r = await ctx.child<ChurnResult>('churn', params(subject), build, `${subject} ${tag}`)
          if (r.refused !== null) {
            refused = r.refused
            continue
          }
          if (subject === 'no cache') loopGrowth = r.rssGrowth
          runs.push(nodeRun(r, params(subject), round, loopGrowth))
        }
        if (hasRedis) {
          ctx.log(`  redis-server ${tag}`)
          runs.push(await redisChurn(ctx, params('no cache'), round))
        }
      }
    }
    const subjects: Subject[] = [
      'arenakv allocated', ...(refused === null ? ['arenakv resident' as const] : []), ...(hasRedis ? ['redis-server' as const] : []), 'no cache',
    ]
    const medians: SubjectMedian[] = sizes.flatMap((s) =>
      subjects.map((subject) => medianOf(runs.filter((r) => r.subject === subject && r.maxmemory === s.maxmemory))),
    )
    const at = (subject: Subject, maxmemory: number): SubjectMedian | undefined =>
      medians.find((m) => m.subject === subject && m.maxmemory === maxmemory)
    const label = (maxmemory: number): string => `${maxmemory / MB} MB`
    const bars: BarDatum[] = medians
      .filter((m) => m.subject !== 'no cache')
      .flatMap((m) => [
        { group: label(m.maxmemory), series: `${m.subject}: used_memory_rss`, value: m.engineRssRatio },
        { group: label(m.maxmemory), series: `${m.subject}: process growth`, value: m.growthRatio },
      ])
    const goalNotes = refused !== null
      ? [
          `maxmemoryAccounting 'resident' is refused by the ${build} build (${refused}), so only 'allocated' ran and the 'resident' goals ` +
            `(used_memory_rss and process RSS growth ÷ maxmemory ≤ ${GOAL}) are not measured here. With no engine arena, arenakv's ` +
            'used_memory_rss (and so mem_fragmentation_ratio) is the whole Node process\'s RSS, V8 and code included.',
        ]
      : sizes.map((s) => {
          const m = at('arenakv resident', s.maxmemory)
          const rss = m?.engineRssRatio ?? NaN
          const growth = m?.growthRatio ?? NaN
          const met = rss <= GOAL && growth <= GOAL
          return `Goal at ${label(s.maxmemory)} with 'resident' accounting: used_memory_rss ÷ maxmemory ≤ ${GOAL} (measured ${rss.toFixed(2)}) ` +
            `and process RSS growth ÷ maxmemory ≤ ${GOAL} (measured ${growth.toFixed(2)}, median): ${met ? 'met' : 'not met'}.`
        })
    const rounds = plan.rounds
    return {
      suite: 'churn',
      title: this.title,
      allocators: [env],
      tables: [
        {
          title: `Medians of ${rounds} interleaved round${rounds === 1 ? '' : 's'}, each cell a fresh process (${env.name} build)`,
          columns: [
            'maxmemory', 'subject', 'used_memory_rss ÷ max', 'RSS growth ÷ max', 'mem_frag', 'allocator_frag', 'keys held',
            'evicted_keys', 'writes/s', 'CPU s',
          ],
          rows: medians.map((m): Cell[] => [
            label(m.maxmemory), m.subject, m.subject === 'no cache' ? null : m.engineRssRatio, m.growthRatio,
            m.subject === 'no cache' ? null : m.memFrag, m.subject === 'no cache' ? null : m.allocatorFrag,
            m.keys, m.evictedKeys, m.writesPerSec, m.cpuSeconds,
          ]),
        },
        {
          title: 'Workload per size',
          columns: ['maxmemory', 'key space', 'writes', 'no-cache loop growth MB (median)'],
          rows: sizes.map((s): Cell[] => [label(s.maxmemory), s.keySpace, s.writes, (at('no cache', s.maxmemory)?.rssGrowth ?? NaN) / MB]),
        },
      ],
      charts: [{ name: 'ratio', title: 'used_memory_rss and process RSS growth ÷ maxmemory', spec: groupedBars('Churn: ÷ maxmemory', 'ratio', bars) }],
      notes: [
        ...goalNotes,
        `Workload: Zipf ${ZIPF_S} over the key space, every write a SET with a new size (log-uniform ${MIN_VALUE_BYTES} B–${MAX_VALUE_BYTES / 1024} KB), ` +
          `${Math.round(TTL_SHARE * 100)}% of them with EX ${TTL_MIN_S}–${TTL_MAX_S} s, allkeys-lru; the same seeded trace for every subject.`,
        'RSS growth ÷ max: process RSS right after the loop against the baseline just before it (taken after ' +
          `${plan.warmupWrites.toLocaleString('en-US')} warm-up writes of keys deleted at once, every subject alike). For Node subjects it is ` +
          'net of the "no cache" row: the same loop with no cache, whose growth is the loop\'s own garbage and code; redis-server\'s is its process RSS growth.',
        "used_memory_rss: arenakv's INFO (the engine's own resident memory: its arena and tables); redis-server's INFO (its process RSS). " +
          'mem_fragmentation_ratio is used_memory_rss ÷ used_memory.',
        'The Node loop yields to the event loop every 1,024 writes, as a server does between reads, so the engine\'s timer runs active expiry and the resident sample. ' +
          "redis-server's writes/s include this process encoding RESP (pipelined, 1,000 per batch); its CPU s is the server's own (INFO cpu).",
        ...(hasRedis ? [] : [missingPeerNote('redis-server')]),
        ...(ctx.scale === 'full' ? [] : [`Scale ${ctx.scale}: bound, key space and writes at 1/${plan.divide}; Node's fixed costs weigh more at this size.`]),
      ],
      data: { goal: GOAL, sizes, refused, medians, runs },
    }
  },
}
