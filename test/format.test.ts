import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  bytesToHuman,
  formatFixed,
  formatInfoValue,
  keyspaceInfoValue,
  renderInfo,
  renderInfoSection,
} from '../lib/format.js'

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T
}

// glibc printf("%.*f") for d = 0..3 over hand-picked ties and random doubles.
const printf = fixture<{ cases: Array<[number | '-0', string, string, string, string]> }>('printf-glibc.json')
// redis-server 7.0.15: CONFIG SET maxmemory <n>, then maxmemory_human from INFO memory.
const human = fixture<{ cases: Array<[string, string]> }>('bytes-to-human-redis-7.0.15.json')

// INFO memory and INFO stats as redis-server 7.0.15 printed them.
const REDIS_INFO_MEMORY =
  '# Memory\r\nused_memory:1013464\r\nused_memory_human:989.71K\r\nused_memory_rss:7286784\r\nused_memory_rss_human:6.95M\r\n' +
  'used_memory_peak:1013528\r\nused_memory_peak_human:989.77K\r\nused_memory_peak_perc:99.99%\r\nused_memory_overhead:876440\r\n' +
  'used_memory_startup:876240\r\nused_memory_dataset:137024\r\nused_memory_dataset_perc:99.85%\r\nallocator_allocated:1740704\r\n' +
  'allocator_active:1953792\r\nallocator_resident:4624384\r\ntotal_system_memory:25276510208\r\ntotal_system_memory_human:23.54G\r\n' +
  'maxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\nallocator_frag_ratio:1.12\r\nallocator_frag_bytes:213088\r\n' +
  'allocator_rss_ratio:2.37\r\nallocator_rss_bytes:2670592\r\nrss_overhead_ratio:1.58\r\nrss_overhead_bytes:2662400\r\n' +
  'mem_fragmentation_ratio:7.67\r\nmem_fragmentation_bytes:6336312\r\nmem_not_counted_for_evict:0\r\nmem_allocator:jemalloc-5.3.0\r\n' +
  'active_defrag_running:0\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n'
const REDIS_INFO_STATS =
  '# Stats\r\nexpired_keys:0\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nevicted_keys:0\r\n' +
  'keyspace_hits:0\r\nkeyspace_misses:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\n' +
  'active_defrag_key_misses:0\r\ninstantaneous_input_kbps:0.00\r\n'

describe('formatFixed', () => {
  it(`prints as glibc printf("%.Nf") on ${printf.cases.length} doubles × 4 precisions`, () => {
    const mismatches: string[] = []
    for (const [raw, ...want] of printf.cases) {
      const x = raw === '-0' ? -0 : raw
      want.forEach((expected, digits) => {
        const got = formatFixed(x, digits)
        if (got !== expected) mismatches.push(`${raw} %.${digits}f: got ${got}, want ${expected}`)
      })
    }
    expect(mismatches).toEqual([])
  })

  it('rounds exact ties half to even, where Number#toFixed rounds them up', () => {
    expect(formatFixed(1.125)).toBe('1.12')
    expect((1.125).toFixed(2)).toBe('1.13')
    expect(formatFixed(1.375)).toBe('1.38')
    expect(formatFixed(0.5, 0)).toBe('0')
    expect(formatFixed(1.5, 0)).toBe('2')
    expect(formatFixed(2.5, 0)).toBe('2')
    // Not a tie: 1.005 is stored just below, so it rounds down both ways.
    expect(formatFixed(1.005)).toBe('1.00')
  })

  it('prints non-finite values and signs as C does', () => {
    expect(formatFixed(Number.NaN)).toBe('nan')
    expect(formatFixed(Number.POSITIVE_INFINITY)).toBe('inf')
    expect(formatFixed(Number.NEGATIVE_INFINITY)).toBe('-inf')
    expect(formatFixed(-0)).toBe('-0.00')
    expect(formatFixed(-0.001)).toBe('-0.00')
    expect(formatFixed(1e21)).toBe('1000000000000000000000.00')
  })

  it('checks its arguments', () => {
    expect(() => formatFixed('1' as unknown as number)).toThrow(TypeError)
    expect(() => formatFixed(1, -1)).toThrow(RangeError)
    expect(() => formatFixed(1, 1.5)).toThrow(RangeError)
  })
})

