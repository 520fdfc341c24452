import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { compileGlob, globMatch } from '../lib/glob.js'

interface RedisFixture {
  source: string
  subjects: string[]
  /** [pattern, one '0'/'1' per subject: did Redis's KEYS return it] */
  cases: Array<[string, string]>
}

// Recorded from redis-server 7.0.15 (Debian): KEYS <pattern> over 64 short keys including the empty key,
// 700 random patterns over the characters that mean something to the matcher.
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/glob-redis-7.0.15.json', import.meta.url), 'utf8'),
) as RedisFixture

describe('globMatch agrees with Redis 7', () => {
  it('on every recorded pattern × subject (KEYS semantics, case-sensitive)', () => {
    const mismatches: string[] = []
    for (const [pattern, expected] of fixture.cases) {
      const matcher = compileGlob(pattern)
      fixture.subjects.forEach((subject, i) => {
        const want = expected[i] === '1'
        if (globMatch(pattern, subject) !== want || matcher(subject) !== want) {
          mismatches.push(`${JSON.stringify(pattern)} vs ${JSON.stringify(subject)}: Redis ${want}`)
        }
      })
    }
    expect(mismatches).toEqual([])
    expect(fixture.cases.length * fixture.subjects.length).toBeGreaterThan(40_000)
  })

  it('keeps the empty-subject rule: only the empty pattern and the lone * match it', () => {
    expect(globMatch('', '')).toBe(true)
    expect(globMatch('*', '')).toBe(true)
    expect(globMatch('**', '')).toBe(false)
    expect(globMatch('?', '')).toBe(false)
    expect(globMatch('[^a]', '')).toBe(false)
    expect(compileGlob('*')('')).toBe(true)
    expect(compileGlob('**')('')).toBe(false)
  })
})

describe('tokens', () => {
  it('* and ? and literals', () => {
    expect(globMatch('h?llo', 'hello')).toBe(true)
    expect(globMatch('h?llo', 'hllo')).toBe(false)
    expect(globMatch('h*llo', 'hllo')).toBe(true)
    expect(globMatch('h*llo', 'heeeello')).toBe(true)
    expect(globMatch('user:*:name', 'user:42:name')).toBe(true)
    expect(globMatch('user:*:name', 'user:42:names')).toBe(false)
    expect(globMatch('abc**', 'abc')).toBe(true)
    expect(globMatch('a*b*c', 'abc')).toBe(true)
    expect(globMatch('a*b*c', 'acb')).toBe(false)
  })

  it('sets, negated sets and ranges, reversed ranges swapped', () => {
    expect(globMatch('h[ae]llo', 'hallo')).toBe(true)
    expect(globMatch('h[ae]llo', 'hillo')).toBe(false)
    expect(globMatch('h[^e]llo', 'hallo')).toBe(true)
    expect(globMatch('h[^e]llo', 'hello')).toBe(false)
    expect(globMatch('h[a-b]llo', 'hbllo')).toBe(true)
    expect(globMatch('h[b-a]llo', 'hbllo')).toBe(true)
    expect(globMatch('h[z-x]llo', 'hyllo')).toBe(true)
    expect(globMatch('h[z-x]llo', 'hwllo')).toBe(false)
    expect(globMatch('[0-9][0-9]', '42')).toBe(true)
  })

  it('backslash escapes, inside and outside sets', () => {
    expect(globMatch('a\\*b', 'a*b')).toBe(true)
    expect(globMatch('a\\*b', 'axb')).toBe(false)
    expect(globMatch('\\?', '?')).toBe(true)
    expect(globMatch('\\?', 'x')).toBe(false)
    expect(globMatch('[\\]]', ']')).toBe(true)
    expect(globMatch('[\\^a]', '^')).toBe(true)
    // A trailing lone backslash is a literal backslash.
    expect(globMatch('a\\', 'a\\')).toBe(true)
  })

  it('an unclosed [ still forms a set from what follows', () => {
    expect(globMatch('[abc', 'b')).toBe(true)
    expect(globMatch('[abc', 'd')).toBe(false)
    expect(globMatch('x[', 'x[')).toBe(false)
    expect(globMatch('[', 'a')).toBe(false)
    expect(globMatch('[^', 'a')).toBe(true)
    // '[a-]' is the range a..']' (swapped to ']'..'a'), as in Redis.
    expect(globMatch('[a-]', '_')).toBe(true)
    expect(globMatch('[a-]', 'b')).toBe(false)
  })
})

describe('nocase', () => {
  it('folds ASCII letters in literals, sets and ranges', () => {
    expect(globMatch('MAXMEMORY*', 'maxmemory-policy', true)).toBe(true)
    expect(globMatch('maxmemory*', 'MAXMEMORY-POLICY', true)).toBe(true)
    expect(globMatch('[L-M]axmemory', 'maxmemory', true)).toBe(true)
    expect(globMatch('[M]axmemory', 'maxmemory', true)).toBe(true)
    expect(globMatch('Maxmemory', 'maxmemory', true)).toBe(true)
    expect(globMatch('Maxmemory', 'maxmemory', false)).toBe(false)
    expect(compileGlob('FOO', true)('foo')).toBe(true)
    expect(compileGlob('FOO*', true)('foobar')).toBe(true)
    expect(compileGlob('F?O', true)('foo')).toBe(true)
  })

  it('leaves escaped set members case-sensitive (checked against CONFIG GET on Redis 7)', () => {
    expect(globMatch('[\\M]axmemory', 'maxmemory', true)).toBe(false)
    expect(globMatch('[\\m]axmemory', 'maxmemory', true)).toBe(true)
  })

  it('folds ASCII only', () => {
    expect(globMatch('É', 'é', true)).toBe(false)
    expect(globMatch('straße', 'STRASSE', true)).toBe(false)
  })
})

describe('pathological patterns', () => {
  it('a*a*a*a*a*a*a*b over a long run of a stays linear-ish', () => {
    const subject = 'a'.repeat(200_000)
    const start = performance.now()
    expect(globMatch('a*a*a*a*a*a*a*b', subject)).toBe(false)
    expect(globMatch('a*a*a*a*a*a*a*b', subject + 'b')).toBe(true)
    expect(globMatch('*a*a*a*a*a*a*a*a*a*a*a*a*?b', subject)).toBe(false)
    // Generous bound: the point is that it returns at all (a naive backtracker never would).
    expect(performance.now() - start).toBeLessThan(5_000)
  })

  it('honours Redis 7 nesting limit: more than 1000 star groups never match', () => {
    for (const groups of [1000, 1001]) {
      const subject = 'a'.repeat(groups) + 'b'
      const ok = groups <= 1000
      expect(globMatch('*a'.repeat(groups) + 'b', subject)).toBe(ok)
      expect(globMatch('*a'.repeat(groups) + '*', subject)).toBe(ok)
    }
    // Consecutive stars are one group.
    expect(globMatch('**a'.repeat(1000) + 'b', 'a'.repeat(1000) + 'b')).toBe(true)
  })
})

describe('arguments', () => {
  it('rejects non-strings with TypeError', () => {
    expect(() => globMatch(1 as unknown as string, 'a')).toThrow(TypeError)
    expect(() => globMatch('a', null as unknown as string)).toThrow(TypeError)
    expect(() => compileGlob(undefined as unknown as string)).toThrow(TypeError)
  })

  it('handles non-ASCII by UTF-16 code unit', () => {
    expect(globMatch('caf?', 'café')).toBe(true)
    expect(globMatch('日本*', '日本語')).toBe(true)
    expect(globMatch('[あ-お]', 'う')).toBe(true)
  })
})
