// Type-only import: the child module runs its workload when loaded.
import type { ChurnParams, ChurnResult, ChurnSubject } from '../churn.js'
import { churnTrace, MAX_VALUE_BYTES, MIN_VALUE_BYTES, TTL_MAX_S, TTL_MIN_S, TTL_SHARE, ZIPF_S } from '../churn-workload.js'
import type { AllocatorName } from '../builds.js'
import type { Cell, Table } from '../output.js'
import { missingPeerNote } from '../peers.js'
import { pipelined, withRedis } from '../redis.js'
import { groupedBars, type BarDatum } from '../specs.js'
import type { Scale, Suite, SuiteContext } from '../suite.js'

// Overwrite churn under a bound: popular keys rewritten again and again with a new size each time, some with a
// TTL, so the allocator keeps freeing one size class and filling another. Allocated-byte accounting holds
// used_memory at maxmemory while the arena's partly used slabs and page runs grow beside it; resident accounting
// counts those too. Each step reads its key before it writes it, so the hit ratio and throughput each accounting
// costs stand beside the memory it saves. Each subject runs in a fresh process, in interleaved rounds (--runs),
// and keeps its median and range.

const MB = 1 << 20
const FULL = [
  { maxmemory: 64 * MB, keySpace: 500_000, writes: 1_500_000 },
  { maxmemory: 256 * MB, keySpace: 2_000_000, writes: 5_000_000 },
] as const
/**
 * small and tiny shrink bound, key space and writes alike, so the churn keeps its shape (writes ≫ bound); rounds:
 * the default of --runs at that scale. tiny stops at 8 MB: at 4 MB the mimalloc build's resident floor (one page
 * per size class in use, ARCHITECTURE.md "Memory") is the whole bound, and 'resident' accounting
 * then evicts to a few hundred keys and still measured up to 1.11 × maxmemory.
 */
const PLAN: Record<Scale, { divide: number; rounds: number; warmupWrites: number }> = {
  tiny: { divide: 8, rounds: 1, warmupWrites: 10_000 },
  small: { divide: 4, rounds: 1, warmupWrites: 50_000 },
  full: { divide: 1, rounds: 3, warmupWrites: 100_000 },
}
/** Goals under 'resident' accounting, at both sizes: engine RSS and the process's net growth within 5% of the bound. */
const GOAL = 1.05

type Subject = ChurnSubject | 'redis-server'
/** The engine subjects, run on every allocator build; the no-cache loop and redis-server run once per size. */
const ENGINE_SUBJECTS = ['arenakv allocated', 'arenakv resident'] as const satisfies readonly ChurnSubject[]

/** One subject's figures at one size in one round. Ratios are ÷ maxmemory. */
interface Run {
  subject: Subject
  /** The build an engine subject ran on; null for redis-server and the no-cache loop, which have no engine. */
  allocator: AllocatorName | null
  maxmemory: number
  round: number
  /** INFO used_memory_rss ÷ maxmemory (arenakv: the engine's own resident memory; redis-server: its process RSS). */
  engineRssRatio: number
  /** Process RSS growth over the loop ÷ maxmemory; Node subjects net of the no-cache loop's growth in the same round. */
  growthRatio: number
  rssGrowth: number
  usedMemory: number
  memFrag: number
  /** NaN where the build cannot report small-bin fragmentation (its INFO shows a placeholder 1.00). */
  allocatorFrag: number
  keys: number
  evictedKeys: number
  expiredKeys: number
  /** GET hits ÷ GETs over the loop (one GET before each write). */
  hitRatio: number
  /** GETs and SETs per second of the loop (wall clock; noisy on a shared machine). */
  opsPerSec: number
  /** CPU time over the loop: the whole Node process (process.cpuUsage), or redis-server's own (INFO cpu). */
  cpuSeconds: number
  /** MEMORY STATS engine.arena after the loop (jemalloc builds), or null. */
  arena: Record<string, number> | null
}

/** The figures a subject's rounds are summarised by, with their range. */
const SPREAD = ['engineRssRatio', 'growthRatio', 'hitRatio', 'opsPerSec', 'cpuSeconds'] as const
type Spread = (typeof SPREAD)[number]

interface SubjectMedian extends Omit<Run, 'round'> {
  rounds: number
  /** [min, max] over the rounds of each figure in SPREAD (NaN where unmeasured). */
  range: Record<Spread, [number, number]>
}

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

function range(xs: readonly number[]): [number, number] {
  const s = xs.filter((x) => !Number.isNaN(x))
  return s.length === 0 ? [NaN, NaN] : [Math.min(...s), Math.max(...s)]
}

