// Type-only import: the child module runs its workload when loaded.
import type { MainLockWaits, ShareParams, ShareResult } from '../share.js'
import type { Cell, Table } from '../output.js'
import { groupedBars } from '../specs.js'
import type { Scale, Suite } from '../suite.js'

// One engine shared by 1, 2 and 4 worker threads against 1, 2 and 4 private engines (one per thread) splitting
// the same total maxmemory. Every thread draws from the same Zipf distribution, cache-aside (a GET; a miss is
// followed by a SET). What sharing costs: the per-operation cost of one thread on a shared engine, uncontended,
// against a private engine's. What it buys: one copy of the hot set instead of one per thread (hit ratio), and one
// bound for the process (RSS). Each configuration runs in a fresh process, in interleaved rounds; medians.
// And what the lock costs a thread that only reads: the main thread's GETs beside 1, 2 and 4 writer threads, its
// lock waits traced (lib/lock_stats.ts), each long wait and long hold with the time its thread spent runnable but
// not running (the kernel's run-queue time), which tells a lock held by a descheduled thread from long work.

const MB = 1 << 20
const THREADS = [1, 2, 4] as const
const MODES = ['private', 'shared'] as const
type Mode = (typeof MODES)[number]
/** Goal: one thread's per-operation cost on a shared engine, uncontended, ≤ 1.3 × a private engine's. */
const GOAL = 1.3
const ZIPF_S = 0.99
const VALUE_BYTES = 100

interface Plan {
  maxmemory: number
  keySpace: number
  warmupOps: number
  ops: number
  rounds: number
}

const PLAN: Record<Scale, Plan> = {
  tiny: { maxmemory: 2 * MB, keySpace: 50_000, warmupOps: 20_000, ops: 20_000, rounds: 1 },
  small: { maxmemory: 8 * MB, keySpace: 200_000, warmupOps: 200_000, ops: 300_000, rounds: 3 },
  full: { maxmemory: 32 * MB, keySpace: 1_000_000, warmupOps: 1_000_000, ops: 1_000_000, rounds: 3 },
}

interface Median {
  mode: Mode
  threads: number
  rounds: number
  opsPerSec: number
  /** The median of each round's mean per-thread ops/s. */
  threadOpsPerSec: number
  hitRatio: number
  rssAfter: number
  rssReady: number
  keys: number
  range: { opsPerSec: [number, number]; hitRatio: [number, number] }
}

/** The lock-wait rows: medians over rounds of each figure, and the longest wait of all rounds. */
interface LockWaitRow {
  writers: number
  rounds: number
  gets: number
  contendedPerc: number
  p50Us: number
  p99Us: number
  p999Us: number
  maxMs: number
  maxMsAll: number
  /** The longest wait (of the round with the median longest) and the part the main thread spent runnable, not running. */
  longest: MainLockWaits
  /** Waits ≥ 0.2 ms, all rounds: their time and the main thread's own run-queue share of it; the same for the writers' holds. */
  slowWaitsMs: number
  slowWaitsRunqueuePerc: number | null
  slowHoldsMs: number
  slowHoldsRunqueuePerc: number | null
  maxStepsPerHold: number
}

