// The hit-ratio suite's trace part: every trace (files given with --trace, and synthetic shapes) at three capacities
// (10%, 25%, 50% of its distinct keys), replayed through the engine under allkeys-lru and allkeys-lfu (samples 5
// and 10) and allkeys-adaptive, beside reference simulations of OPT, exact LRU, ARC and a fixed-window W-TinyLFU.
import type { MaxmemoryPolicy } from '../../lib/config.js'
// Type-only import: the child module runs its workload when loaded.
import type { TraceParams, TraceResult } from '../hitratio-trace.js'
import type { Table } from '../output.js'
import { arcHits } from '../sim/arc.js'
import { lruHits } from '../sim/lru.js'
import { optHits } from '../sim/opt.js'
import { wtinylfuHits } from '../sim/wtinylfu.js'
import type { Scale, SuiteContext } from '../suite.js'
import { loadTrace, SHAPES, type TraceSpec } from '../traces.js'

const SHAPE_PLAN: Record<Scale, { n: number; length: number }> = {
  tiny: { n: 500, length: 10_000 },
  small: { n: 5_000, length: 200_000 },
  full: { n: 10_000, length: 500_000 },
}
const CAPACITY_SHARES = [0.1, 0.25, 0.5] as const
const RUNS: readonly { policy: MaxmemoryPolicy; samples: number }[] = [
  { policy: 'allkeys-lru', samples: 5 },
  { policy: 'allkeys-lru', samples: 10 },
  { policy: 'allkeys-lfu', samples: 5 },
  { policy: 'allkeys-lfu', samples: 10 },
  { policy: 'allkeys-adaptive', samples: 5 },
]

export interface TraceCell {
  trace: string
  capacity: number
  distinct: number
  requests: number
  opt: number
  lru: number
  arc: number
  wtinylfu: number
  engine: TraceResult
  /** allkeys-adaptive minus the best of the other engine policies, ARC and W-TinyLFU (points; ≥ 0 meets the goal). */
  margin: number
}

export async function traceCells(ctx: SuiteContext, build: Parameters<SuiteContext['child']>[2]): Promise<TraceCell[]> {
  const plan = SHAPE_PLAN[ctx.scale]
  const specs: TraceSpec[] = [...ctx.traces.map((file) => ({ file })), ...SHAPES.map((shape) => ({ shape, ...plan }))]
  const cells: TraceCell[] = []
  for (const spec of specs) {
    const trace = loadTrace(spec)
    const n = trace.keys.length
    for (const share of CAPACITY_SHARES) {
      const capacity = Math.max(1, Math.round(share * trace.distinct))
      ctx.log(`  ${trace.name} @ ${capacity} keys: ${n.toLocaleString('en-US')} requests, ${trace.distinct.toLocaleString('en-US')} distinct keys`)
      const params: TraceParams = { trace: spec, capacity, valueBytes: 100, runs: [...RUNS] }
      const engine = await ctx.child<TraceResult>('hitratio-trace', params, build, `${trace.name}@${capacity}`)
      const arc = arcHits(trace.keys, capacity) / n
      const wtinylfu = wtinylfuHits(trace.keys, capacity) / n
      const adaptive = engine.runs.find((r) => r.policy === 'allkeys-adaptive')?.hitRatio ?? 0
      const others = engine.runs.filter((r) => r.policy !== 'allkeys-adaptive').map((r) => r.hitRatio)
      cells.push({
        trace: trace.name,
        capacity,
        distinct: trace.distinct,
        requests: n,
        opt: optHits(trace.keys, capacity) / n,
        lru: lruHits(trace.keys, capacity) / n,
        arc,
        wtinylfu,
        engine,
        margin: (adaptive - Math.max(arc, wtinylfu, ...others)) * 100,
      })
    }
  }
  return cells
}

const label = (r: { policy: MaxmemoryPolicy; samples: number }): string => `${r.policy.replace('allkeys-', '')} ${r.samples}`

export function traceTable(cells: readonly TraceCell[]): Table {
  return {
    title: 'Hit % by trace and capacity (keys): reference simulations, then the engine (cache-aside, 100-byte values)',
    columns: ['trace', 'capacity', 'OPT', 'exact LRU', 'ARC', 'W-TinyLFU 1%', ...RUNS.map(label), 'adaptive keys held', 'margin (points)'],
    rows: cells.map((c) => {
      const adaptive = c.engine.runs.find((r) => r.policy === 'allkeys-adaptive')
      return [
        c.trace, c.capacity, c.opt * 100, c.lru * 100, c.arc * 100, c.wtinylfu * 100,
        ...RUNS.map((run) => (c.engine.runs.find((r) => r.policy === run.policy && r.samples === run.samples)?.hitRatio ?? 0) * 100),
        Math.round(adaptive?.heldKeys ?? 0), c.margin,
      ]
    }),
  }
}

/** Notes: goal cells met, and allkeys-adaptive's replay speed against allkeys-lru's (samples 5) on the same cells. */
export function traceNotes(cells: readonly TraceCell[]): string[] {
  const missed = cells.filter((c) => c.margin < 0)
  let lruOps = 0
  let adaptiveOps = 0
  for (const c of cells) {
    lruOps += c.engine.runs.find((r) => r.policy === 'allkeys-lru' && r.samples === 5)?.opsPerSec ?? 0
    adaptiveOps += c.engine.runs.find((r) => r.policy === 'allkeys-adaptive')?.opsPerSec ?? 0
  }
  const beatsEngine = cells.filter((c) => {
    const adaptive = c.engine.runs.find((r) => r.policy === 'allkeys-adaptive')?.hitRatio ?? 0
    return c.engine.runs.every((r) => r.policy === 'allkeys-adaptive' || adaptive >= r.hitRatio)
  }).length
  return [
    `allkeys-adaptive ≥ every other engine policy (allkeys-lru, allkeys-lfu, samples 5 and 10) in ${beatsEngine} of ${cells.length} cells.`,
    `Goal: allkeys-adaptive ≥ the best of allkeys-lru / allkeys-lfu (samples 5, 10), ARC and W-TinyLFU (1% window) in every cell: ` +
      `met in ${cells.length - missed.length} of ${cells.length}` +
      (missed.length === 0 ? '.' : `; missed: ${missed.map((c) => `${c.trace}@${c.capacity} (${c.margin.toFixed(2)})`).join(', ')}.`),
    `Replay speed (GET + SET on a miss, summed over the cells): allkeys-adaptive at ${lruOps > 0 ? ((adaptiveOps / lruOps) * 100).toFixed(0) : 'n/a'}% of allkeys-lru (samples 5).`,
    'The engine holds fewer keys under allkeys-adaptive at the same maxmemory: its sketch and window queue are counted in used_memory.',
  ]
}