function medianOf(runs: readonly Run[]): SubjectMedian {
  const pick = (f: (r: Run) => number): number => median(runs.map(f))
  return {
    subject: runs[0].subject,
    allocator: runs[0].allocator,
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
    hitRatio: pick((r) => r.hitRatio),
    opsPerSec: pick((r) => r.opsPerSec),
    cpuSeconds: pick((r) => r.cpuSeconds),
    arena: runs[0].arena === null ? null : Object.fromEntries(Object.keys(runs[0].arena).map((k) => [k, pick((r) => r.arena?.[k] ?? NaN)])),
    range: Object.fromEntries(SPREAD.map((f) => [f, range(runs.map((r) => r[f]))])) as Record<Spread, [number, number]>,
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
    const lookups = async (): Promise<{ hits: number; misses: number }> => {
      const st = await client.info('stats')
      return { hits: Number(st.keyspace_hits), misses: Number(st.keyspace_misses) }
    }
    const looked0 = await lookups()
    const cpu0 = await cpu()
    const t0 = performance.now()
    let lastLog = 0
    // As the Node loop: each step a GET of its key, then the SET (the same step's pair, in order, in one pipeline).
    await pipelined(
      client,
      p.writes * 2,
      (j) => {
        const i = j >> 1
        const key = `key:${trace.keys[i]}`
        return j % 2 === 0 ? ['GET', key] : command(key, trace.sizes[i], trace.ttls[i])
      },
      (done) => {
        if (performance.now() - lastLog > 1000) {
          lastLog = performance.now()
          ctx.log(`  [redis-server ${p.maxmemory / MB} MB] ${Math.round((done / (p.writes * 2)) * 100)}%`)
        }
      },
    )
    const seconds = (performance.now() - t0) / 1000
    const growth = server.rss() - before
    const cpuSeconds = (await cpu()) - cpu0
    const looked1 = await lookups()
    const hits = looked1.hits - looked0.hits
    const gets = hits + looked1.misses - looked0.misses
    // INFO's RSS and allocator figures are refreshed by serverCron (hz 10): let one sample pass.
    await new Promise((r) => setTimeout(r, 300))
    const m = await client.info('memory')
    const s = await client.info('stats')
    return {
      subject: 'redis-server', allocator: null, maxmemory: p.maxmemory, round,
      engineRssRatio: Number(m.used_memory_rss) / p.maxmemory,
      growthRatio: growth / p.maxmemory,
      rssGrowth: growth,
      usedMemory: Number(m.used_memory),
      memFrag: Number(m.mem_fragmentation_ratio),
      allocatorFrag: Number(m.allocator_frag_ratio),
      keys: Number((await client.call('DBSIZE')) ?? 0),
      evictedKeys: Number(s.evicted_keys),
      expiredKeys: Number(s.expired_keys),
      hitRatio: gets === 0 ? NaN : hits / gets,
      opsPerSec: (p.writes * 2) / seconds,
      cpuSeconds,
      arena: null,
    }
  })
}

function nodeRun(r: ChurnResult, build: AllocatorName | null, p: ChurnParams, round: number, loopGrowth: number): Run {
  const m = r.memory
  return {
    subject: r.subject, allocator: build, maxmemory: p.maxmemory, round,
    engineRssRatio: m === null ? NaN : m.used_memory_rss / p.maxmemory,
    growthRatio: r.subject === 'no cache' ? r.rssGrowth / p.maxmemory : (r.rssGrowth - loopGrowth) / p.maxmemory,
    rssGrowth: r.rssGrowth,
    usedMemory: m?.used_memory ?? NaN,
    memFrag: m?.mem_fragmentation_ratio ?? NaN,
    allocatorFrag: m !== null && r.smallbinFrag ? m.allocator_frag_ratio : NaN,
    keys: r.keys,
    evictedKeys: r.evictedKeys,
    expiredKeys: r.expiredKeys,
    hitRatio: r.subject === 'no cache' || r.gets === 0 ? NaN : r.hits / r.gets,
    opsPerSec: (r.gets + p.writes) / r.seconds,
    cpuSeconds: r.cpuSeconds,
    arena: r.arena,
  }
}

/** A table cell for a figure that may be unmeasured: NaN (not measured, or not measurable on this build) prints —. */
function cell(x: number): Cell {
  return Number.isNaN(x) ? null : x
}

