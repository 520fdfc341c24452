// INFO (server, memory, stats, keyspace), MEMORY STATS, MEMORY USAGE and MEMORY PURGE: Redis's names, Redis's
// formulas, and figures that agree with each other and with the store byte for byte.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { Engine, engineInternals } from '../lib/engine.js'
import { formatFixed } from '../lib/format.js'
import { KEY_MODEL_BYTES, KEY_MODEL_VOLATILE_BYTES, keyModelBytes } from '../lib/object.js'
import { MEMORY_SAMPLE_PERIOD_MS, memAllocatorName } from '../lib/report.js'

const open: Engine[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})
function engine(...args: ConstructorParameters<typeof Engine>): Engine {
  const db = new Engine(...args)
  open.push(db)
  return db
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const num = (o: Record<string, string | number>, name: string): number => {
  const v = o[name]
  expect(typeof v, name).toBe('number')
  return v as number
}
/** INFO text → name → value text. */
function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.indexOf(':')
    out.set(line.slice(0, at), line.slice(at + 1))
  }
  return out
}

// Every field of Redis's INFO memory (genRedisInfoString) that has a meaning in an embedded engine, in Redis's order.
const MEMORY_FIELDS = [
  'used_memory',
  'used_memory_human',
  'used_memory_rss',
  'used_memory_rss_human',
  'process_rss',
  'process_rss_human',
  'used_memory_peak',
  'used_memory_peak_human',
  'used_memory_peak_perc',
  'used_memory_overhead',
  'used_memory_startup',
  'used_memory_dataset',
  'used_memory_dataset_perc',
  'allocator_allocated',
  'allocator_active',
  'allocator_resident',
  'allocator_muzzy',
  'total_system_memory',
  'total_system_memory_human',
  'maxmemory',
  'maxmemory_human',
  'maxmemory_policy',
  'maxmemory_accounting',
  'allocator_frag_ratio',
  'allocator_frag_bytes',
  'allocator_rss_ratio',
  'allocator_rss_bytes',
  'rss_overhead_ratio',
  'rss_overhead_bytes',
  'mem_fragmentation_ratio',
  'mem_fragmentation_bytes',
  'mem_not_counted_for_evict',
  'mem_allocator',
  'active_defrag_running',
  'lazyfree_pending_objects',
  'lazyfreed_objects',
]

function fill(db: Engine, n: number, size: (i: number) => number, ttlEvery = 0): void {
  for (let i = 0; i < n; i++) {
    db.set(`key:${i}`, 'v'.repeat(size(i)), ttlEvery > 0 && i % ttlEvery === 0 ? { ex: 1000 } : undefined)
  }
}

