import { ALLOC_SIZES, ALLOC_WORKLOADS, type AllocFigures, type AllocParams, type AllocResult } from '../alloc-sizes.js'
import type { AllocatorName } from '../builds.js'
import { groupedBars, type BarDatum } from '../specs.js'
import type { SuiteReport, Table } from '../output.js'
import type { Suite, SuiteContext } from '../suite.js'

const MB = 1 << 20

export type AllocatorFigures = Record<string, AllocFigures>

/** A figure every build measures (only small-bin fragmentation may be null): a null here is a broken child. */
function fig(v: number | null | undefined): number {
  if (typeof v !== 'number') throw new Error(`an allocator comparison figure every build measures is missing (${String(v)})`)
  return v
}

async function measure(ctx: SuiteContext, build: AllocatorName): Promise<AllocatorFigures> {
  const figures: AllocatorFigures = {}
  for (const workload of ALLOC_WORKLOADS) {
    ctx.log(`  ${build}: ${workload}`)
    const params: AllocParams = { workload, scale: ctx.scale }
    const r = await ctx.child<AllocResult>('alloc', params, build, `${build} ${workload}`)
    if (r.allocator !== build) throw new Error(`build ${build} loaded allocator ${r.allocator}`)
    figures[workload] = r.figures
  }
  return figures
}

function table(all: Record<string, AllocatorFigures>): Table {
  return {
    title: 'Allocator comparison (each workload in a fresh process)',
    columns: [
      'allocator', 'fill+evict ops/s', 'fill RSS/maxmem', 'mixed ops/s', 'RSS full MB', 'RSS del½ MB',
      'RSS purged MB', 'purge freed MB', 'frag ratio del½', 'alloc frag (rand)', 'RSS/used (rand)',
    ],
    rows: Object.entries(all).map(([name, f]) => [
      name,
      Math.round(fig(f.fill_evict.ops_per_sec)),
      fig(f.fill_evict.rss_growth_ratio),
      Math.round(fig(f.mixed.ops_per_sec)),
      fig(f.delete_purge.rss_growth_full) / MB,
      fig(f.delete_purge.rss_growth_after_delete) / MB,
      fig(f.delete_purge.rss_growth_after_purge) / MB,
      fig(f.delete_purge.purge_released) / MB,
      // null (printed —) where the build cannot report small-bin fragmentation.
      f.delete_purge.allocator_frag_ratio_after_delete,
      f.fragmentation.allocator_frag_ratio,
      fig(f.fragmentation.rss_growth_to_used),
    ]),
  }
}

function charts(all: Record<string, AllocatorFigures>): SuiteReport['charts'] {
  const ops: BarDatum[] = []
  const rss: BarDatum[] = []
  const frag: BarDatum[] = []
  for (const [series, f] of Object.entries(all)) {
    ops.push({ group: 'fill + evict', series, value: fig(f.fill_evict.ops_per_sec) })
    ops.push({ group: 'mixed 90/10 Zipf', series, value: fig(f.mixed.ops_per_sec) })
    rss.push({ group: 'full', series, value: fig(f.delete_purge.rss_growth_full) / MB })
    rss.push({ group: 'deleted half', series, value: fig(f.delete_purge.rss_growth_after_delete) / MB })
    rss.push({ group: 'after purge', series, value: fig(f.delete_purge.rss_growth_after_purge) / MB })
    // An allocator that cannot report small-bin fragmentation gets no bar rather than a made-up 1.0.
    const afterDelete = f.delete_purge.allocator_frag_ratio_after_delete
    const random = f.fragmentation.allocator_frag_ratio
    if (afterDelete !== null) frag.push({ group: 'allocator frag (100 B, del ½)', series, value: afterDelete })
    if (random !== null) frag.push({ group: 'allocator frag (random sizes)', series, value: random })
    frag.push({ group: 'RSS growth / used (random)', series, value: fig(f.fragmentation.rss_growth_to_used) })
  }
  return [
    { name: 'ops', title: 'Throughput by allocator', spec: groupedBars('Throughput by allocator', 'ops/s', ops) },
    { name: 'rss', title: 'RSS growth: full, after deleting half, after purge', spec: groupedBars('RSS growth (MB)', 'MB', rss) },
    { name: 'fragmentation', title: 'Fragmentation ratios', spec: groupedBars('Fragmentation ratios', 'ratio', frag) },
  ]
}

export const allocSuite: Suite = {
  name: 'alloc',
  title: 'Allocator comparison: the same workloads on each allocator build',
  description: 'fill+evict, mixed get/set, delete half + purge, fragmentation, per allocator build',
  comparesAllocators: true,
  async run(ctx) {
    const sizes = ALLOC_SIZES[ctx.scale]
    const all: Record<string, AllocatorFigures> = {}
    for (const build of ctx.allocators) all[build] = await measure(ctx, build)
    const allocators = await Promise.all(ctx.allocators.map((a) => ctx.allocatorEnv(a)))
    const notes = [
      `fill+evict: allkeys-lru, maxmemory ${sizes.maxmemory / MB} MB, ${sizes.fillWrites.toLocaleString('en-US')} writes of 100 B; ` +
        `mixed: ${sizes.mixedKeys.toLocaleString('en-US')} keys, ${sizes.mixedOps.toLocaleString('en-US')} ops (90% GET, Zipf 0.99); ` +
        `delete: ${sizes.deleteKeys.toLocaleString('en-US')} × 100 B, a random half deleted, then purge; ` +
        `fragmentation: ${sizes.fragKeys.toLocaleString('en-US')} values log-uniform 16 B–4 KiB, a random half deleted.`,
      'RSS figures are growth over the process baseline measured just before each workload. Allocator fragmentation ' +
        'is small-bin fragmentation bytes ÷ allocated + 1 (Redis 7.4\'s allocator_frag_ratio); with libc the allocator ' +
        'statistics also cover Node\'s own mallocs (jemalloc and tcmalloc are private heaps linked into the addon).',
    ]
    const noSmallbins = Object.entries(all).filter(([, f]) => f.fragmentation.allocator_frag_ratio === null).map(([name]) => name)
    if (noSmallbins.length > 0) {
      notes.push(
        `${noSmallbins.join(', ')}: the build cannot report small-bin fragmentation, so its allocator frag columns are — ` +
          '(null in the JSON), not the 1.00 its INFO allocator_frag_ratio shows.',
      )
    }
    if (ctx.allocators.length > 1 && all.jemalloc !== undefined) {
      for (const [name, f] of Object.entries(all)) {
        if (name === 'jemalloc') continue
        notes.push(
          `${name} vs jemalloc: fill ${(fig(f.fill_evict.ops_per_sec) / fig(all.jemalloc.fill_evict.ops_per_sec)).toFixed(2)}×, ` +
            `mixed ${(fig(f.mixed.ops_per_sec) / fig(all.jemalloc.mixed.ops_per_sec)).toFixed(2)}×, RSS after delete+purge ` +
            `${(fig(f.delete_purge.rss_growth_after_purge) / fig(all.jemalloc.delete_purge.rss_growth_after_purge)).toFixed(2)}×.`,
        )
      }
    }
    return {
      suite: 'alloc',
      title: this.title,
      allocators,
      tables: [table(all)],
      charts: charts(all),
      notes,
      data: { sizes, figures: all },
    }
  },
}
