import os from 'node:os'
import type { AdaptiveInfo } from './adaptive.js'
import { allocator } from './allocator.js'
import type { EngineConfig } from './config.js'
import type { ActiveDefrag } from './defrag.js'
import { bytesToHuman, formatFixed, keyspaceInfoValue, renderInfo, renderInfoSection } from './format.js'
import { lruClock } from './lru.js'
import { packageVersion } from './package-root.js'
import { SLOT_TABLE_CHUNK_SLOTS, SLOT_TABLE_ENTRY_BYTES, type ArenaStats, type SlotStore } from './store.js'

// INFO (server, memory, stats, keyspace), MEMORY STATS and MEMORY USAGE with Redis's names and formulas
// (server.c genRedisInfoString, object.c getMemoryOverheadData / memoryCommand), and MEMORY DOCTOR with
// Redis's checks and thresholds (object.c getMemoryDoctorReport) in our own words.

/** Redis refreshes its allocator and RSS figures from serverCron; we sample at most this often. */
export const MEMORY_SAMPLE_PERIOD_MS = 100

/** The counters the engine keeps under Redis's INFO names. */
export interface ReportStats {
  readonly expired_keys: number
  readonly expired_stale_perc: number
  readonly expired_time_cap_reached_count: number
  readonly avg_ttl: number
  readonly evicted_keys: number
  readonly keyspace_hits: number
  readonly keyspace_misses: number
}

/** Bytes held outside the store's slots by role: the typed arrays, and the fixed buffers beside them. */
export interface ArrayBytes {
  /** The hash table (both tables while rehashing) and the per-slot metadata arrays. */
  main: number
  /** The volatile list (keys with a TTL). */
  expires: number
  /** Buffers whose size never changes (the eviction pool, the store's scratch block). */
  fixed: number
}

/** What the reporter reads from the engine; everything else it asks the allocator. */
export interface ReportHost {
  readonly cfg: Readonly<EngineConfig>
  readonly stats: ReportStats
  readonly defrag: ActiveDefrag
  usedMemory(): number
  keyCount(): number
  volatileCount(): number
  /** The native store's usedBytes(): slots' usable sizes plus its slot table. */
  storeBytes(): number
  /** Slot indices the store has issued (its slot table has ceil(n / SLOT_TABLE_CHUNK_SLOTS) chunks). */
  slotsIssued(): number
  arrayBytes(): ArrayBytes
  /** Stats of the engine's own arena (jemalloc), or null where the allocator has no per-engine arena. */
  arenaStats(): ArenaStats | null
  /** The resident bytes of the engine's heap (Store.heapResident), or null where the build cannot tell them. */
  heapResident(): number | null
  /**
   * The highest usedMemory() the store saw, checked natively on every write that grows memory (Redis records the
   * peak after every command, in call()), so bursts between two samples count.
   */
  storePeak(): number
  /** Unix ms (the engine's clock). */
  now(): number
  /** The adaptive policies' state, or null when another policy is selected. */
  adaptiveInfo?(): AdaptiveInfo | null
}

/** Redis's cron_malloc_stats: the figures refreshed at most every MEMORY_SAMPLE_PERIOD_MS. */
export interface MemorySample {
  /**
   * used_memory_rss. Redis's is its process's RSS, which in a Node process is mostly V8 and code, not the cache.
   * On jemalloc builds it is the engine's own share: its arena's resident pages plus its typed arrays, so
   * mem_fragmentation_ratio keeps Redis's meaning (what the dataset really occupies ÷ used_memory). On tcmalloc
   * and mimalloc builds, whose private heaps only the engines use, it is the engine's share (by used memory) of the
   * allocator's resident memory plus its typed arrays. On libc it falls back to the process RSS.
   */
  engineRss: number
  /** The engine's arena at the sample (jemalloc builds), for what its resident memory holds beyond allocations. */
  arena: ArenaStats | null
  processRss: number
  allocatorAllocated: number
  allocatorActive: number
  allocatorResident: number
  allocatorMuzzy: number
  allocatorFragSmallbins: number
}