describe('INFO memory', () => {
  it('has every field, in Redis order and Redis text format', () => {
    const db = engine({ maxmemory: '64mb', maxmemoryPolicy: 'allkeys-lru' })
    fill(db, 5000, (i) => i % 200, 3)
    const text = db.info('memory')
    expect(text.startsWith('# Memory\r\n')).toBe(true)
    expect(text.endsWith('\r\n')).toBe(true)
    const fields = parseInfo(text)
    expect([...fields.keys()]).toEqual(MEMORY_FIELDS)
    expect(fields.get('maxmemory')).toBe(String(64 * 1024 * 1024))
    expect(fields.get('maxmemory_human')).toBe('64.00M')
    expect(fields.get('maxmemory_policy')).toBe('allkeys-lru')
    expect(fields.get('mem_allocator')).toBe(memAllocatorName(allocator.name, allocator.version))
    expect(fields.get('mem_allocator')).toBe('jemalloc-5.3.0')
    expect(fields.get('used_memory_peak_perc')).toMatch(/^\d+\.\d\d%$/)
    expect(fields.get('used_memory_dataset_perc')).toMatch(/^\d+\.\d\d%$/)
    for (const name of ['allocator_frag_ratio', 'allocator_rss_ratio', 'rss_overhead_ratio', 'mem_fragmentation_ratio']) {
      expect(fields.get(name), name).toMatch(/^\d+\.\d\d$/)
    }
    expect(fields.get('active_defrag_running')).toBe('0')
    expect(fields.get('lazyfree_pending_objects')).toBe('0')
  })

  it('is consistent: used = dataset + overhead, peak ≥ used, fragmentation = rss / used', () => {
    const db = engine()
    fill(db, 20_000, (i) => 10 + (i % 300), 4)
    const m = db.infoObject('memory')
    const used = num(m, 'used_memory')
    expect(used).toBe(db.usedMemory())
    expect(num(m, 'used_memory_dataset') + num(m, 'used_memory_overhead')).toBe(used)
    expect(num(m, 'used_memory_peak')).toBeGreaterThanOrEqual(used)
    expect(num(m, 'used_memory_peak_perc')).toBeCloseTo((used * 100) / num(m, 'used_memory_peak'), 10)
    const rss = num(m, 'used_memory_rss')
    expect(rss).toBeGreaterThan(0)
    expect(num(m, 'mem_fragmentation_ratio')).toBe(rss / used)
    expect(num(m, 'mem_fragmentation_bytes')).toBe(rss - used)
    // The text rounds the same figure to two decimals, as %.2f.
    const text = parseInfo(db.info('memory'))
    const rssText = Number(text.get('used_memory_rss'))
    const usedText = Number(text.get('used_memory'))
    expect(Math.abs(Number(text.get('mem_fragmentation_ratio')) - rssText / usedText)).toBeLessThanOrEqual(0.005)
    // Allocator figures (process-wide, as Redis) and the ratios Redis derives from them.
    const allocated = num(m, 'allocator_allocated')
    const active = num(m, 'allocator_active')
    const resident = num(m, 'allocator_resident')
    expect(active).toBeGreaterThanOrEqual(allocated)
    expect(resident).toBeGreaterThanOrEqual(active)
    expect(num(m, 'allocator_frag_ratio')).toBe(num(m, 'allocator_frag_bytes') / allocated + 1)
    expect(num(m, 'allocator_rss_ratio')).toBe(resident / active)
    expect(num(m, 'allocator_rss_bytes')).toBe(resident - active)
    // used_memory_rss is the engine's own share (its arena's resident pages + its tables); the process RSS,
    // mostly V8 in a Node process, is what rss_overhead compares with the allocator.
    const processRss = num(m, 'process_rss')
    expect(rss).toBeLessThan(processRss)
    expect(rss).toBeGreaterThanOrEqual(used * 0.9)
    expect(num(m, 'rss_overhead_ratio')).toBe(processRss / resident)
    expect(num(m, 'rss_overhead_bytes')).toBe(processRss - resident)
    expect(m.used_memory_human).toBe(text.get('used_memory_human'))
    expect(num(m, 'used_memory_startup')).toBeGreaterThan(0)
    expect(num(m, 'used_memory_startup')).toBeLessThanOrEqual(num(m, 'used_memory_overhead'))
  })

  it('counts as dataset exactly the usable bytes of the slots (key + value), the rest as overhead', () => {
    const db = engine()
    fill(db, 10_000, (i) => i % 500, 2)
    let slots = 0
    for (let i = 0; i < 10_000; i++) slots += engineInternals(db).slotStore.usableSize(engineInternals(db).peekHandle(`key:${i}`) as number)
    const m = db.infoObject('memory')
    expect(num(m, 'used_memory_dataset')).toBe(slots)
    expect(num(m, 'used_memory_overhead')).toBe(db.usedMemory() - slots)
  })

  it('samples the allocator and RSS at most every 100 ms, as Redis’s cron does', async () => {
    const db = engine()
    // The sample's clock is held still while the keys go in, so a slow machine cannot age the sample meanwhile.
    let t = performance.now()
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => t)
    try {
      const first = db.infoObject('memory')
      fill(db, 20_000, () => 200)
      t += MEMORY_SAMPLE_PERIOD_MS - 1
      const soon = db.infoObject('memory')
      // used_memory is live; the sampled figures wait for the next sample.
      expect(num(soon, 'used_memory')).toBeGreaterThan(num(first, 'used_memory'))
      expect(soon.allocator_allocated).toBe(first.allocator_allocated)
      expect(soon.used_memory_rss).toBe(first.used_memory_rss)
      t += 2
      const later = db.infoObject('memory')
      expect(num(later, 'allocator_allocated')).toBeGreaterThan(num(first, 'allocator_allocated'))
    } finally {
      clock.mockRestore()
    }
  })

  it('records the peak of a burst of writes and deletes within one turn, as Redis does after every command', () => {
    const db = engine()
    for (let i = 0; i < 200_000; i++) db.set(`key:${i}`, 'x'.repeat(100))
    const high = db.usedMemory()
    for (let i = 0; i < 180_000; i++) db.del(`key:${i}`)
    const m = db.infoObject('memory')
    expect(num(m, 'used_memory_peak')).toBeGreaterThanOrEqual(high)
    expect(db.memoryStats()['peak.allocated']).toBe(num(m, 'used_memory_peak'))
    // Designed for the doctor's peak finding: over 5 MiB still in use, a peak over 1.5 times that.
    expect(num(m, 'used_memory')).toBeGreaterThan(5 * 1024 * 1024)
    expect(high / num(m, 'used_memory')).toBeGreaterThan(1.5)
    expect(db.memoryDoctor()).toMatch(/Usage once reached/)
    // flushall replaces the store: the peak it recorded is carried over, with no tick in between.
    for (let i = 0; i < 400_000; i++) db.set(`key:${i}`, 'x'.repeat(100))
    const higher = db.usedMemory()
    for (let i = 0; i < 400_000; i++) db.del(`key:${i}`)
    db.flushall()
    expect(num(db.infoObject('memory'), 'used_memory_peak')).toBeGreaterThanOrEqual(higher)
  })

  it('keeps the peak across deletes and a flushall', async () => {
    const db = engine({ hz: 100 })
    fill(db, 20_000, () => 300)
    const full = db.usedMemory()
    await sleep(50) // the cron tick records the peak
    for (let i = 0; i < 20_000; i++) db.del(`key:${i}`)
    const m = db.infoObject('memory')
    expect(num(m, 'used_memory_peak')).toBeGreaterThanOrEqual(full)
    expect(num(m, 'used_memory_peak_perc')).toBeLessThan(50)
    fill(db, 30_000, () => 300)
    const bigger = db.usedMemory()
    db.flushall() // records the peak before freeing, with no tick in between
    expect(num(db.infoObject('memory'), 'used_memory_peak')).toBeGreaterThanOrEqual(bigger)
  })
})