function lockWaitRow(writers: number, runs: readonly MainLockWaits[]): LockWaitRow {
  const byMax = [...runs].sort((a, b) => a.maxMs - b.maxMs)
  const sum = (f: (m: MainLockWaits) => number): number => runs.reduce((n, m) => n + f(m), 0)
  const slowWaitsMs = sum((m) => m.slowWaits?.ms ?? 0)
  const slowHoldsMs = sum((m) => m.slowHolds?.ms ?? 0)
  const sched = runs.every((m) => m.slowWaits !== null)
  return {
    writers, rounds: runs.length,
    gets: median(runs.map((m) => m.gets)),
    contendedPerc: median(runs.map((m) => (100 * m.contended) / m.gets)),
    p50Us: median(runs.map((m) => m.p50Ms * 1000)),
    p99Us: median(runs.map((m) => m.p99Ms * 1000)),
    p999Us: median(runs.map((m) => m.p999Ms * 1000)),
    maxMs: median(runs.map((m) => m.maxMs)),
    maxMsAll: byMax[byMax.length - 1].maxMs,
    longest: byMax[byMax.length >> 1],
    slowWaitsMs,
    slowWaitsRunqueuePerc: sched && slowWaitsMs > 0 ? (100 * sum((m) => m.slowWaits?.runqueueMs ?? 0)) / slowWaitsMs : null,
    slowHoldsMs,
    slowHoldsRunqueuePerc: sched && slowHoldsMs > 0 ? (100 * sum((m) => m.slowHolds?.runqueueMs ?? 0)) / slowHoldsMs : null,
    maxStepsPerHold: Math.max(...runs.map((m) => m.maxSteps)),
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

function summarise(runs: readonly ShareResult[]): Median {
  const pick = (f: (r: ShareResult) => number): number => median(runs.map(f))
  const span = (f: (r: ShareResult) => number): [number, number] => [Math.min(...runs.map(f)), Math.max(...runs.map(f))]
  return {
    mode: runs[0].mode,
    threads: runs[0].threads,
    rounds: runs.length,
    opsPerSec: pick((r) => r.opsPerSec),
    threadOpsPerSec: pick((r) => mean(r.threadOpsPerSec)),
    hitRatio: pick((r) => r.hitRatio),
    rssAfter: pick((r) => r.rssAfter),
    rssReady: pick((r) => r.rssReady),
    keys: pick((r) => r.keys),
    range: { opsPerSec: span((r) => r.opsPerSec), hitRatio: span((r) => r.hitRatio) },
  }
}

export const shareSuite: Suite = {
  name: 'share',
  title: 'One engine shared by worker threads vs one private engine per thread (same total maxmemory)',
  description: 'Zipf cache-aside (GET, SET on a miss) from 1, 2 and 4 threads: one shared engine or a private engine each, allkeys-lru',
  async run(ctx) {
    const plan = { ...PLAN[ctx.scale], rounds: ctx.runs ?? PLAN[ctx.scale].rounds }
    const build = ctx.allocators[0]
    const env = await ctx.allocatorEnv(build)
    const runs: ShareResult[] = []
    const lockRuns: { writers: number; waits: MainLockWaits }[] = []
    for (let round = 1; round <= plan.rounds; round++) {
      // Interleaved: every configuration once per round, so a change of machine load shifts them alike.
      for (const threads of THREADS) {
        for (const mode of MODES) {
          const params: ShareParams = {
            mode, threads, maxmemory: plan.maxmemory, keySpace: plan.keySpace, zipfS: ZIPF_S, warmupOps: plan.warmupOps,
            ops: plan.ops, valueBytes: VALUE_BYTES, seed: 1000 + round, mainGets: false,
          }
          runs.push(await ctx.child<ShareResult>('share', params, build, `${mode} × ${threads}, round ${round}/${plan.rounds}`))
        }
        const params: ShareParams = {
          mode: 'shared', threads, maxmemory: plan.maxmemory, keySpace: plan.keySpace, zipfS: ZIPF_S, warmupOps: plan.warmupOps,
          ops: plan.ops, valueBytes: VALUE_BYTES, seed: 1000 + round, mainGets: true, lockTrace: 'sched',
        }
        const r = await ctx.child<ShareResult>('share', params, build, `main thread's GETs beside ${threads} writer${threads === 1 ? '' : 's'}, round ${round}/${plan.rounds}`)
        if (r.mainLock !== null) lockRuns.push({ writers: threads, waits: r.mainLock })
      }
    }
    const lockWaits = THREADS.map((t) => lockWaitRow(t, lockRuns.filter((r) => r.writers === t).map((r) => r.waits)))
    const medians = THREADS.flatMap((threads) => MODES.map((mode) => summarise(runs.filter((r) => r.mode === mode && r.threads === threads))))
    const at = (mode: Mode, threads: number): Median => medians.find((m) => m.mode === mode && m.threads === threads) as Median
    const cores = ctx.env.cores
    const fmtRange = (m: Median, f: 'opsPerSec' | 'hitRatio', digits: number): Cell => {
      const fmt = (x: number): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
      const [lo, hi] = m.range[f]
      return m.rounds < 2 ? fmt(m[f]) : `${fmt(m[f])} (${fmt(lo)}–${fmt(hi)})`
    }
    const table: Table = {
      title: `Medians (min–max) of ${plan.rounds} interleaved round${plan.rounds === 1 ? '' : 's'}, each cell a fresh process`,
      columns: ['threads', 'engines', 'ops/s (all threads)', 'ops/s per thread', 'hit ratio', 'RSS MB', 'RSS MB when ready', 'keys held'],
      rows: medians.map((m): Cell[] => [
        m.threads > cores ? `${m.threads} (${cores} cores)` : m.threads,
        m.mode === 'shared' ? 'one shared' : `${m.threads} private`,
        fmtRange(m, 'opsPerSec', 0), Math.round(m.threadOpsPerSec), fmtRange(m, 'hitRatio', 3), m.rssAfter / MB, m.rssReady / MB, m.keys,
      ]),
    }
    const oversubscribed = THREADS.filter((t) => t > cores)
    const cost = at('private', 1).threadOpsPerSec / at('shared', 1).threadOpsPerSec
    const gains: Table = {
      title: 'What sharing buys at each thread count (shared − private, medians)',
      columns: ['threads', 'hit ratio: private', 'hit ratio: shared', 'change (points)', 'RSS MB: private', 'RSS MB: shared', 'ops/s: shared ÷ private'],
      rows: THREADS.map((t): Cell[] => {
        const p = at('private', t)
        const s = at('shared', t)
        return [t, p.hitRatio, s.hitRatio, (s.hitRatio - p.hitRatio) * 100, p.rssAfter / MB, s.rssAfter / MB, s.opsPerSec / p.opsPerSec]
      }),
    }
    const pct = (x: number | null): Cell => (x === null ? 'n/a' : `${x.toFixed(0)}%`)
    const waitsTable: Table = {
      title: `The main thread's lock wait: GETs back to back beside 1, 2 and 4 writer threads (medians of ${plan.rounds} round${plan.rounds === 1 ? '' : 's'})`,
      columns: [
        'writers', 'main GETs', 'contended', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max ms (all rounds)', 'longest: holds meanwhile, holder',
        'waits ≥ 0.2 ms: ms, main runnable not running', 'holds ≥ 0.2 ms: ms, holder runnable not running', 'most keys evicted per stretch',
      ],
      rows: lockWaits.map((w): Cell[] => [
        w.writers > cores ? `${w.writers} (${cores} cores)` : w.writers, w.gets, `${w.contendedPerc.toFixed(1)}%`,
        w.p50Us, w.p99Us, w.p999Us, `${w.maxMs.toFixed(2)} (${w.maxMsAll.toFixed(2)})`,
        `${w.longest.maxWaitHolds}, ${w.longest.maxWaitHolder}`,
        `${w.slowWaitsMs.toFixed(0)}, ${pct(w.slowWaitsRunqueuePerc)}`, `${w.slowHoldsMs.toFixed(0)}, ${pct(w.slowHoldsRunqueuePerc)}`, w.maxStepsPerHold,
      ]),
    }
    return {
      suite: 'share',
      title: this.title,
      allocators: [env],
      tables: [table, gains, waitsTable],
      charts: [{
        name: 'ops',
        title: 'ops/s, all threads together',
        spec: groupedBars('Shared vs private engines', 'ops/s', medians.map((m) => ({ group: `${m.threads} thread${m.threads === 1 ? '' : 's'}`, series: m.mode, value: m.opsPerSec }))),
      }],
      notes: [
        `Goal: one thread's per-operation cost on a shared engine, uncontended, ≤ ${GOAL} × a private engine's ` +
          `(measured ${cost.toFixed(2)}×, median ops/s of one private thread ÷ one shared thread): ${cost <= GOAL ? 'met' : 'not met'}.`,
        `Workload: ${plan.keySpace.toLocaleString('en-US')} keys, Zipf ${ZIPF_S} (the same distribution in every thread, each its own seed), ` +
          `${VALUE_BYTES} B values, cache-aside: a GET, and a SET of the key after a miss; ${plan.warmupOps.toLocaleString('en-US')} warm-up then ` +
          `${plan.ops.toLocaleString('en-US')} timed GETs per thread; allkeys-lru, ${plan.maxmemory / MB} MB in total (one engine, or ${plan.maxmemory / MB} MB ÷ threads each).`,
        'ops/s: GETs of all threads ÷ the slowest thread\'s time (the SETs after misses are part of the work, not counted); per thread: each thread\'s GETs ÷ its own time, averaged. ' +
          'RSS: the whole process (main thread, workers and their traces) after the timed loops, every thread at a finish line with its engine open; "when ready": once every thread had warmed up.',
        'Lock wait: the main thread runs GETs (its own Zipf trace) back to back while the writers SET every key they draw, from the start line until the last writer is done; ' +
          'each GET\'s wait for the lock is traced (uncontended ones wait 0; percentiles within 9%, from a log histogram). Waits and holds of 0.2 ms or more are split by the ' +
          'kernel\'s run-queue time of their thread (/proc/thread-self/schedstat): time a thread was runnable but had no CPU, so a wait behind a descheduled holder shows in the ' +
          'holder\'s column. Tracing adds about 1 µs per hold (the run-queue read) to every thread in these rows.',
        `This machine has ${cores} core${cores === 1 ? '' : 's'}` +
          (oversubscribed.length === 0 ? '. ' : `: ${oversubscribed.join(' and ')} threads share them, so those rows measure contention for CPUs as much as for the engine. `) +
          'Wall-clock figures from a machine shared with other work: compare them within a run, beside their range.',
      ],
      data: { goal: GOAL, perOpCost: cost, plan, medians, runs, lockWaits },
    }
  },
}
