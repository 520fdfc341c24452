/**
 * Glob matching with the semantics of Redis's `stringmatchlen` (util.c), used by SCAN MATCH, KEYS-style
 * filters and CONFIG GET.
 *
 * Tokens: `*` (any run, consecutive stars count as one), `?` (one character), `[abc]`, `[^abc]`, `[a-z]`
 * (a reversed range `[z-a]` is swapped), `\x` (x literally; inside brackets it also ignores `nocase`), and
 * a `[` left unclosed at the end of the pattern (its items still form a set). Every token other than `*`
 * consumes exactly one character, which is what lets a single backtrack point replace Redis's recursion
 * without changing any result: matching is O(pattern × subject) and never recurses.
 *
 * Quirks kept on purpose, because Redis users see them:
 * - an empty subject matches only an empty pattern (`stringmatchlen("*", "")` is 0); the lone pattern `*`
 *   is the exception, as Redis's KEYS and SCAN treat it as "everything" before calling the matcher;
 * - `[a-]` is the range from `a` to `]`, and `nocase` lowers a range's ends after swapping them;
 * - Redis gives up (no match) when a pattern nests more than 1000 stars deep; a pattern with more than
 *   1000 star groups followed by something else therefore never matches, here too.
 * - case folding is ASCII only, as C's `tolower` in the C locale.
 *
 * Subjects and patterns are compared by UTF-16 code unit, where Redis compares bytes: `?` matches one
 * JavaScript character, not one byte of its UTF-8 encoding.
 */

/** Redis's `stringmatchlen_impl` returns no match beyond this recursion depth (one level per star). */
const MAX_STAR_NESTING = 1000

const TOKEN_LITERAL = 0
const TOKEN_ANY = 1
const TOKEN_CLASS = 2
const TOKEN_STAR = 3

const CH_STAR = 0x2a
const CH_QUESTION = 0x3f
const CH_OPEN = 0x5b
const CH_CLOSE = 0x5d
const CH_BACKSLASH = 0x5c
const CH_CARET = 0x5e
const CH_DASH = 0x2d

interface CharClass {
  readonly negate: boolean
  /** Inclusive [lo, hi] pairs, already folded to lower case under nocase. */
  readonly ranges: readonly number[]
  /** Escaped characters: compared exactly, whatever nocase says. */
  readonly exact: readonly number[]
}

interface CompiledGlob {
  readonly kinds: Uint8Array
  /** A literal's code unit (folded under nocase) or a class's index in `classes`. */
  readonly args: Int32Array
  readonly classes: readonly CharClass[]
  readonly nocase: boolean
  /** More star groups than Redis's nesting limit allows: nothing matches. */
  readonly neverMatches: boolean
}

export type GlobMatcher = (subject: string) => boolean

function lowerAscii(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c
}

function isPlainLiteral(pattern: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = pattern.charCodeAt(i)
    if (c === CH_STAR || c === CH_QUESTION || c === CH_OPEN || c === CH_BACKSLASH) return false
  }
  return true
}

function equalsPrefix(a: string, b: string, length: number): boolean {
  for (let i = 0; i < length; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false
  return true
}

function equalsAsciiNocase(a: string, b: string, length: number): boolean {
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y && lowerAscii(x) !== lowerAscii(y)) return false
  }
  return true
}

function compile(pattern: string, nocase: boolean): CompiledGlob {
  const m = pattern.length
  const kinds: number[] = []
  const args: number[] = []
  const classes: CharClass[] = []
  const fold = nocase ? lowerAscii : (c: number): number => c
  let i = 0
  while (i < m) {
    const c = pattern.charCodeAt(i)
    if (c === CH_STAR) {
      if (kinds.length === 0 || kinds[kinds.length - 1] !== TOKEN_STAR) {
        kinds.push(TOKEN_STAR)
        args.push(0)
      }
      i++
    } else if (c === CH_QUESTION) {
      kinds.push(TOKEN_ANY)
      args.push(0)
      i++
    } else if (c === CH_OPEN) {
      i++
      const negate = i < m && pattern.charCodeAt(i) === CH_CARET
      if (negate) i++
      const ranges: number[] = []
      const exact: number[] = []
      while (i < m) {
        const d = pattern.charCodeAt(i)
        if (d === CH_BACKSLASH && m - i >= 2) {
          exact.push(pattern.charCodeAt(i + 1))
          i += 2
        } else if (d === CH_CLOSE) {
          i++
          break
        } else if (m - i >= 3 && pattern.charCodeAt(i + 1) === CH_DASH) {
          let lo = d
          let hi = pattern.charCodeAt(i + 2)
          if (lo > hi) {
            const t = lo
            lo = hi
            hi = t
          }
          ranges.push(fold(lo), fold(hi))
          i += 3
        } else {
          const f = fold(d)
          ranges.push(f, f)
          i++
        }
      }
      kinds.push(TOKEN_CLASS)
      args.push(classes.length)
      classes.push({ negate, ranges, exact })
    } else if (c === CH_BACKSLASH && m - i >= 2) {
      kinds.push(TOKEN_LITERAL)
      args.push(fold(pattern.charCodeAt(i + 1)))
      i += 2
    } else {
      kinds.push(TOKEN_LITERAL)
      args.push(fold(c))
      i++
    }
  }
  let starGroups = 0
  for (let t = 0; t < kinds.length - 1; t++) if (kinds[t] === TOKEN_STAR) starGroups++
  return {
    kinds: Uint8Array.from(kinds),
    args: Int32Array.from(args),
    classes,
    nocase,
    neverMatches: starGroups > MAX_STAR_NESTING,
  }
}