/** A median with its range over the rounds, "0.99 (0.98–1.00)"; the median alone after one round. */
function spread(m: SubjectMedian, f: Spread, digits: number): Cell {
  const v = m[f]
  if (Number.isNaN(v)) return null
  const fmt = (x: number): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  const [lo, hi] = m.range[f]
  return m.rounds < 2 ? fmt(v) : `${fmt(v)} (${fmt(lo)}–${fmt(hi)})`
}

/** How a median row is named: engine subjects by their build, the others by themselves. */
function who(m: Pick<Run, 'subject' | 'allocator'>): string {
  return m.allocator === null ? m.subject : `${m.subject} (${m.allocator})`
}

export const churnSuite: Suite = {
  name: 'churn',
  title: 'Overwrite churn under maxmemory: engine RSS and process growth ÷ maxmemory (allkeys-lru)',
  description: 'Zipf GET-then-overwrite with log-uniform 32 B–16 KB sizes, 20% with EX, at 64 MB and 256 MB: arenakv allocated/resident on every allocator build, redis-server, the loop alone',
  // Churn is where allocators differ most (slab and page-run reuse under overwrites), so every build runs it.
  comparesAllocators: true,
  async run(ctx) {
    const plan = { ...PLAN[ctx.scale], rounds: ctx.runs ?? PLAN[ctx.scale].rounds }
    const builds = ctx.allocators
    const envs = await Promise.all(builds.map((b) => ctx.allocatorEnv(b)))
    const hasRedis = await ctx.peer('redis-server')
    const sizes = FULL.map((s, i) => ({
      maxmemory: s.maxmemory / plan.divide,
      keySpace: Math.round(s.keySpace / plan.divide),
      writes: Math.round(s.writes / plan.divide),
      seed: 101 + i,
    }))
    const runs: Run[] = []
    /** Builds that refused 'resident' accounting, with the error they gave: asked once, then skipped. */
    const refused = new Map<AllocatorName, string>()
    for (let round = 1; round <= plan.rounds; round++) {
      for (const size of sizes) {
        const params = (subject: ChurnSubject): ChurnParams => ({ subject, ...size, warmupWrites: plan.warmupWrites })
        const tag = `${size.maxmemory / MB} MB, round ${round}/${plan.rounds}`
        ctx.log(`  ${tag}: ${size.writes.toLocaleString('en-US')} writes over ${size.keySpace.toLocaleString('en-US')} keys`)
        // The loop alone first: its growth is what each engine subject's process growth is net of, this round.
        // It makes no engine, so one run serves every build (the first only gives the child an addon to load).
        const loop = await ctx.child<ChurnResult>('churn', params('no cache'), builds[0], `no cache ${tag}`)
        runs.push(nodeRun(loop, null, params('no cache'), round, loop.rssGrowth))
        for (const build of builds) {
          for (const subject of ENGINE_SUBJECTS) {
            if (subject === 'arenakv resident' && refused.has(build)) continue
            const r = await ctx.child<ChurnResult>('churn', params(subject), build, `${subject} on ${build} ${tag}`)
            if (r.refused !== null) {
              // Every build supports allocated-byte accounting: a refusal there is a broken build, not a figure.
              if (subject !== 'arenakv resident') throw new Error(`the ${build} build refused ${subject}: ${r.refused}`)
              refused.set(build, r.refused)
              continue
            }
            runs.push(nodeRun(r, build, params(subject), round, loop.rssGrowth))
          }
        }
        if (hasRedis) {
          ctx.log(`  redis-server ${tag}`)
          runs.push(await redisChurn(ctx, params('no cache'), round))
        }
      }
    }
    const cells: Pick<Run, 'subject' | 'allocator'>[] = [
      ...builds.flatMap((build) =>
        ENGINE_SUBJECTS.filter((subject) => subject !== 'arenakv resident' || !refused.has(build)).map((subject) => ({ subject, allocator: build })),
      ),
      ...(hasRedis ? [{ subject: 'redis-server' as const, allocator: null }] : []),
      { subject: 'no cache', allocator: null },
    ]
    const medians: SubjectMedian[] = sizes.flatMap((s) =>
      cells.map((c) => medianOf(runs.filter((r) => r.subject === c.subject && r.allocator === c.allocator && r.maxmemory === s.maxmemory))),
    )
    const at = (subject: Subject, allocator: AllocatorName | null, maxmemory: number): SubjectMedian | undefined =>
      medians.find((m) => m.subject === subject && m.allocator === allocator && m.maxmemory === maxmemory)
    const label = (maxmemory: number): string => `${maxmemory / MB} MB`
    const bars: BarDatum[] = medians
      .filter((m) => m.subject !== 'no cache')
      .flatMap((m) => [
        { group: label(m.maxmemory), series: `${who(m)}: used_memory_rss`, value: m.engineRssRatio },
        { group: label(m.maxmemory), series: `${who(m)}: process growth`, value: m.growthRatio },
      ])
    const refusalNotes = builds.flatMap((build) => {
      const why = refused.get(build)
      return why === undefined
        ? []
        : [
            // The code alone keeps it to one line per build; the JSON's refused holds the whole message.
            `${build}: maxmemoryAccounting 'resident' refused (${why.split(':')[0]}), so only 'allocated' ran and the 'resident' ` +
              `goals (≤ ${GOAL}) are not measured.`,
          ]
    })
    const goalNotes = builds.flatMap((build) =>
      refused.has(build)
        ? []
        : sizes.map((s) => {
            const m = at('arenakv resident', build, s.maxmemory)
            const rss = m?.engineRssRatio ?? NaN
            const growth = m?.growthRatio ?? NaN
            const met = rss <= GOAL && growth <= GOAL
            return `Goal on ${build} at ${label(s.maxmemory)} with 'resident' accounting: used_memory_rss ÷ maxmemory ≤ ${GOAL} ` +
              `(measured ${rss.toFixed(2)}) and process RSS growth ÷ maxmemory ≤ ${GOAL} (measured ${growth.toFixed(2)}, median): ${met ? 'met' : 'not met'}.`
          }),
    )
    // The allocator comparison in a few columns: what each build does to the same churn under the accounting every
    // build supports, beside 'resident' where the build has it.
    const byAllocator: Table = {
      title: "Churn by allocator (medians; resident — where the build refuses it)",
      columns: [
        'allocator', 'maxmemory', 'allocated: RSS ÷ max', 'allocated: growth ÷ max', 'resident: RSS ÷ max', 'resident: growth ÷ max',
        'allocated: hit ratio', 'allocated: ops/s',
      ],
      rows: builds.flatMap((build) =>
        sizes.map((s): Cell[] => {
          const a = at('arenakv allocated', build, s.maxmemory)
          const r = at('arenakv resident', build, s.maxmemory)
          return [
            build, label(s.maxmemory), cell(a?.engineRssRatio ?? NaN), cell(a?.growthRatio ?? NaN),
            cell(r?.engineRssRatio ?? NaN), cell(r?.growthRatio ?? NaN), cell(a?.hitRatio ?? NaN), cell(a?.opsPerSec ?? NaN),
          ]
        }),
      ),
    }
    // What 'resident' costs against 'allocated' on the same build: the memory it saves beside the hits, throughput
    // and CPU it gives up (medians; a negative change is a cost).
    const pct = (x: number, base: number): number => ((x - base) / base) * 100
    const costs: Table = {
      title: "What 'resident' accounting costs against 'allocated' (medians; change = resident − allocated)",
      columns: ['allocator', 'maxmemory', 'RSS ÷ max change', 'hit ratio: allocated', 'hit ratio: resident', 'hit ratio change (points)', 'ops/s change %', 'CPU s change %'],
      rows: builds.filter((build) => !refused.has(build)).flatMap((build) =>
        sizes.flatMap((s): Cell[][] => {
          const a = at('arenakv allocated', build, s.maxmemory)
          const r = at('arenakv resident', build, s.maxmemory)
          if (a === undefined || r === undefined) return []
          return [[
            build, label(s.maxmemory), cell(r.engineRssRatio - a.engineRssRatio), cell(a.hitRatio), cell(r.hitRatio),
            cell((r.hitRatio - a.hitRatio) * 100), cell(pct(r.opsPerSec, a.opsPerSec)), cell(pct(r.cpuSeconds, a.cpuSeconds)),
          ]]
        }),
      ),
    }
    // Where an engine arena's resident memory goes: small slabs' free slots against large values' extents (whole
    // pages, so they round to nothing; freed ones are retained: mapped, not resident).
    const MBf = (x: number | undefined): Cell => cell((x ?? NaN) / MB)
    const arenaTable: Table = {
      title: 'Where the engine arena\'s memory goes after the loop (MEMORY STATS engine.arena, medians, MB; retained is not resident)',
      columns: ['allocator', 'maxmemory', 'subject', 'resident', 'allocated', 'of it large', 'small.slab-free', 'page-rounding', 'dirty + muzzy', 'metadata', 'retained'],
      rows: medians.filter((m) => m.arena !== null).map((m): Cell[] => {
        const a = m.arena as Record<string, number>
        return [
          m.allocator, label(m.maxmemory), m.subject, MBf(a.resident), MBf(a.allocated), MBf(a['large.allocated']), MBf(a['small.slab-free']),
          MBf(a['page-rounding']), MBf(a.dirty + a.muzzy), MBf(a.metadata), MBf(a.retained),
        ]
      }),
    }
    const rounds = plan.rounds
    return {
      suite: 'churn',
      title: this.title,
      allocators: envs,
      tables: [
        {
          title: `Medians (min–max) of ${rounds} interleaved round${rounds === 1 ? '' : 's'} per allocator, each cell a fresh process`,
          columns: [
            'maxmemory', 'allocator', 'subject', 'used_memory_rss ÷ max', 'RSS growth ÷ max', 'hit ratio', 'ops/s', 'CPU s',
            'mem_frag', 'allocator_frag', 'keys held', 'evicted_keys',
          ],
          rows: medians.map((m): Cell[] => {
            const engine = m.subject !== 'no cache'
            return [
              label(m.maxmemory), m.allocator, m.subject, engine ? spread(m, 'engineRssRatio', 2) : null, spread(m, 'growthRatio', 2),
              engine ? spread(m, 'hitRatio', 3) : null, spread(m, 'opsPerSec', 0), spread(m, 'cpuSeconds', 2),
              engine ? cell(m.memFrag) : null, engine ? cell(m.allocatorFrag) : null, m.keys, m.evictedKeys,
            ]
          }),
        },
        byAllocator,
        costs,
        ...(arenaTable.rows.length > 0 ? [arenaTable] : []),
        {
          title: 'Workload per size',
          columns: ['maxmemory', 'key space', 'writes', 'no-cache loop growth MB (median)'],
          rows: sizes.map((s): Cell[] => [label(s.maxmemory), s.keySpace, s.writes, (at('no cache', null, s.maxmemory)?.rssGrowth ?? NaN) / MB]),
        },
      ],
      charts: [{ name: 'ratio', title: 'used_memory_rss and process RSS growth ÷ maxmemory', spec: groupedBars('Churn: ÷ maxmemory', 'ratio', bars) }],
      notes: [
        ...refusalNotes,
        ...goalNotes,
        `Workload: Zipf ${ZIPF_S} over the key space; each step a GET of its key (hit ratio: hits ÷ GETs), then a SET of it with a new size (log-uniform ${MIN_VALUE_BYTES} B–${MAX_VALUE_BYTES / 1024} KB), ` +
          `${Math.round(TTL_SHARE * 100)}% of them with EX ${TTL_MIN_S}–${TTL_MAX_S} s, allkeys-lru; the same seeded trace for every subject and build.`,
        'RSS growth ÷ max: process RSS right after the loop against the baseline just before it (taken after ' +
          `${plan.warmupWrites.toLocaleString('en-US')} warm-up writes of keys deleted at once, every subject alike). For arenakv it is ` +
          'net of the "no cache" row: the same loop with no cache (run once per size and round; it loads no engine, so it is the same on every build), ' +
          "whose growth is the loop's own garbage and code; redis-server's is its process RSS growth.",
        "used_memory_rss: arenakv's INFO (the engine's own resident memory and its tables: its arena's on jemalloc, its share by used memory of " +
          "the private heap's on tcmalloc and mimalloc; on libc the process RSS); " +
          "redis-server's INFO (its process RSS). mem_fragmentation_ratio is used_memory_rss ÷ used_memory; allocator_frag is — on a build " +
          'that cannot report small-bin fragmentation.',
        'The Node loop yields to the event loop every 1,024 writes, as a server does between reads, so the engine\'s timer runs active expiry and the resident sample. ' +
          "redis-server's ops/s include this process encoding RESP and decoding GET replies (pipelined, 1,000 commands per batch); its CPU s is the server's own (INFO cpu), " +
          'a Node subject\'s the whole process\'s (process.cpuUsage). ops/s and CPU s are wall-clock and CPU figures from a machine shared with other work: compare them within a run, beside their range.',
        ...(hasRedis ? [] : [missingPeerNote('redis-server')]),
        ...(ctx.scale === 'full' ? [] : [`Scale ${ctx.scale}: bound, key space and writes at 1/${plan.divide}; Node's fixed costs weigh more at this size.`]),
      ],
      data: {
        goal: GOAL, sizes,
        refused: Object.fromEntries(builds.map((b) => [b, refused.get(b) ?? null])),
        medians, runs,
      },
    }
  },
}