describe('bytesToHuman', () => {
  it(`prints as Redis 7 on ${human.cases.length} recorded sizes`, () => {
    for (const [n, want] of human.cases) {
      const big = BigInt(n)
      expect(bytesToHuman(big)).toBe(want)
      if (big <= BigInt(Number.MAX_SAFE_INTEGER)) expect(bytesToHuman(Number(big))).toBe(want)
    }
  })

  it('covers the examples', () => {
    expect(bytesToHuman(1023)).toBe('1023B')
    expect(bytesToHuman(1024 * 1024)).toBe('1.00M')
    expect(bytesToHuman(2.5 * 1024 ** 3)).toBe('2.50G')
    expect(bytesToHuman(1152)).toBe('1.12K')
    expect(bytesToHuman(1024 ** 4)).toBe('1.00T')
    expect(bytesToHuman(1024n ** 6n)).toBe('1152921504606846976B')
  })

  it('refuses what is not a byte count', () => {
    expect(() => bytesToHuman(-1)).toThrow(RangeError)
    expect(() => bytesToHuman(1.5)).toThrow(RangeError)
    expect(() => bytesToHuman(Number.NaN)).toThrow(RangeError)
    expect(() => bytesToHuman(1n << 64n)).toThrow(RangeError)
    expect(() => bytesToHuman('1' as unknown as number)).toThrow(TypeError)
  })
})

/** Redis's own text read back into fields, numbers as numbers, as a report would hand them over. */
function fieldsOf(text: string): Array<[string, string | number]> {
  return text
    .split('\r\n')
    .slice(1, -1)
    .map((line) => {
      const at = line.indexOf(':')
      const name = line.slice(0, at)
      const raw = line.slice(at + 1)
      const numeric = /^-?[0-9]+(\.[0-9]+)?%?$/.test(raw) && !name.endsWith('_human')
      return [name, numeric ? Number(raw.replace('%', '')) : raw]
    })
}

describe('renderInfoSection', () => {
  it('reproduces Redis 7 INFO memory byte for byte from numbers', () => {
    const fields = fieldsOf(REDIS_INFO_MEMORY)
    expect(fields.find(([n]) => n === 'mem_fragmentation_ratio')).toEqual(['mem_fragmentation_ratio', 7.67])
    expect(renderInfoSection('Memory', fields)).toBe(REDIS_INFO_MEMORY)
  })

  it('reproduces Redis 7 INFO stats, including %.2f fields that are whole numbers', () => {
    expect(renderInfoSection('Stats', fieldsOf(REDIS_INFO_STATS))).toBe(REDIS_INFO_STATS)
  })

  it('formats ratios and percents with two decimals even when whole', () => {
    const text = renderInfoSection('Memory', [
      ['used_memory', 123],
      ['used_memory_human', bytesToHuman(123)],
      ['used_memory_peak_perc', 100],
      ['used_memory_dataset_perc', 12.345],
      ['mem_fragmentation_ratio', 1],
      ['allocator_frag_ratio', 1.125],
      ['rss_overhead_bytes', -4096],
      ['mem_allocator', 'jemalloc-5.3.0'],
    ])
    expect(text).toBe(
      '# Memory\r\nused_memory:123\r\nused_memory_human:123B\r\nused_memory_peak_perc:100.00%\r\n' +
        'used_memory_dataset_perc:12.35%\r\nmem_fragmentation_ratio:1.00\r\nallocator_frag_ratio:1.12\r\n' +
        'rss_overhead_bytes:-4096\r\nmem_allocator:jemalloc-5.3.0\r\n',
    )
  })

  it('prints other numbers as integers, or with two decimals when fractional', () => {
    expect(formatInfoValue('evicted_keys', 12)).toBe('12')
    expect(formatInfoValue('big', 2 ** 70)).toBe('1180591620717411303424')
    expect(formatInfoValue('avg', 0.5)).toBe('0.50')
    expect(formatInfoValue('zero', -0)).toBe('0')
    expect(formatInfoValue('mem_fragmentation_ratio', Number.NaN)).toBe('nan')
  })

  it('renders an empty section and refuses line breaks and wrong types', () => {
    expect(renderInfoSection('Keyspace', [])).toBe('# Keyspace\r\n')
    expect(() => renderInfoSection('Memory', [['a\r\nb', 1]])).toThrow(RangeError)
    expect(() => renderInfoSection('Memory', [['a', 'x\ny']])).toThrow(RangeError)
    expect(() => renderInfoSection('Mem\nory', [])).toThrow(RangeError)
    expect(() => renderInfoSection('Memory', [['a', true as unknown as number]])).toThrow(TypeError)
  })
})

describe('renderInfo and keyspace lines', () => {
  it('separates sections with an empty line, as Redis does', () => {
    const text = renderInfo([
      renderInfoSection('Memory', [['used_memory', 1]]),
      renderInfoSection('Keyspace', [['db0', keyspaceInfoValue(3, 1, 5000)]]),
    ])
    expect(text).toBe('# Memory\r\nused_memory:1\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=5000\r\n')
  })
})
