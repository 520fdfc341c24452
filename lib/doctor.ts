// MEMORY DOCTOR: Redis's checks and thresholds (object.c getMemoryDoctorReport), worded in our own terms.
import { bytesToHuman, formatFixed } from './format.js'
import type { MemoryOverhead, Reporter } from './report.js'

const MiB = 1024 * 1024
/** Under this much used memory there is nothing worth diagnosing (Redis's 5 MB). */
export const DOCTOR_EMPTY_BYTES = 5 * MiB
/** Each ratio finding also needs this many bytes at stake, so tiny instances are not flagged for noise. */
export const DOCTOR_MIN_BYTES = 10 * MiB
export const DOCTOR_PEAK_RATIO = 1.5
export const DOCTOR_FRAG_RATIO = 1.4
export const DOCTOR_ALLOCATOR_FRAG_RATIO = 1.1
export const DOCTOR_ALLOCATOR_RSS_RATIO = 1.1
export const DOCTOR_RSS_OVERHEAD_RATIO = 1.1

/** The Node.js runtime's own memory, which shares the process RSS with the engine. */
export interface RuntimeMemory {
  heapTotal: number
  external: number
}

export type DoctorFinding =
  | 'peak'
  | 'fragmentation'
  | 'allocator-fragmentation'
  | 'allocator-rss'
  | 'arena-overhead'
  | 'rss-overhead'

/** The engine's arena may hold this share of its allocations again, resident, before the doctor says where it goes. */
export const DOCTOR_ARENA_OVERHEAD_RATIO = 0.1

/** Resident bytes of the engine's arena beyond what is allocated in it, or 0 where there is no such arena. */
function arenaOverhead(mh: MemoryOverhead): number {
  return mh.arena == null ? 0 : Math.max(0, mh.arena.resident - mh.arena.allocated)
}

/** Which of Redis's checks fire for these figures, in the order the report lists them. */
export function doctorFindings(mh: MemoryOverhead): DoctorFinding[] {
  const found: DoctorFinding[] = []
  if (mh.peakAllocated / mh.totalAllocated > DOCTOR_PEAK_RATIO) found.push('peak')
  if (mh.totalFrag > DOCTOR_FRAG_RATIO && mh.totalFragBytes > DOCTOR_MIN_BYTES) found.push('fragmentation')
  if (mh.allocatorFrag > DOCTOR_ALLOCATOR_FRAG_RATIO && mh.allocatorFragBytes > DOCTOR_MIN_BYTES) {
    found.push('allocator-fragmentation')
  }
  if (mh.allocatorRss > DOCTOR_ALLOCATOR_RSS_RATIO && mh.allocatorRssBytes > DOCTOR_MIN_BYTES) found.push('allocator-rss')
  const overhead = arenaOverhead(mh)
  if (mh.arena != null && overhead > DOCTOR_MIN_BYTES && overhead > mh.arena.allocated * DOCTOR_ARENA_OVERHEAD_RATIO) {
    found.push('arena-overhead')
  }
  if (mh.rssExtra > DOCTOR_RSS_OVERHEAD_RATIO && mh.rssExtraBytes > DOCTOR_MIN_BYTES) found.push('rss-overhead')
  return found
}

const ratio = (x: number): string => formatFixed(x, 2)