describe('INFO stats, keyspace, server and sections', () => {
  it('counts hits, misses, expirations and evictions under Redis names', () => {
    let now = 1_700_000_000_000
    const db = engine({ maxmemory: '2mb', maxmemoryPolicy: 'allkeys-random' }, { now: () => now })
    db.set('a', '1')
    db.get('a')
    db.get('a')
    db.get('missing')
    db.set('short', 'x', { px: 10 })
    now += 20
    expect(db.get('short')).toBeUndefined()
    for (let i = 0; i < 20_000; i++) db.set(`fill:${i}`, 'x'.repeat(200))
    const s = db.infoObject('stats')
    expect(s.keyspace_hits).toBe(2)
    expect(s.keyspace_misses).toBe(2)
    expect(s.expired_keys).toBe(1)
    expect(num(s, 'evicted_keys')).toBeGreaterThan(0)
    for (const name of [
      'expired_stale_perc',
      'expired_time_cap_reached_count',
      'active_defrag_hits',
      'active_defrag_misses',
      'active_defrag_key_hits',
      'active_defrag_key_misses',
      'total_active_defrag_time',
      'current_active_defrag_time',
    ]) {
      expect(typeof s[name], name).toBe('number')
    }
    expect(parseInfo(db.info('stats')).get('expired_stale_perc')).toMatch(/^\d+\.\d\d$/)
  })

  it('prints db0 with keys, expires and avg_ttl, and nothing for an empty keyspace', async () => {
    const db = engine({ hz: 100 })
    expect(db.info('keyspace')).toBe('# Keyspace\r\n')
    for (let i = 0; i < 100; i++) db.set(`k${i}`, 'v', i < 40 ? { ex: 100 } : undefined)
    await sleep(60) // the active expire cycle samples the TTLs for avg_ttl
    const line = parseInfo(db.info('keyspace')).get('db0') as string
    const m = /^keys=100,expires=40,avg_ttl=(\d+)$/.exec(line)
    expect(m, line).not.toBeNull()
    const avg = Number(m?.[1])
    expect(avg).toBeGreaterThan(90_000)
    expect(avg).toBeLessThanOrEqual(100_000)
  })

  it('describes the server: version, process, uptime, hz', () => {
    const db = engine({ hz: 25 })
    const s = db.infoObject('server')
    expect(s.arenakv_version).toMatch(/^\d+\.\d+\.\d+/)
    expect(s.process_id).toBe(process.pid)
    expect(s.hz).toBe(25)
    expect(s.configured_hz).toBe(25)
    expect(s.arch_bits).toBe(64)
    expect(s.node_version).toBe(process.versions.node)
    expect(s.executable).toBe(process.execPath)
    expect(num(s, 'uptime_in_seconds')).toBeGreaterThanOrEqual(0)
    expect(String(s.run_id)).toMatch(/^[0-9a-f]{40}$/)
  })

  it('renders all sections by default, any case, and nothing for an unknown section', () => {
    const db = engine()
    db.set('k', 'v')
    const all = db.info()
    expect(all.match(/^# \w+\r\n/gm)).toEqual(['# Server\r\n', '# Memory\r\n', '# Stats\r\n', '# Keyspace\r\n'])
    // Redis separates sections with an empty line.
    expect(all).toContain('\r\n\r\n# Memory\r\n')
    for (const name of ['all', 'default', 'everything', 'ALL']) {
      expect(db.info(name).match(/^# \w+/gm)).toEqual(['# Server', '# Memory', '# Stats', '# Keyspace'])
    }
    expect(db.info('MEMORY').startsWith('# Memory\r\n')).toBe(true)
    expect(db.info('replication')).toBe('')
    expect(db.infoObject('nope')).toEqual({})
    const o = db.infoObject()
    expect(o.db0).toBe('keys=1,expires=0,avg_ttl=0')
    expect(typeof o.used_memory).toBe('number')
    expect(() => db.info(3 as unknown as string)).toThrow(TypeError)
    db.close()
    expect(() => db.info()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })
})

describe('MEMORY STATS', () => {
  it("has Redis's keys with consistent figures", () => {
    const db = engine()
    expect(db.memoryStats()['db.0']).toBeUndefined()
    fill(db, 10_000, (i) => 20 + (i % 100), 5)
    const st = db.memoryStats()
    const n = (k: string) => st[k] as number
    for (const key of [
      'peak.allocated',
      'total.allocated',
      'startup.allocated',
      'db.0',
      'overhead.total',
      'keys.count',
      'keys.bytes-per-key',
      'dataset.bytes',
      'dataset.percentage',
      'peak.percentage',
      'allocator.allocated',
      'allocator.active',
      'allocator.resident',
      'allocator.muzzy',
      'allocator-fragmentation.ratio',
      'allocator-fragmentation.bytes',
      'allocator.rss-ratio',
      'allocator.rss-bytes',
      'rss-overhead.ratio',
      'rss-overhead.bytes',
      'fragmentation',
      'fragmentation.bytes',
    ]) {
      expect(st, key).toHaveProperty([key])
    }
    const used = db.usedMemory()
    expect(n('total.allocated')).toBe(used)
    expect(n('keys.count')).toBe(10_000)
    expect(n('dataset.bytes') + n('overhead.total')).toBe(used)
    expect(n('keys.bytes-per-key')).toBe(Math.floor((used - n('startup.allocated')) / 10_000))
    expect(n('dataset.percentage')).toBeCloseTo((n('dataset.bytes') * 100) / (used - n('startup.allocated')), 10)
    const db0 = st['db.0'] as Record<string, number>
    // The volatile list: handle + hash + expire time per entry of its capacity.
    expect(db0['overhead.hashtable.expires']).toBeGreaterThanOrEqual(2000 * 16)
    expect(db0['overhead.hashtable.main']).toBeGreaterThan(10_000 * 16)
    expect(n('overhead.total')).toBeGreaterThan(db0['overhead.hashtable.main'] + db0['overhead.hashtable.expires'])
    expect(n('fragmentation')).toBeCloseTo(n('fragmentation.bytes') / used + 1, 12)
    const m = db.infoObject('memory')
    expect(n('fragmentation')).toBe(m.mem_fragmentation_ratio)
    expect(n('allocator-fragmentation.ratio')).toBe(m.allocator_frag_ratio)
  })
})

describe('MEMORY USAGE', () => {
  it('reaches the store and key handles through engineInternals only: an Engine instance reveals neither', () => {
    const db = engine()
    db.set('k', 'v')
    const seen = new Set<string | symbol>()
    for (let o: object | null = db; o !== null; o = Object.getPrototypeOf(o)) {
      for (const name of Reflect.ownKeys(o)) seen.add(name)
    }
    for (const name of ['slotStore', 'peekHandle']) {
      expect(Object.keys(db)).not.toContain(name)
      expect(name in db).toBe(false)
      expect(seen.has(name)).toBe(false)
    }
    const internals = engineInternals(db)
    expect(internals.slotStore.readString(internals.peekHandle('k') as number)).toBe('v')
    expect(internals.peekHandle('absent')).toBeUndefined()
  })

  it("is the slot's usable size plus the key model, growing with the value", () => {
    const db = engine()
    let last = 0
    for (const size of [0, 10, 100, 1000, 10_000, 100_000]) {
      db.set('k', 'x'.repeat(size))
      const usage = db.memoryUsage('k') as number
      const handle = engineInternals(db).peekHandle('k') as number
      expect(usage).toBe(engineInternals(db).slotStore.usableSize(handle) + KEY_MODEL_BYTES)
      expect(usage).toBeGreaterThan(last)
      expect(usage).toBeGreaterThanOrEqual(8 + 1 + size + KEY_MODEL_BYTES)
      last = usage
    }
    db.set('t', 'value', { ex: 100 })
    const handle = engineInternals(db).peekHandle('t') as number
    expect(db.memoryUsage('t')).toBe(engineInternals(db).slotStore.usableSize(handle) + keyModelBytes(true))
    expect(keyModelBytes(true) - keyModelBytes(false)).toBe(KEY_MODEL_VOLATILE_BYTES)
    expect(db.memoryUsage('t', { samples: 0 })).toBe(db.memoryUsage('t', { samples: 5 }))
  })

  it('is undefined for a missing or expired key and checks samples', () => {
    let now = 1_700_000_000_000
    const db = engine({}, { now: () => now })
    expect(db.memoryUsage('nope')).toBeUndefined()
    db.set('e', 'v', { px: 5 })
    now += 10
    expect(db.memoryUsage('e')).toBeUndefined()
    db.set('k', 'v')
    expect(() => db.memoryUsage('k', { samples: -1 })).toThrow(RangeError)
    expect(() => db.memoryUsage('k', { samples: 1.5 })).toThrow(RangeError)
    expect(() => db.memoryUsage('k', { samples: '5' as unknown as number })).toThrow(TypeError)
    expect(() => db.memoryUsage(1 as unknown as string)).toThrow(TypeError)
  })

  it('sums over every key to the dataset plus the per-key model', () => {
    const db = engine()
    fill(db, 3000, (i) => i % 700, 3)
    let total = 0
    for (let i = 0; i < 3000; i++) total += db.memoryUsage(`key:${i}`) as number
    const dataset = db.memoryStats()['dataset.bytes'] as number
    expect(total).toBe(dataset + 3000 * KEY_MODEL_BYTES + 1000 * KEY_MODEL_VOLATILE_BYTES)
  })
})

describe('MEMORY PURGE', () => {
  it('hands freed pages back to the OS as keys go: RSS drops after a mass delete, with nothing left to purge', () => {
    const db = engine()
    const n = 40_000
    for (let i = 0; i < n; i++) db.set(`big:${i}`, 'x'.repeat(3000))
    const full = allocator.rss() as number
    for (let i = 0; i < n; i++) db.del(`big:${i}`)
    const afterDelete = allocator.rss() as number
    // ~120 MB of 3 KiB regions were freed; the engine's arena purges freed pages at once (decay 0), not after
    // jemalloc's default 10 s.
    expect(full - afterDelete).toBeGreaterThan(60 * 1024 * 1024)
    expect(num(db.infoObject('memory'), 'used_memory_rss')).toBeLessThan(8 * 1024 * 1024)
    db.memoryPurge()
    const afterPurge = allocator.rss() as number
    expect(afterDelete - afterPurge).toBeLessThan(8 * 1024 * 1024)
    // The next INFO shows the purge at once (the sample is refreshed).
    const m = db.infoObject('memory')
    expect(Math.abs(num(m, 'process_rss') - afterPurge)).toBeLessThan(8 * 1024 * 1024)
    console.log(`delete: RSS ${(full / 2 ** 20).toFixed(1)} MiB → ${(afterDelete / 2 ** 20).toFixed(1)} MiB; purge → ${(afterPurge / 2 ** 20).toFixed(1)} MiB`)
  })
})

describe('formatting helpers', () => {
  it("names the allocator as Redis's mem_allocator does", () => {
    expect(memAllocatorName('jemalloc', '5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c')).toBe('jemalloc-5.3.0')
    expect(memAllocatorName('tcmalloc', '2.10')).toBe('tcmalloc-2.10')
    expect(memAllocatorName('libc', '2.36')).toBe('libc')
    expect(formatFixed(1.005)).toBe('1.00')
  })
})