/** Redis's struct redisMemOverhead, for our keyspace. */
export interface MemoryOverhead extends MemorySample {
  totalAllocated: number
  startupAllocated: number
  peakAllocated: number
  peakPerc: number
  dbMain: number
  dbExpires: number
  overheadTotal: number
  dataset: number
  datasetPerc: number
  keysCount: number
  bytesPerKey: number
  allocatorFrag: number
  allocatorFragBytes: number
  allocatorRss: number
  allocatorRssBytes: number
  rssExtra: number
  rssExtraBytes: number
  totalFrag: number
  totalFragBytes: number
}

// Usable bytes of one slot-table chunk: the allocator's size class for it, or glibc's (request + 8, rounded up to 16,
// less its 8-byte header) where the allocator cannot say ahead of time.
const SLOT_TABLE_CHUNK_REQUEST = SLOT_TABLE_ENTRY_BYTES * SLOT_TABLE_CHUNK_SLOTS
const SLOT_TABLE_CHUNK_USABLE = allocator.capabilities.goodSize
  ? allocator.goodSize(SLOT_TABLE_CHUNK_REQUEST)
  : SLOT_TABLE_CHUNK_REQUEST + 8

/** The resident bytes of the engine's heap (its arena, or its share of a private heap), or null on libc. */
export function engineHeapResident(store: SlotStore): number | null {
  if (!allocator.capabilities.heapResident || store.heapResident === undefined) return null
  return store.heapResident()
}

/** The engine's own arena's stats (jemalloc builds), or null where there is no per-engine arena. */
export function engineArenaStats(store: SlotStore): ArenaStats | null {
  if (!allocator.capabilities.arenas || store.arenaStats === undefined) return null
  return store.arenaStats()
}

/**
 * Where the engine arena's resident memory goes beyond what is allocated in it (MEMORY STATS `engine.arena`): free
 * regions in partly used small slabs, page rounding (slab tails: large size classes are whole pages), freed pages
 * not yet returned (dirty, muzzy), and the arena's own metadata. `retained` is not resident: free extents the arena
 * keeps mapped for reuse, where large values freed under churn go (ARCHITECTURE.md "Memory").
 */
export function arenaBreakdown(a: ArenaStats): Record<string, number> {
  return {
    allocated: a.allocated,
    'small.allocated': a.smallAllocated,
    'large.allocated': a.largeAllocated,
    'small.slab-free': a.fragSmallbinsBytes,
    'page-rounding': Math.max(0, a.active - a.allocated - a.fragSmallbinsBytes),
    dirty: a.dirty,
    muzzy: a.muzzy,
    metadata: a.metadata,
    retained: a.retained,
    resident: a.resident,
    'resident-overhead': Math.max(0, a.resident - a.allocated),
  }
}

/** Redis prints the allocator with its version ('jemalloc-5.3.0', 'tcmalloc-2.10') and glibc as plain 'libc'. */
export function memAllocatorName(name: string, version: string): string {
  if (name === 'libc') return 'libc'
  const release = /^\d+(?:\.\d+)*/.exec(version)
  return release === null ? name : `${name}-${release[0]}`
}

export const ARENAKV_VERSION = packageVersion

type Fields = Array<[string, string | number]>

const SECTION_ORDER = ['server', 'memory', 'stats', 'keyspace'] as const
type Section = (typeof SECTION_ORDER)[number]
const SECTION_TITLES: Readonly<Record<Section, string>> = {
  server: 'Server',
  memory: 'Memory',
  stats: 'Stats',
  keyspace: 'Keyspace',
}

/**
 * INFO's section arguments: any number of section names (Redis 7 takes several), 'default' / 'all' /
 * 'everything' for every section this engine has (Redis's default and all differ only in sections it lacks), in
 * Redis's order whatever the arguments' order, each once; names match in any case, unknown names add nothing.
 */
function sectionsFor(args: readonly unknown[]): readonly Section[] {
  // info(undefined) is info(): an optional argument left out.
  const sections = args.filter((s) => s !== undefined)
  if (sections.length === 0) return SECTION_ORDER
  const wanted = new Set<string>()
  for (const section of sections) {
    if (typeof section !== 'string') throw new TypeError(`INFO section must be a string, got ${typeof section}`)
    const name = section.toLowerCase()
    if (name === 'default' || name === 'all' || name === 'everything') return SECTION_ORDER
    wanted.add(name)
  }
  return SECTION_ORDER.filter((s) => wanted.has(s))
}

const runId = (): string => {
  let id = ''
  for (let i = 0; i < 40; i++) id += Math.floor(Math.random() * 16).toString(16)
  return id
}

