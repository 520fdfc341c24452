/**
 * Text formatting for Redis-style reports: bytesToHuman as INFO prints `*_human` fields, C's `%.Nf`
 * (which rounds the exact binary value half-to-even: 1.125 → "1.12", where Number#toFixed says "1.13"),
 * and INFO sections ('# Memory\r\nused_memory:123\r\n…').
 */

const TWO_POW_64 = 1n << 64n

/** Exact decomposition of a finite, non-negative double: value = mantissa × 2^exponent. */
function decompose(x: number): [mantissa: bigint, exponent: number] {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  const biased = (hi >>> 20) & 0x7ff
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  if (biased === 0) return [fraction, -1074]
  return [fraction | (1n << 52n), biased - 1075]
}

/**
 * `printf("%.*f", digits, x)` as glibc prints it: the exact value of the double rounded half-to-even,
 * "nan"/"inf" for non-finite values, "-0.00" for negative zero.
 */
export function formatFixed(x: number, digits = 2): string {
  if (typeof x !== 'number') throw new TypeError(`expected a number, got ${typeof x}`)
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) {
    throw new RangeError(`digits must be an integer from 0 to 100, got ${digits}`)
  }
  if (Number.isNaN(x)) return 'nan'
  const negative = x < 0 || Object.is(x, -0)
  const sign = negative ? '-' : ''
  if (!Number.isFinite(x)) return `${sign}inf`
  const [mantissa, exponent] = decompose(Math.abs(x))
  const scale = 10n ** BigInt(digits)
  let scaled: bigint
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * scale
  } else {
    const shift = BigInt(-exponent)
    const numerator = mantissa * scale
    scaled = numerator >> shift
    const remainder = numerator - (scaled << shift)
    const half = 1n << (shift - 1n)
    if (remainder > half || (remainder === half && (scaled & 1n) === 1n)) scaled += 1n
  }
  if (digits === 0) return sign + scaled.toString()
  const text = scaled.toString().padStart(digits + 1, '0')
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`
}

const HUMAN_UNITS = ['K', 'M', 'G', 'T', 'P'] as const

/**
 * Redis's bytesToHuman: '1023B', '1.00K', '2.50G' … up to 'P' (powers of 1024, two decimals, C rounding);
 * from 1024 P on, plain bytes again, as Redis does.
 */
export function bytesToHuman(n: number | bigint): string {
  let big: bigint
  if (typeof n === 'bigint') {
    big = n
  } else if (typeof n === 'number') {
    if (!Number.isInteger(n)) throw new RangeError(`bytesToHuman needs a whole number of bytes, got ${n}`)
    big = BigInt(n)
  } else {
    throw new TypeError(`bytesToHuman needs a number or bigint, got ${typeof n}`)
  }
  if (big < 0n || big >= TWO_POW_64) throw new RangeError(`bytesToHuman needs 0 ≤ n < 2^64, got ${big}`)
  if (big < 1024n) return `${big}B`
  // Redis converts the count to a double first; dividing by a power of two is then exact.
  const d = Number(big)
  let unit = 1024
  for (const suffix of HUMAN_UNITS) {
    if (big < BigInt(unit) * 1024n) return formatFixed(d / unit, 2) + suffix
    unit *= 1024
  }
  return `${big}B`
}

/** INFO fields Redis prints with "%.2f" (ratios, rates) or "%.2f%%" (percentages of a whole). */
const FIXED2_FIELDS: ReadonlySet<string> = new Set([
  'allocator_frag_ratio',
  'allocator_rss_ratio',
  'rss_overhead_ratio',
  'mem_fragmentation_ratio',
  'expired_stale_perc',
  'instantaneous_input_kbps',
  'instantaneous_output_kbps',
  'instantaneous_input_repl_kbps',
  'instantaneous_output_repl_kbps',
  'loading_loaded_perc',
])
const PERCENT_FIELDS: ReadonlySet<string> = new Set(['used_memory_peak_perc', 'used_memory_dataset_perc'])

/**
 * One INFO value as Redis prints it: strings as given; the ratio and percent fields of FIXED2/PERCENT
 * with two decimals ('1.05', '99.50%'); other whole numbers as integers; any other fraction with two
 * decimals.
 */
export function formatInfoValue(name: string, value: string | number): string {
  if (typeof value === 'string') return value
  if (typeof value !== 'number') throw new TypeError(`INFO field ${name}: expected a string or number, got ${typeof value}`)
  if (PERCENT_FIELDS.has(name)) return `${formatFixed(value, 2)}%`
  if (FIXED2_FIELDS.has(name) || !Number.isInteger(value)) return formatFixed(value, 2)
  // BigInt keeps large counts out of exponent notation ('1e+21') and prints -0 as '0', as %lld would.
  return BigInt(value).toString()
}

function checkLine(what: string, text: string): void {
  if (/[\r\n]/.test(text)) throw new RangeError(`INFO ${what} must not contain line breaks: ${JSON.stringify(text)}`)
}

/** '# Title\r\nname:value\r\n…' — one INFO section, each line ending in CRLF as Redis's. */
export function renderInfoSection(title: string, fields: ReadonlyArray<readonly [string, string | number]>): string {
  if (typeof title !== 'string') throw new TypeError('INFO section title must be a string')
  checkLine('section title', title)
  let out = `# ${title}\r\n`
  for (const [name, value] of fields) {
    if (typeof name !== 'string') throw new TypeError('INFO field name must be a string')
    checkLine('field name', name)
    const text = formatInfoValue(name, value)
    checkLine(`field ${name}`, text)
    out += `${name}:${text}\r\n`
  }
  return out
}

/** Several sections as one INFO reply: Redis separates them with an empty line. */
export function renderInfo(sections: readonly string[]): string {
  return sections.join('\r\n')
}

/** The value of a Keyspace line: 'keys=3,expires=1,avg_ttl=5000' (the name is 'db0'). */
export function keyspaceInfoValue(keys: number, expires: number, avgTtl: number): string {
  return `keys=${keys},expires=${expires},avg_ttl=${avgTtl}`
}
