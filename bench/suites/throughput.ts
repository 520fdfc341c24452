// Type-only import: the child module runs its workload when loaded.
import type { ThroughputParams, ThroughputPeer, ThroughputResult, TraceShape, Workload } from '../throughput.js'
import type { Cell, Table } from '../output.js'
import { missingPeerNote, type PeerName } from '../peers.js'
import { groupedBars } from '../specs.js'
import type { Scale, Suite } from '../suite.js'

const MB = 1 << 20

/** One keyspace shape: every workload runs on it, each subject in a fresh process. */
interface Config {
  keys: number
  valueBytes: number
  trace: TraceShape
  durationMs: number
  /** The goals are checked on gated configs; the others are reported. */
  gated: boolean
}

// The hot path's workload: keys built per operation ('key:' + n), 90% of accesses on 10% of the keys, arenakv with
// maxmemory set. Subjects run in interleaved rounds (A B C D, A B C D, …) and each keeps its median round, so a
// change in machine load during the suite shifts every subject alike.
const PLAN: Record<Scale, { configs: Config[]; rounds: number }> = {
  tiny: { configs: [{ keys: 20_000, valueBytes: 100, trace: 'hotset', durationMs: 200, gated: true }], rounds: 1 },
  small: {
    configs: [
      { keys: 200_000, valueBytes: 100, trace: 'hotset', durationMs: 1000, gated: true },
      { keys: 20_000, valueBytes: 100, trace: 'hotset', durationMs: 1000, gated: true },
    ],
    rounds: 3,
  },
  full: {
    configs: [
      { keys: 1_000_000, valueBytes: 100, trace: 'hotset', durationMs: 2000, gated: true },
      { keys: 100_000, valueBytes: 100, trace: 'hotset', durationMs: 2000, gated: true },
      { keys: 1_000_000, valueBytes: 100, trace: 'zipf', durationMs: 1000, gated: false },
      { keys: 1_000_000, valueBytes: 16, trace: 'hotset', durationMs: 1000, gated: false },
      { keys: 1_000_000, valueBytes: 1024, trace: 'hotset', durationMs: 1000, gated: false },
    ],
    rounds: 3,
  },
}

const WORKLOADS: Record<Workload, { title: string; peers: readonly ThroughputPeer[] }> = {
  mix: { title: '90% GET / 10% SET', peers: ['arenakv get', 'arenakv get (allkeys-adaptive)', 'arenakv getInto', 'lru-cache', 'mnemonist'] },
  read: { title: 'GET only (arenakv mgetInto: 64 keys a call)', peers: ['arenakv mgetInto', 'arenakv getInto', 'lru-cache', 'mnemonist'] },
  write: { title: 'SET only (overwrites; values copied by every subject)', peers: ['arenakv set', 'lru-cache', 'mnemonist'] },
}

export interface ConfigResult extends Config {
  results: ThroughputResult[]
  runs: ThroughputResult[][]
}

