// MEMORY DOCTOR: Redis's checks and thresholds (empty under 5 MiB; peak/used > 1.5; fragmentation > 1.4;
// allocator fragmentation, allocator RSS and RSS overhead > 1.1; each ratio also needing > 10 MiB at stake),
// first as a pure function of the figures, then on real engines the tests drive into each state.
import { afterEach, describe, expect, it } from 'vitest'
import { Engine } from '../lib/engine.js'
import { formatFixed } from '../lib/format.js'
import { buildMemoryDoctor, doctorFindings } from '../lib/doctor.js'
import type { MemoryOverhead } from '../lib/report.js'

const MiB = 1024 * 1024
const open: Engine[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Figures of a healthy 100 MiB engine; each test spoils one of them. */
function healthy(over: Partial<MemoryOverhead> = {}): MemoryOverhead {
  const used = 100 * MiB
  const mh: MemoryOverhead = {
    processRss: 105 * MiB,
    allocatorAllocated: 96 * MiB,
    allocatorActive: 97 * MiB,
    allocatorResident: 100 * MiB,
    allocatorMuzzy: 0,
    allocatorFragSmallbins: MiB,
    totalAllocated: used,
    startupAllocated: 2048,
    peakAllocated: used,
    peakPerc: 100,
    dbMain: 10 * MiB,
    dbExpires: 0,
    overheadTotal: 10 * MiB,
    dataset: 90 * MiB,
    datasetPerc: 90,
    keysCount: 1e6,
    bytesPerKey: 104,
    allocatorFrag: 1 + 1 / 96,
    allocatorFragBytes: MiB,
    allocatorRss: 100 / 97,
    allocatorRssBytes: 3 * MiB,
    rssExtra: 1.05,
    rssExtraBytes: 5 * MiB,
    totalFrag: 1.05,
    totalFragBytes: 5 * MiB,
    arena: null,
  }
  return { ...mh, ...over }
}
const runtime = { heapTotal: 40 * MiB, external: 20 * MiB }

describe('doctor checks (pure)', () => {
  it('reports nothing for healthy figures and only the empty notice under 5 MiB', () => {
    expect(doctorFindings(healthy())).toEqual([])
    expect(buildMemoryDoctor(healthy(), runtime)).toMatch(/^Nothing to report/)
    const tiny = healthy({ totalAllocated: 5 * MiB - 1, peakAllocated: 50 * MiB, totalFrag: 30, totalFragBytes: 60 * MiB })
    expect(buildMemoryDoctor(tiny, runtime)).toMatch(/too little/)
    expect(buildMemoryDoctor(healthy({ totalAllocated: 5 * MiB }), runtime)).not.toMatch(/too little/)
  })

  it('applies each threshold strictly, with the 10 MiB floor where Redis has one', () => {
    expect(doctorFindings(healthy({ peakAllocated: 150 * MiB }))).toEqual([])
    expect(doctorFindings(healthy({ peakAllocated: 151 * MiB }))).toEqual(['peak'])
    expect(doctorFindings(healthy({ totalFrag: 1.4, totalFragBytes: 40 * MiB }))).toEqual([])
    expect(doctorFindings(healthy({ totalFrag: 1.41, totalFragBytes: 41 * MiB }))).toEqual(['fragmentation'])
    expect(doctorFindings(healthy({ totalFrag: 3, totalFragBytes: 10 * MiB }))).toEqual([])
    expect(doctorFindings(healthy({ allocatorFrag: 1.11, allocatorFragBytes: 11 * MiB }))).toEqual([
      'allocator-fragmentation',
    ])
    expect(doctorFindings(healthy({ allocatorFrag: 1.1, allocatorFragBytes: 11 * MiB }))).toEqual([])
    expect(doctorFindings(healthy({ allocatorFrag: 2, allocatorFragBytes: 10 * MiB }))).toEqual([])
    expect(doctorFindings(healthy({ allocatorRss: 1.2, allocatorRssBytes: 20 * MiB }))).toEqual(['allocator-rss'])
    expect(doctorFindings(healthy({ allocatorRss: 1.2, allocatorRssBytes: 9 * MiB }))).toEqual([])
    expect(doctorFindings(healthy({ rssExtra: 1.2, rssExtraBytes: 20 * MiB }))).toEqual(['rss-overhead'])
    expect(doctorFindings(healthy({ rssExtra: 1.1, rssExtraBytes: 20 * MiB }))).toEqual([])
  })

  it('writes one paragraph per finding with the figures that triggered it', () => {
    const text = buildMemoryDoctor(
      healthy({ peakAllocated: 300 * MiB, allocatorFrag: 1.5, allocatorFragBytes: 48 * MiB, rssExtra: 1.6, rssExtraBytes: 60 * MiB }),
      runtime,
    )
    expect(text).toMatch(/^3 things stand out/)
    expect(text.match(/^\* /gm)).toHaveLength(3)
    expect(text).toContain('300.00M')
    expect(text).toContain('3.00 times')
    expect(text).toContain('allocator_frag_ratio 1.50')
    expect(text).toContain('48.00M')
    expect(text).toContain('activedefrag')
    expect(text).toContain('Node.js')
    expect(text).toContain('40.00M') // V8's heap, from the runtime figures
  })
})

describe("the engine arena's resident overhead", () => {
  const arena = (over: Partial<NonNullable<MemoryOverhead['arena']>> = {}): NonNullable<MemoryOverhead['arena']> => ({
    allocated: 96 * MiB,
    active: 100 * MiB,
    dirty: 0,
    muzzy: 0,
    resident: 101 * MiB,
    mapped: 102 * MiB,
    nmalloc: 0,
    ndalloc: 0,
    fragSmallbinsBytes: 3 * MiB,
    smallAllocated: 60 * MiB,
    largeAllocated: 36 * MiB,
    metadata: MiB,
    retained: 0,
    ...over,
  })

  it('is a finding past 10% of the allocations and 10 MiB, with where it goes', () => {
    expect(doctorFindings(healthy({ arena: arena() }))).toEqual([])
    // 14 MiB over 96: past both thresholds.
    const heavy = arena({ active: 104 * MiB, fragSmallbinsBytes: 6 * MiB, dirty: 5 * MiB, resident: 110 * MiB })
    expect(doctorFindings(healthy({ arena: heavy }))).toEqual(['arena-overhead'])
    const text = buildMemoryDoctor(healthy({ arena: heavy }), runtime)
    expect(text).toContain('keeps 14.00M resident beyond the 96.00M allocated')
    expect(text).toContain('6.00M of free slots in partly used small slabs, 2.00M of page rounding')
    expect(text).toContain('5.00M of freed pages not yet returned')
    expect(text).toContain("maxmemoryAccounting: 'resident'")
    // 11 MiB over 200 MiB allocated: under 10%.
    const big = arena({ allocated: 200 * MiB, active: 205 * MiB, resident: 211 * MiB, fragSmallbinsBytes: 5 * MiB })
    expect(doctorFindings(healthy({ arena: big }))).toEqual([])
  })

  it('MEMORY STATS engine.arena breaks an engine arena down, its parts adding up', () => {
    const db = new Engine({ maxmemory: '16mb', maxmemoryPolicy: 'allkeys-lru' })
    open.push(db)
    const buf = Buffer.alloc(16384, 1)
    let s = 7
    for (let i = 0; i < 100_000; i++) {
      s ^= s << 13
      s ^= s >>> 17
      s ^= s << 5
      db.set(`k:${(s >>> 0) % 20_000}`, buf.subarray(0, 32 + ((s >>> 16) % 8000)))
    }
    const a = db.memoryStats()['engine.arena'] as Record<string, number>
    expect(a.allocated).toBe(a['small.allocated'] + a['large.allocated'])
    expect(a.allocated).toBeGreaterThan(10 * MiB)
    expect(a.allocated + a['small.slab-free'] + a['page-rounding']).toBeGreaterThanOrEqual(a.allocated)
    expect(a.resident).toBeGreaterThanOrEqual(a.allocated)
    expect(a['resident-overhead']).toBe(a.resident - a.allocated)
    expect(a.metadata).toBeGreaterThan(0)
  })

  it('large values freed under churn go to retained extents, not resident pages, and round to no page', () => {
    const db = new Engine()
    open.push(db)
    const buf = Buffer.alloc(16384, 1)
    // Large size classes only (16 KiB and up): rewritten with new sizes, half of them deleted.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 2000; i++) db.set(`k${i}`, buf.subarray(0, 15_000 + ((i * 7919 + round * 104_729) % 1384)))
    }
    for (let i = 0; i < 2000; i += 2) db.del(`k${i}`)
    const a = db.memoryStats()['engine.arena'] as Record<string, number>
    expect(a['large.allocated']).toBeGreaterThan(1000 * 16 * 1024 - 1)
    // Freed extents are purged at once (decay 0) and kept mapped for reuse: virtual, not resident.
    expect(a.retained).toBeGreaterThanOrEqual(1000 * 16 * 1024)
    expect(a.dirty + a.muzzy).toBe(0)
    // Large size classes are whole pages: what rounds is small slabs' tails alone, and there are almost none here.
    expect(a['page-rounding']).toBeLessThan(64 * 1024)
    expect(a.resident - a.allocated).toBeLessThan(0.05 * a.allocated)
  })
})