function classMatches(cls: CharClass, c: number, nocase: boolean): boolean {
  let hit = false
  const exact = cls.exact
  for (let j = 0; j < exact.length; j++) {
    if (exact[j] === c) {
      hit = true
      break
    }
  }
  if (!hit) {
    const f = nocase ? lowerAscii(c) : c
    const ranges = cls.ranges
    for (let j = 0; j < ranges.length; j += 2) {
      if (f >= ranges[j] && f <= ranges[j + 1]) {
        hit = true
        break
      }
    }
  }
  return hit !== cls.negate
}

function run(g: CompiledGlob, s: string): boolean {
  const kinds = g.kinds
  const count = kinds.length
  const n = s.length
  if (n === 0) return count === 0
  if (g.neverMatches) return false
  const args = g.args
  const nocase = g.nocase
  let p = 0
  let si = 0
  // The most recent star: a mismatch retries the tokens after it one character later. Earlier stars never
  // need a retry: the later star can absorb whatever a longer match of theirs would have consumed.
  let starP = -1
  let starS = 0
  while (si < n) {
    if (p < count) {
      const kind = kinds[p]
      if (kind === TOKEN_STAR) {
        if (p + 1 === count) return true
        starP = ++p
        starS = si
        continue
      }
      const c = s.charCodeAt(si)
      let ok: boolean
      if (kind === TOKEN_LITERAL) ok = (nocase ? lowerAscii(c) : c) === args[p]
      else if (kind === TOKEN_ANY) ok = true
      else ok = classMatches(g.classes[args[p]], c, nocase)
      if (ok) {
        p++
        si++
        continue
      }
    }
    if (starP < 0) return false
    p = starP
    si = ++starS
  }
  while (p < count && kinds[p] === TOKEN_STAR) p++
  return p === count
}

/**
 * A matcher for one pattern, for loops that test many subjects (SCAN over a keyspace, CONFIG GET over the
 * parameter names). `*`, literal patterns and `prefix*` skip the general matcher.
 */
export function compileGlob(pattern: string, nocase = false): GlobMatcher {
  if (typeof pattern !== 'string') throw new TypeError('pattern must be a string')
  if (pattern === '*') return () => true
  const m = pattern.length
  if (isPlainLiteral(pattern, m)) {
    if (!nocase) return (s) => s === pattern
    return (s) => s.length === m && equalsAsciiNocase(pattern, s, m)
  }
  if (m >= 2 && pattern.charCodeAt(m - 1) === CH_STAR && isPlainLiteral(pattern, m - 1)) {
    const plen = m - 1
    if (!nocase) return (s) => s.length >= plen && equalsPrefix(pattern, s, plen)
    return (s) => s.length >= plen && equalsAsciiNocase(pattern, s, plen)
  }
  const g = compile(pattern, nocase)
  return (s) => run(g, s)
}

// globMatch is called once per key by SCAN-style loops: remember the matchers of recent patterns so a
// call costs a comparison and a lookup, not a parse. Bounded, since patterns can come from users.
const CACHE_LIMIT = 64
const caches: [Map<string, GlobMatcher>, Map<string, GlobMatcher>] = [new Map(), new Map()]
let lastPattern = ''
let lastNocase = false
let lastMatcher: GlobMatcher = (s) => s === ''

function matcherFor(pattern: string, nocase: boolean): GlobMatcher {
  if (pattern === lastPattern && nocase === lastNocase) return lastMatcher
  const cache = caches[nocase ? 1 : 0]
  let matcher = cache.get(pattern)
  if (matcher === undefined) {
    matcher = compileGlob(pattern, nocase)
    if (cache.size >= CACHE_LIMIT) cache.clear()
    cache.set(pattern, matcher)
  }
  lastPattern = pattern
  lastNocase = nocase
  lastMatcher = matcher
  return matcher
}

/** True when `subject` matches the glob `pattern`, as Redis's stringmatchlen decides (see the file comment). */
export function globMatch(pattern: string, subject: string, nocase = false): boolean {
  if (typeof pattern !== 'string') throw new TypeError('pattern must be a string')
  if (typeof subject !== 'string') throw new TypeError('subject must be a string')
  return matcherFor(pattern, nocase === true)(subject)
}
