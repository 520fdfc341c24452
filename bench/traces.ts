// The traces the hit-ratio suite replays: files of one key per line (gzip'd or not), and synthetic shapes
// generated from a seed. Keys become dense integers 0..distinct-1 in order of first appearance.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Rng } from './rng.js'
import { ZipfSampler } from './zipf.js'

export interface Trace {
  name: string
  keys: Uint32Array
  distinct: number
}

/** Reads a trace file: one key per line, blank lines skipped; `.gz` is gunzipped. */
export function readTraceFile(path: string): Trace {
  let raw = readFileSync(path)
  if (path.endsWith('.gz')) raw = gunzipSync(raw)
  const ids = new Map<string, number>()
  const out: number[] = []
  for (const line of raw.toString('utf8').split('\n')) {
    const key = line.trim()
    if (key === '') continue
    let id = ids.get(key)
    if (id === undefined) {
      id = ids.size
      ids.set(key, id)
    }
    out.push(id)
  }
  if (out.length === 0) throw new RangeError(`trace ${path} has no keys`)
  return { name: basename(path).replace(/\.trace\.gz$|\.gz$|\.trace$|\.txt$/, ''), keys: Uint32Array.from(out), distinct: ids.size }
}

export type Shape = 'zipf' | 'loop' | 'scan' | 'shift' | 'phases' | 'hotshift' | 'zipfscan' | 'loopmix'
export const SHAPES: readonly Shape[] = ['zipf', 'loop', 'scan', 'shift', 'phases', 'hotshift', 'zipfscan', 'loopmix']

/**
 * A synthetic trace of `length` requests over about `n` keys:
 * - zipf: Zipf(0.9);
 * - loop: keys 0..n-1 in order, again and again (LRU's worst case);
 * - scan: Zipf(0.9) over a hot set of n/2 keys, interrupted every 2n requests by a scan of n/2 keys through a
 *   range of 2n others (a periodic batch job: each scanned key comes back only scans later);
 * - shift: Zipf(0.9) whose popular keys change every length/4 requests (frequency alone goes stale);
 * - phases: frequency and recency by turns, every length/8 requests: Zipf(0.9) over a fixed core of n/2 keys, then
 *   a working set of n/10 keys sliding forward by one key every 4 requests through a range of 2n others (each key
 *   read about 40 times within a short span, then not until the window comes round again);
 * - hotshift: 80% of requests on a hot set of n/20 keys that moves to other keys every length/16 requests, the rest
 *   Zipf(0.9) over all n keys;
 * - zipfscan: Zipf(0.9) over a core of n/2 keys, every third request a scan step through a range of 4n others
 *   (scanned keys come back only after 12n requests);
 * - loopmix: by turns, a loop over 0.55n keys (a little larger than a cache of half the trace's keys) and Zipf(0.9)
 *   over 0.45n others.
 */
export function syntheticTrace(shape: Shape, n: number, length: number, seed = 7): Trace {
  const rng = new Rng(seed)
  const out = new Uint32Array(length)
  if (shape === 'zipf') {
    out.set(new ZipfSampler(n, 0.9, rng).trace(length))
  } else if (shape === 'loop') {
    for (let i = 0; i < length; i++) out[i] = i % n
  } else if (shape === 'scan') {
    const hot = Math.max(1, n >> 1)
    const zipf = new ZipfSampler(hot, 0.9, rng)
    let scanned = 0
    for (let i = 0; i < length; ) {
      for (let j = 0; j < 2 * n && i < length; j++) out[i++] = zipf.next()
      for (let j = 0; j < hot && i < length; j++) out[i++] = hot + (scanned++ % (2 * n))
    }
  } else if (shape === 'phases') {
    const core = Math.max(1, n >> 1)
    const zipf = new ZipfSampler(core, 0.9, rng)
    const span = Math.max(1, Math.floor(n / 10))
    const phase = Math.max(1, Math.floor(length / 8))
    let base = 0
    for (let i = 0; i < length; i++) {
      if (Math.floor(i / phase) % 2 === 0) {
        out[i] = zipf.next()
      } else {
        out[i] = core + ((base + Math.floor(rng.next() * span)) % (2 * n))
        if (i % 4 === 3) base++
      }
    }
  } else if (shape === 'hotshift') {
    const zipf = new ZipfSampler(n, 0.9, rng)
    const hot = Math.max(1, Math.floor(n / 20))
    const phase = Math.max(1, Math.floor(length / 16))
    for (let i = 0; i < length; i++) {
      const start = (Math.floor(i / phase) * 7 * hot) % n
      out[i] = rng.next() < 0.8 ? (start + Math.floor(rng.next() * hot)) % n : zipf.next()
    }
  } else if (shape === 'zipfscan') {
    const core = Math.max(1, n >> 1)
    const zipf = new ZipfSampler(core, 0.9, rng)
    let scanned = 0
    for (let i = 0; i < length; i++) out[i] = i % 3 === 2 ? core + (scanned++ % (4 * n)) : zipf.next()
  } else if (shape === 'loopmix') {
    const loop = Math.max(1, Math.round(0.55 * n))
    const zipf = new ZipfSampler(Math.max(1, n - loop), 0.9, rng)
    for (let i = 0; i < length; i++) out[i] = i % 2 === 0 ? (i >> 1) % loop : loop + zipf.next()
  } else {
    const zipf = new ZipfSampler(n, 0.9, rng)
    const phase = Math.max(1, Math.floor(length / 4))
    for (let i = 0; i < length; i++) out[i] = (zipf.next() + Math.floor(i / phase) * Math.floor(n / 3)) % (2 * n)
  }
  const distinct = new Set(out).size
  return { name: shape, keys: out, distinct }
}

/** A trace as the suite passes it to a child: a file, or a synthetic shape's parameters. */
export type TraceSpec = { file: string } | { shape: Shape; n: number; length: number }

export function loadTrace(spec: TraceSpec): Trace {
  return 'file' in spec ? readTraceFile(spec.file) : syntheticTrace(spec.shape, spec.n, spec.length)
}