/** One engine's reporting: the periodic memory sample, the peak, and every report built from them. */
export class Reporter {
  private sample: MemorySample | null = null
  private sampledAt = -Infinity
  private peak = 0
  readonly startupAllocated: number
  private readonly startedAt = Date.now()
  private readonly runId = runId()

  constructor(private readonly host: ReportHost) {
    this.startupAllocated = host.usedMemory()
    this.peak = this.startupAllocated
  }

  /** From the engine's hz timer, as serverCron: keep the peak. */
  cron(): void {
    this.updatePeak(this.host.usedMemory())
  }

  /** Records `used` as the peak when it is higher (also called just before memory is freed in bulk). */
  updatePeak(used: number): void {
    if (used > this.peak) this.peak = used
  }

  /** The allocator and RSS sample, refreshed when older than MEMORY_SAMPLE_PERIOD_MS (or when `fresh`). */
  memorySample(fresh = false): MemorySample {
    const t = performance.now()
    if (!fresh && this.sample !== null && t - this.sampledAt < MEMORY_SAMPLE_PERIOD_MS) return this.sample
    const info = allocator.info()
    const processRss = allocator.rss() ?? 0
    // Redis's cronUpdateMemoryStats fills in what the allocator cannot say: resident from the RSS, active from
    // resident, allocated from used_memory, so every ratio stays defined.
    let resident = info.resident ?? 0
    if (resident === 0) resident = processRss
    let active = info.active ?? 0
    if (active === 0) active = resident
    let allocated = info.allocated ?? 0
    if (allocated === 0) allocated = this.host.usedMemory()
    const arena = this.host.arenaStats()
    // jemalloc: the arena's stats just read (after a thread-cache flush); elsewhere the heap's resident share.
    const heap = arena !== null ? arena.resident : this.host.heapResident()
    const arrays = this.host.arrayBytes()
    this.sample = {
      engineRss: heap === null ? processRss : heap + arrays.main + arrays.expires + arrays.fixed,
      arena,
      processRss,
      allocatorAllocated: allocated,
      allocatorActive: active,
      allocatorResident: resident,
      allocatorMuzzy: info.muzzy ?? 0,
      allocatorFragSmallbins: info.fragSmallbinsBytes ?? 0,
    }
    this.sampledAt = t
    return this.sample
  }

  /** Forget the sample (after a purge, whose effect the next report must show). */
  invalidateSample(): void {
    this.sample = null
  }

  /** Redis's getMemoryOverheadData. */
  overhead(): MemoryOverhead {
    const host = this.host
    const used = host.usedMemory()
    this.updatePeak(Math.max(used, host.storePeak()))
    const s = this.memorySample()
    const arrays = host.arrayBytes()
    const slotTable = Math.ceil(host.slotsIssued() / SLOT_TABLE_CHUNK_SLOTS) * SLOT_TABLE_CHUNK_USABLE
    const dbMain = arrays.main + slotTable
    const dbExpires = arrays.expires
    // Everything that is not a slot (key + value) is overhead. The startup figure (the empty engine) is made of
    // the fixed arrays and the smallest keyspace arrays, so it is part of this sum, not added to it.
    const overheadTotal = arrays.fixed + dbMain + dbExpires
    const dataset = Math.max(0, used - overheadTotal)
    const keysCount = host.keyCount()
    const netUsage = used > this.startupAllocated ? used - this.startupAllocated : 1
    const peakAllocated = this.peak
    return {
      ...s,
      totalAllocated: used,
      startupAllocated: this.startupAllocated,
      peakAllocated,
      peakPerc: (used * 100) / peakAllocated,
      dbMain,
      dbExpires,
      overheadTotal,
      dataset,
      datasetPerc: (dataset * 100) / netUsage,
      keysCount,
      bytesPerKey: keysCount > 0 ? Math.floor(netUsage / keysCount) : 0,
      // Small-bin fragmentation over allocated, + 1 (Redis 7.4's allocator_frag).
      allocatorFrag: s.allocatorFragSmallbins / s.allocatorAllocated + 1,
      allocatorFragBytes: s.allocatorFragSmallbins,
      allocatorRss: s.allocatorResident / s.allocatorActive,
      allocatorRssBytes: s.allocatorResident - s.allocatorActive,
      rssExtra: s.processRss / s.allocatorResident,
      rssExtraBytes: s.processRss - s.allocatorResident,
      // mem_fragmentation_ratio: used_memory_rss over used_memory (Redis keeps the name for compatibility).
      totalFrag: s.engineRss / used,
      totalFragBytes: s.engineRss - used,
    }
  }

