// Type-only import: the child module runs its workload when loaded.
import type { ThroughputParams, ThroughputPeer, ThroughputResult } from '../throughput.js'
import type { Cell } from '../output.js'
import { missingPeerNote, type PeerName } from '../peers.js'
import { groupedBars } from '../specs.js'
import type { Scale, Suite } from '../suite.js'

const MB = 1 << 20
// Peers run in interleaved rounds (A B C D, A B C D, …) and each keeps its median round, so a change in machine
// load during the suite shifts every peer alike instead of whichever happened to run then.
const PLAN: Record<Scale, { keys: number; durationMs: number; rounds: number }> = {
  tiny: { keys: 20_000, durationMs: 500, rounds: 1 },
  small: { keys: 200_000, durationMs: 2000, rounds: 3 },
  full: { keys: 1_000_000, durationMs: 5000, rounds: 3 },
}

function median(runs: ThroughputResult[]): ThroughputResult {
  const sorted = [...runs].sort((a, b) => a.opsPerSec - b.opsPerSec)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}
const VALUE_BYTES = 100
const PEERS: readonly ThroughputPeer[] = ['arenakv get', 'arenakv getInto', 'lru-cache', 'mnemonist']

export const throughputSuite: Suite = {
  name: 'throughput',
  title: 'Throughput and stalls: 90% GET / 10% SET, 90% of accesses on 10% of keys',
  description: 'ops/s and event-loop delay on a hot-set trace: arenakv beside lru-cache and mnemonist',
  async run(ctx) {
    const { keys, durationMs, rounds } = PLAN[ctx.scale]
    const build = ctx.allocators[0]
    const missing: PeerName[] = []
    for (const peer of ['lru-cache', 'mnemonist'] as const) if (!(await ctx.peer(peer))) missing.push(peer)
    const peers = PEERS.filter((p) => !(missing as string[]).includes(p))
    const hasLru = !missing.includes('lru-cache')
    const runs = new Map<ThroughputPeer, ThroughputResult[]>(peers.map((p) => [p, []]))
    // Cache keys are JS strings in every peer: identical trace, identical key construction per operation.
    for (let round = 1; round <= rounds; round++) {
      for (const peer of peers) {
        ctx.log(`  round ${round}/${rounds} ${peer}: ${keys.toLocaleString('en-US')} keys × ${VALUE_BYTES} B, ${durationMs} ms`)
        const params: ThroughputParams = { peer, keys, valueBytes: VALUE_BYTES, durationMs }
        runs.get(peer)?.push(await ctx.child<ThroughputResult>('throughput', params, peer.startsWith('arenakv') ? build : null, peer))
      }
    }
    const results = peers.map((p) => median(runs.get(p) ?? []))
    const lru = results.find((r) => r.peer === 'lru-cache')
    const ratio = (r: ThroughputResult): number => (lru === undefined ? NaN : r.opsPerSec / lru.opsPerSec)
    const getRatio = results.find((r) => r.peer === 'arenakv get')
    return {
      suite: 'throughput',
      title: this.title,
      allocators: [await ctx.allocatorEnv(build)],
      tables: [
        {
          title: `${keys.toLocaleString('en-US')} keys × ${VALUE_BYTES} B for ${durationMs / 1000} s, each peer in a fresh process (median of ${rounds} interleaved round${rounds === 1 ? '' : 's'})`,
          columns: ['peer', 'ops/s', ...(hasLru ? ['÷ lru-cache'] : []), 'hit ratio', 'loop delay p50 ms', 'p99 ms', 'max ms', 'RSS growth MB'],
          rows: results.map((r): Cell[] => [
            r.peer, Math.round(r.opsPerSec), ...(hasLru ? [ratio(r)] : []), r.hitRatio, r.delayP50Ms, r.delayP99Ms, r.delayMaxMs, r.rssGrowth / MB,
          ]),
        },
      ],
      charts: [
        {
          name: 'ops',
          title: 'ops/s on the hot-set trace',
          spec: groupedBars('ops/s (90/10 GET/SET, hot set)', 'ops/s', results.map((r) => ({ group: 'hot set 90/10', series: r.peer, value: r.opsPerSec }))),
        },
      ],
      notes: [
        ...(hasLru
          ? [
              `Goal: arenakv ≥ 1.0× lru-cache ops/s; measured ${getRatio === undefined ? 'n/a' : ratio(getRatio).toFixed(2)}× with get() ` +
                `(a Buffer copy per hit) and ${ratio(results.find((r) => r.peer === 'arenakv getInto') ?? results[0]).toFixed(2)}× with getInto().`,
            ]
          : []),
        ...missing.map(missingPeerNote),
        `Operations run in chunks of 2,000 between event-loop turns, so the loop delay is a chunk plus any stall (GC, timers).`,
      ],
      data: { keys, valueBytes: VALUE_BYTES, durationMs, rounds, results, runs: Object.fromEntries(runs) },
    }
  },
}