describe('doctor on real engines', () => {
  it('says an empty engine is too small to judge', () => {
    const db = new Engine()
    open.push(db)
    db.set('a', 'b')
    expect(db.memoryDoctor()).toMatch(/too little/)
  })

  it('flags a peak far above current use', async () => {
    const db = new Engine({ hz: 100 })
    open.push(db)
    for (let i = 0; i < 60_000; i++) db.set(`k${i}`, 'x'.repeat(500))
    await sleep(40) // a cron tick records the peak
    for (let i = 0; i < 40_000; i++) db.del(`k${i}`)
    const used = db.usedMemory()
    const peak = db.infoObject('memory').used_memory_peak as number
    expect(used).toBeGreaterThan(5 * MiB)
    expect(peak / used).toBeGreaterThan(1.5)
    const text = db.memoryDoctor()
    expect(text).toMatch(/Usage once reached/)
    expect(text).toContain(`${formatFixed(peak / used)} times`)
  })

  it('flags allocator fragmentation after a random half of small keys is deleted, and not before', () => {
    const db = new Engine()
    open.push(db)
    const n = 400_000
    for (let i = 0; i < n; i++) db.set(`key:${i}`, 'v'.repeat(90 + (i % 20)))
    const before = db.memoryStats()
    expect(before['allocator-fragmentation.ratio'] as number).toBeLessThan(1.1)
    expect(db.memoryDoctor()).not.toMatch(/slabs are fragmented/)
    for (let i = 0; i < n; i++) if ((i * 2654435761) % 7 < 4) db.del(`key:${i}`)
    const after = db.memoryStats()
    expect(after['allocator-fragmentation.ratio'] as number).toBeGreaterThan(1.1)
    expect(after['allocator-fragmentation.bytes'] as number).toBeGreaterThan(10 * MiB)
    const text = db.memoryDoctor()
    expect(text).toMatch(/slabs are fragmented/)
    // The doctor takes a fresh sample (its figures can move in the last digit): quote the one it used, which
    // MEMORY STATS reuses while it is current.
    const quoted = db.memoryStats()['allocator-fragmentation.ratio'] as number
    expect(text).toContain(`allocator_frag_ratio ${formatFixed(quoted)}`)
  })
})