/** MEMORY DOCTOR: a plain-language reading of the figures, one paragraph per finding. */
export function buildMemoryDoctor(mh: MemoryOverhead, runtime: RuntimeMemory): string {
  const used = bytesToHuman(mh.totalAllocated)
  if (mh.totalAllocated < DOCTOR_EMPTY_BYTES) {
    return `This engine uses only ${used}, too little for its memory figures to mean anything: fixed costs ` +
      'dominate every ratio at this size. Ask again once it holds a few MiB of data.\n'
  }
  const found = doctorFindings(mh)
  if (found.length === 0) {
    return `Nothing to report: with ${used} in use, the peak, the fragmentation inside the allocator, the free ` +
      'pages it keeps resident and the memory outside it are all within normal bounds.\n'
  }
  const lines: string[] = [
    `${found.length === 1 ? 'One thing stands out' : `${found.length} things stand out`} in this engine's memory ` +
      `(${used} in use):`,
    '',
  ]
  for (const f of found) {
    switch (f) {
      case 'peak':
        lines.push(
          `* Usage once reached ${bytesToHuman(mh.peakAllocated)}, ${ratio(mh.peakAllocated / mh.totalAllocated)} ` +
            'times today\'s. Pages freed since then may still be held by the allocator and counted in the RSS, so ' +
            'the RSS-based ratios look worse than the current data warrants. memoryPurge() hands free pages back.',
        )
        break
      case 'fragmentation':
        lines.push(
          `* The engine's resident memory (used_memory_rss) is ${ratio(mh.totalFrag)} times the memory it uses ` +
            `(${bytesToHuman(Math.max(0, mh.totalFragBytes))} more; mem_fragmentation_ratio). That gap is ` +
            'fragmentation inside the allocator plus free pages it still holds; the other findings say which ' +
            'one dominates.',
        )
        break
      case 'allocator-fragmentation':
        lines.push(
          `* The allocator's small-object slabs are fragmented: ${bytesToHuman(mh.allocatorFragBytes)} of free ` +
            `slots sit in partly used slabs (allocator_frag_ratio ${ratio(mh.allocatorFrag)}). This follows mass ` +
            'deletes or evictions: the survivors keep every slab alive. configSet(\'activedefrag\', \'yes\') ' +
            'moves them into fuller slabs (jemalloc builds); elsewhere, rewriting the keys has the same effect.',
        )
        break
      case 'allocator-rss':
        lines.push(
          `* The allocator keeps ${bytesToHuman(mh.allocatorRssBytes)} of free pages resident beyond what it uses ` +
            `(allocator_rss_ratio ${ratio(mh.allocatorRss)}). They are reused by later writes; memoryPurge() ` +
            'returns them to the OS at once, and jemalloc also returns them by itself after its decay time.',
        )
        break
      case 'arena-overhead': {
        const a = mh.arena!
        const rounding = Math.max(0, a.active - a.allocated - a.fragSmallbinsBytes)
        lines.push(
          `* The engine's arena keeps ${bytesToHuman(arenaOverhead(mh))} resident beyond the ` +
            `${bytesToHuman(a.allocated)} allocated in it: ${bytesToHuman(a.fragSmallbinsBytes)} of free slots in ` +
            `partly used small slabs, ${bytesToHuman(rounding)} of page rounding (slab tails), ` +
            `${bytesToHuman(a.dirty + a.muzzy)} of freed pages not yet returned and ${bytesToHuman(a.metadata)} of ` +
            'the allocator\'s own metadata (MEMORY STATS engine.arena). maxmemory counts allocations only; ' +
            "the option maxmemoryAccounting: 'resident' makes eviction count this memory too.",
        )
        break
      }
      case 'rss-overhead':
        lines.push(
          `* ${bytesToHuman(mh.rssExtraBytes)} of the process RSS lies outside the allocator ` +
            `(rss_overhead_ratio ${ratio(mh.rssExtra)}). In an embedded engine this is mostly the Node.js ` +
            `runtime: V8's heap (${bytesToHuman(runtime.heapTotal)}), its external buffers ` +
            `(${bytesToHuman(runtime.external)}, the keyspace's typed arrays among them), code and thread stacks. ` +
            'The engine cannot release it; leave room for it when sizing maxmemory against a memory limit.',
        )
        break
    }
    lines.push('')
  }
  return lines.join('\n')
}

/** MEMORY DOCTOR for an engine: a diagnosis deserves current figures, not a sample up to 100 ms old. */
export function memoryDoctor(reporter: Reporter): string {
  reporter.memorySample(true)
  const mem = process.memoryUsage()
  return buildMemoryDoctor(reporter.overhead(), { heapTotal: mem.heapTotal, external: mem.external })
}