function median(runs: ThroughputResult[]): ThroughputResult {
  const sorted = [...runs].sort((a, b) => a.opsPerSec - b.opsPerSec)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

function configName(c: Config): string {
  return `${c.keys.toLocaleString('en-US')} keys × ${c.valueBytes} B, ${c.trace === 'zipf' ? 'Zipf 0.99' : '90% of accesses on 10% of keys'}`
}

function ops(c: ConfigResult, workload: Workload, peer: ThroughputPeer): number {
  return c.results.find((r) => r.workload === workload && r.peer === peer)?.opsPerSec ?? NaN
}

/** The goals, each as measured: [label, ratio, goal]. */
export function goals(configs: ConfigResult[]): [string, number, number][] {
  const out: [string, number, number][] = []
  const byKeys = (n: number) => configs.find((c) => c.gated && c.keys === n && c.trace === 'hotset' && c.valueBytes === 100)
  const large = byKeys(1_000_000) ?? configs.filter((c) => c.gated).sort((a, b) => b.keys - a.keys)[0]
  const small = byKeys(100_000) ?? configs.filter((c) => c.gated).sort((a, b) => a.keys - b.keys)[0]
  if (large === undefined) return out
  const k = (c: Config) => `${c.keys.toLocaleString('en-US')} keys`
  out.push([`get() ÷ lru-cache, ${k(large)}`, ops(large, 'mix', 'arenakv get') / ops(large, 'mix', 'lru-cache'), 1.5])
  out.push([`get() ÷ mnemonist, ${k(large)}`, ops(large, 'mix', 'arenakv get') / ops(large, 'mix', 'mnemonist'), 1.1])
  out.push([`getInto() ÷ lru-cache, ${k(large)}`, ops(large, 'mix', 'arenakv getInto') / ops(large, 'mix', 'lru-cache'), 2.0])
  out.push([`mgetInto() ÷ lru-cache's get, ${k(large)}, GET only`, ops(large, 'read', 'arenakv mgetInto') / ops(large, 'read', 'lru-cache'), 3.0])
  out.push([`set() ÷ lru-cache's set, ${k(large)}`, ops(large, 'write', 'arenakv set') / ops(large, 'write', 'lru-cache'), 1.2])
  // The adaptive policy's cost on the hot path: at most 10% against allkeys-lru.
  out.push([`allkeys-adaptive get() ÷ allkeys-lru get(), ${k(large)}`, ops(large, 'mix', 'arenakv get (allkeys-adaptive)') / ops(large, 'mix', 'arenakv get'), 0.9])
  if (small !== undefined && small !== large) {
    out.push([`get() ÷ lru-cache, ${k(small)}`, ops(small, 'mix', 'arenakv get') / ops(small, 'mix', 'lru-cache'), 1.0])
  }
  return out
}

export const throughputSuite: Suite = {
  name: 'throughput',
  title: 'The hot path: GET/SET throughput beside lru-cache and mnemonist, keys built per operation, maxmemory set',
  description: "ops/s and event-loop delay: arenakv's get/getInto/mgetInto/set beside lru-cache and mnemonist",
  async run(ctx) {
    const { configs, rounds } = PLAN[ctx.scale]
    const build = ctx.allocators[0]
    const missing: PeerName[] = []
    for (const peer of ['lru-cache', 'mnemonist'] as const) if (!(await ctx.peer(peer))) missing.push(peer)
    const present = (p: ThroughputPeer) => !(missing as string[]).includes(p)
    const measured: ConfigResult[] = []
    for (const config of configs) {
      const subjects = (Object.keys(WORKLOADS) as Workload[]).flatMap((w) => WORKLOADS[w].peers.filter(present).map((peer) => ({ w, peer })))
      const runs = subjects.map(() => [] as ThroughputResult[])
      for (let round = 1; round <= rounds; round++) {
        for (const [i, { w, peer }] of subjects.entries()) {
          ctx.log(`  ${configName(config)}: round ${round}/${rounds} ${w} ${peer}, ${config.durationMs} ms`)
          const params: ThroughputParams = { peer, workload: w, trace: config.trace, keys: config.keys, valueBytes: config.valueBytes, durationMs: config.durationMs }
          runs[i].push(await ctx.child<ThroughputResult>('throughput', params, peer.startsWith('arenakv') ? build : null, `${w} ${peer}`))
        }
      }
      measured.push({ ...config, results: runs.map(median), runs })
    }
    // A ratio column for each peer that is installed.
    const ratioPeers = (['lru-cache', 'mnemonist'] as const).filter(present)
    const tables: Table[] = measured.map((c) => ({
      title: `${configName(c)}${c.gated ? '' : ' (reported, not gated)'}: ${c.durationMs / 1000} s per subject, each in a fresh process, median of ${rounds} interleaved round${rounds === 1 ? '' : 's'}`,
      columns: ['workload', 'subject', 'ops/s', ...ratioPeers.map((p) => `÷ ${p}`), 'hit ratio', 'loop delay p99 ms', 'max ms', 'RSS growth MB'],
      rows: c.results.map((r): Cell[] => [
        WORKLOADS[r.workload].title,
        r.peer,
        Math.round(r.opsPerSec),
        ...ratioPeers.map((p) => r.opsPerSec / ops(c, r.workload, p)),
        r.workload === 'write' ? null : r.hitRatio,
        r.delayP99Ms,
        r.delayMaxMs,
        r.rssGrowth / MB,
      ]),
    }))
    const first = measured[0]
    return {
      suite: 'throughput',
      title: this.title,
      allocators: [await ctx.allocatorEnv(build)],
      tables,
      charts: [
        {
          name: 'ops',
          title: `ops/s, ${configName(first)}`,
          spec: groupedBars(`ops/s, ${configName(first)}`, 'ops/s', first.results.map((r) => ({ group: r.workload, series: r.peer, value: r.opsPerSec }))),
        },
      ],
      notes: [
        `Workload: keys built per operation ('key:' + n), each subject filled with every key first; arenakv with maxmemory ` +
          `set (allkeys-lru, room for every key; one row under allkeys-adaptive), lru-cache with \`max\`, mnemonist's LRUCache with its capacity.`,
        // A goal against a peer that is not installed is left out (its ratio is NaN).
        ...goals(measured)
          .filter(([, ratio]) => Number.isFinite(ratio))
          .map(([label, ratio, goal]) => `Goal ${label} ≥ ${goal.toFixed(1)}: measured ${ratio.toFixed(2)} (${ratio >= goal ? 'met' : 'not met'}).`),
        ...missing.map(missingPeerNote),
        `Operations run in chunks of 2,048 between event-loop turns, so the loop delay is a chunk plus any stall (GC, timers).`,
      ],
      data: { rounds, configs: measured },
    }
  },
}