  // ---- INFO ----

  info(...sections: string[]): string {
    return renderInfo(sectionsFor(sections).map((s) => renderInfoSection(SECTION_TITLES[s], this.fields(s))))
  }

  infoObject(...sections: string[]): Record<string, string | number> {
    const out: Record<string, string | number> = {}
    for (const s of sectionsFor(sections)) for (const [name, value] of this.fields(s)) out[name] = value
    return out
  }

  private fields(section: Section): Fields {
    switch (section) {
      case 'server':
        return this.serverFields()
      case 'memory':
        return this.memoryFields()
      case 'stats':
        return this.statsFields()
      case 'keyspace':
        return this.keyspaceFields()
    }
  }

  private serverFields(): Fields {
    const now = Date.now()
    const uptime = Math.floor((now - this.startedAt) / 1000)
    return [
      ['arenakv_version', ARENAKV_VERSION],
      ['redis_mode', 'embedded'],
      ['os', `${os.type()} ${os.release()} ${os.machine()}`],
      ['arch_bits', process.arch.endsWith('64') ? 64 : 32],
      ['node_version', process.versions.node],
      ['process_id', process.pid],
      ['run_id', this.runId],
      ['server_time_usec', now * 1000],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86400)],
      // hz is never adjusted dynamically here, so the running and configured rates agree.
      ['hz', this.host.cfg.hz],
      ['configured_hz', this.host.cfg.hz],
      ['lru_clock', lruClock(this.host.now())],
      ['executable', process.execPath],
    ]
  }

  private memoryFields(): Fields {
    const mh = this.overhead()
    const cfg = this.host.cfg
    const total = os.totalmem()
    return [
      ['used_memory', mh.totalAllocated],
      ['used_memory_human', bytesToHuman(mh.totalAllocated)],
      ['used_memory_rss', mh.engineRss],
      ['used_memory_rss_human', bytesToHuman(mh.engineRss)],
      ['process_rss', mh.processRss],
      ['process_rss_human', bytesToHuman(mh.processRss)],
      ['used_memory_peak', mh.peakAllocated],
      ['used_memory_peak_human', bytesToHuman(mh.peakAllocated)],
      ['used_memory_peak_perc', mh.peakPerc],
      ['used_memory_overhead', mh.overheadTotal],
      ['used_memory_startup', mh.startupAllocated],
      ['used_memory_dataset', mh.dataset],
      ['used_memory_dataset_perc', mh.datasetPerc],
      ['allocator_allocated', mh.allocatorAllocated],
      ['allocator_active', mh.allocatorActive],
      ['allocator_resident', mh.allocatorResident],
      ['allocator_muzzy', mh.allocatorMuzzy],
      ['total_system_memory', total],
      ['total_system_memory_human', bytesToHuman(total)],
      ['maxmemory', cfg.maxmemory],
      ['maxmemory_human', bytesToHuman(cfg.maxmemory)],
      ['maxmemory_policy', cfg.maxmemoryPolicy],
      ['maxmemory_accounting', cfg.maxmemoryAccounting],
      ...this.adaptiveFields(),
      ['allocator_frag_ratio', mh.allocatorFrag],
      ['allocator_frag_bytes', mh.allocatorFragBytes],
      ['allocator_rss_ratio', mh.allocatorRss],
      ['allocator_rss_bytes', mh.allocatorRssBytes],
      ['rss_overhead_ratio', mh.rssExtra],
      ['rss_overhead_bytes', mh.rssExtraBytes],
      ['mem_fragmentation_ratio', mh.totalFrag],
      ['mem_fragmentation_bytes', mh.totalFragBytes],
      // maxmemory bounds every byte the engine holds: nothing is left out of the eviction check.
      ['mem_not_counted_for_evict', 0],
      ['mem_allocator', memAllocatorName(allocator.name, allocator.version)],
      ['active_defrag_running', this.host.defrag.running],
      // UNLINK frees at once (one native call per key), so nothing is ever pending.
      ['lazyfree_pending_objects', 0],
      ['lazyfreed_objects', 0],
    ]
  }

  /** allkeys-adaptive / volatile-adaptive: the window, the sketch (its bytes are part of used_memory), admissions. */
  private adaptiveFields(): Fields {
    const a = this.host.adaptiveInfo?.() ?? null
    if (a === null) return []
    return [
      ['adaptive_window_share_perc', formatFixed(a.windowShare * 100)],
      ['adaptive_window_target_keys', a.windowTarget],
      ['adaptive_window_queued', a.windowQueued],
      ['adaptive_window_bytes', a.windowBytes],
      ['adaptive_sketch_keys', a.sketchKeys],
      ['adaptive_sketch_bytes', a.sketchBytes],
      ['adaptive_ghost_bytes', a.ghostBytes],
      ['adaptive_sketch_resets', a.sketchResets],
      ['adaptive_admitted', a.admitted],
      ['adaptive_admissions_refused', a.refused],
      ['adaptive_window_adjustments', a.adjustments],
    ]
  }

  private statsFields(): Fields {
    const st = this.host.stats
    const d = this.host.defrag
    const current = d.currentTimeUs()
    return [
      ['expired_keys', st.expired_keys],
      ['expired_stale_perc', st.expired_stale_perc],
      ['expired_time_cap_reached_count', st.expired_time_cap_reached_count],
      ['evicted_keys', st.evicted_keys],
      ['keyspace_hits', st.keyspace_hits],
      ['keyspace_misses', st.keyspace_misses],
      ['active_defrag_hits', d.stats.active_defrag_hits],
      ['active_defrag_misses', d.stats.active_defrag_misses],
      ['active_defrag_key_hits', d.stats.active_defrag_key_hits],
      ['active_defrag_key_misses', d.stats.active_defrag_key_misses],
      ['total_active_defrag_time', Math.floor((d.stats.totalTimeUs + current) / 1000)],
      ['current_active_defrag_time', Math.floor(current / 1000)],
    ]
  }

  private keyspaceFields(): Fields {
    const keys = this.host.keyCount()
    const expires = this.host.volatileCount()
    // Redis lists a database only when it holds keys.
    if (keys === 0 && expires === 0) return []
    return [['db0', keyspaceInfoValue(keys, expires, this.host.stats.avg_ttl)]]
  }

  // ---- MEMORY ----

  /** MEMORY STATS: Redis's keys in Redis's order, for the parts of a server an embedded engine has. */
  memoryStats(): Record<string, number | Record<string, number>> {
    const mh = this.overhead()
    const out: Record<string, number | Record<string, number>> = {
      'peak.allocated': mh.peakAllocated,
      'total.allocated': mh.totalAllocated,
      'startup.allocated': mh.startupAllocated,
    }
    if (mh.keysCount > 0) {
      out['db.0'] = { 'overhead.hashtable.main': mh.dbMain, 'overhead.hashtable.expires': mh.dbExpires }
    }
    Object.assign(out, {
      'overhead.total': mh.overheadTotal,
      'keys.count': mh.keysCount,
      'keys.bytes-per-key': mh.bytesPerKey,
      'dataset.bytes': mh.dataset,
      'dataset.percentage': mh.datasetPerc,
      'peak.percentage': mh.peakPerc,
      'allocator.allocated': mh.allocatorAllocated,
      'allocator.active': mh.allocatorActive,
      'allocator.resident': mh.allocatorResident,
      'allocator.muzzy': mh.allocatorMuzzy,
      'allocator-fragmentation.ratio': mh.allocatorFrag,
      'allocator-fragmentation.bytes': mh.allocatorFragBytes,
      'allocator.rss-ratio': mh.allocatorRss,
      'allocator.rss-bytes': mh.allocatorRssBytes,
      'rss-overhead.ratio': mh.rssExtra,
      'rss-overhead.bytes': mh.rssExtraBytes,
      fragmentation: mh.totalFrag,
      'fragmentation.bytes': mh.totalFragBytes,
    })
    if (mh.arena !== null) out['engine.arena'] = arenaBreakdown(mh.arena)
    return out
  }

  /** MEMORY PURGE: hand every arena's free pages back to the OS (jemalloc: arena.<MALLCTL_ARENAS_ALL>.purge). */
  memoryPurge(): void {
    allocator.purge()
    this.invalidateSample()
  }
}
