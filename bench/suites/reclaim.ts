// Type-only import: the child module runs its workload when loaded.
import type { ReclaimParams, ReclaimResult } from '../reclaim.js'
import type { Cell } from '../output.js'
import { missingPeerNote } from '../peers.js'
import { pipelined, withRedis } from '../redis.js'
import { Rng, permutation } from '../rng.js'
import { groupedBars, type BarDatum } from '../specs.js'
import type { Scale, Suite, SuiteContext } from '../suite.js'

const MB = 1 << 20
const PLAN: Record<Scale, ReclaimParams> = {
  tiny: { keys: 50_000, defragSeconds: 2, ignoreBytes: '1mb' },
  small: { keys: 300_000, defragSeconds: 10, ignoreBytes: '1mb' },
  full: { keys: 1_000_000, defragSeconds: 30, ignoreBytes: '1mb' },
}
/** Goals after (c): allocator_frag_ratio ≤ 1.1 and mem_fragmentation_ratio ≤ 1.15. */
const GOAL_ALLOCATOR_FRAG = 1.1
const GOAL_MEM_FRAG = 1.15

interface Row {
  peer: string
  step: string
  /** The process's RSS. */
  rss: number
  /** INFO used_memory_rss (arenakv: the engine's own resident memory; redis-server: its process RSS). */
  usedMemoryRss: number
  used: number
  allocatorFrag: number
  memFrag: number
}

interface RedisReclaim {
  rows: Row[]
  defragRefused: string | null
}

async function redisReclaim(ctx: SuiteContext, p: ReclaimParams): Promise<RedisReclaim> {
  return withRedis({ maxmemory: 0, policy: 'noeviction' }, async ({ client }) => {
    const rows: Row[] = []
    const record = async (step: string): Promise<void> => {
      // INFO's RSS and allocator figures are refreshed by serverCron (hz 10): let one sample pass.
      await new Promise((r) => setTimeout(r, 300))
      const m = await client.info('memory')
      rows.push({
        peer: 'redis-server', step, rss: Number(m.used_memory_rss), usedMemoryRss: Number(m.used_memory_rss), used: Number(m.used_memory),
        allocatorFrag: Number(m.allocator_frag_ratio), memFrag: Number(m.mem_fragmentation_ratio),
      })
    }
    const value = 'e'.repeat(100)
    await pipelined(client, p.keys, (i) => ['SET', `key:${i}`, value])
    await record('filled')
    const order = permutation(p.keys, new Rng(17))
    await pipelined(client, Math.floor(p.keys / 2), (i) => ['DEL', `key:${order[i]}`])
    await record('(a) deleted half')
    await client.call('MEMORY', 'PURGE')
    await record('(b) memoryPurge')
    let defragRefused: string | null = null
    try {
      await client.call('CONFIG', 'SET', 'active-defrag-ignore-bytes', p.ignoreBytes)
      await client.call('CONFIG', 'SET', 'activedefrag', 'yes')
    } catch (err) {
      defragRefused = err instanceof Error ? err.message : String(err)
    }
    if (defragRefused === null) {
      for (let s = 0; s < p.defragSeconds; s++) {
        if (s % 5 === 0) ctx.log(`  [redis-server] defrag ${s}/${p.defragSeconds} s`)
        await new Promise((r) => setTimeout(r, 1000))
      }
      await record('(c) activedefrag')
    }
    return { rows, defragRefused }
  })
}

export const reclaimSuite: Suite = {
  name: 'reclaim',
  title: 'Reclaim after deleting half: nothing, purge, active defrag',
  description: 'N × 100 B, delete a random half, then nothing / memoryPurge / activedefrag; beside redis-server',
  async run(ctx) {
    const p = PLAN[ctx.scale]
    const build = ctx.allocators[0]
    ctx.log(`  arenakv: ${p.keys.toLocaleString('en-US')} keys, defrag ${p.defragSeconds} s`)
    const a = await ctx.child<ReclaimResult>('reclaim', p, build, 'arenakv')
    // redis-server is an optional peer: without it the suite measures arenakv alone.
    const hasRedis = await ctx.peer('redis-server')
    if (hasRedis) ctx.log('  redis-server: the same')
    const r = hasRedis ? await redisReclaim(ctx, p) : null
    const rows: Row[] = [
      ...a.steps.map((s) => ({
        peer: 'arenakv', step: s.step, rss: s.figures.process_rss, usedMemoryRss: s.figures.used_memory_rss, used: s.figures.used_memory,
        allocatorFrag: s.figures.allocator_frag_ratio, memFrag: s.figures.mem_fragmentation_ratio,
      })),
      ...(r?.rows ?? []),
    ]
    const bars: BarDatum[] = rows.flatMap((row) => [
      { group: row.step, series: `${row.peer} allocator_frag_ratio`, value: row.allocatorFrag },
      { group: row.step, series: `${row.peer} mem_fragmentation_ratio`, value: row.memFrag },
    ])
    const afterC = a.steps.find((s) => s.step === '(c) activedefrag')?.figures
    const table = (peer: string): Cell[][] =>
      rows.filter((x) => x.peer === peer).map((x) => [x.peer, x.step, x.rss / MB, x.usedMemoryRss / MB, x.used / MB, x.allocatorFrag, x.memFrag])
    return {
      suite: 'reclaim',
      title: this.title,
      allocators: [await ctx.allocatorEnv(build)],
      tables: [
        {
          title: `${p.keys.toLocaleString('en-US')} × 100 B, a random half deleted (active-defrag-ignore-bytes ${p.ignoreBytes}, defrag ${p.defragSeconds} s)`,
          columns: ['peer', 'step', 'process RSS MB', 'used_memory_rss MB', 'used_memory MB', 'allocator_frag_ratio', 'mem_fragmentation_ratio'],
          rows: [...table('arenakv'), ...table('redis-server')],
        },
      ],
      charts: [{ name: 'fragmentation', title: 'Fragmentation ratios after each step', spec: groupedBars('Fragmentation after each step', 'ratio', bars) }],
      notes: [
        afterC === undefined
          ? `arenakv could not run (c): ${a.defragRefused ?? 'no figures'}.`
          : `Goal after (c): allocator_frag_ratio ≤ ${GOAL_ALLOCATOR_FRAG} (measured ${afterC.allocator_frag_ratio.toFixed(2)}), ` +
            `mem_fragmentation_ratio ≤ ${GOAL_MEM_FRAG} (measured ${afterC.mem_fragmentation_ratio.toFixed(2)}); active_defrag_hits ${a.defragHits ?? 'n/a'}.`,
        r === null
          ? missingPeerNote('redis-server')
          : r.defragRefused === null
            ? 'redis-server accepted activedefrag.'
            : `redis-server refused activedefrag, so it has no (c) row: "${r.defragRefused}".`,
        "arenakv figures come from the engine's INFO memory. mem_fragmentation_ratio is used_memory_rss ÷ used_memory; arenakv's used_memory_rss is " +
          "the engine's own resident memory (its arena and tables), redis-server's its process RSS (the process is the engine there).",
      ],
      data: { params: p, arenakv: a, redis: r, rows },
    }
  },
}
