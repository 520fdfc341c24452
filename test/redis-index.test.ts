import { describe, expect, it } from 'vitest'
import { argsMatch, encodeArgs, InvalidationIndex, isIndexName, keyEntryName, members, type Found } from '../lib/redis/invalidation-index.js'
import { closedAfterEach } from './helpers/engine.js'

const { engine } = closedAfterEach()

describe('invalidation index', () => {
  it('links several cache keys under one Redis key with one token, each once', () => {
    const db = engine()
    const ix = new InvalidationIndex(db, 0)
    expect(ix.token('user:1')).toBe(0)
    const t = ix.link('user:1', 's3:GETs6:user:1')
    expect(t).toBeGreaterThan(0)
    expect(ix.link('user:1', 's7:HGETALLs6:user:1')).toBe(t)
    expect(ix.link('user:1', 's3:GETs6:user:1')).toBe(t)
    expect(ix.token('user:1')).toBe(t)
    expect(ix.count).toBe(1)
    expect(members(db.get(keyEntryName('user:1')) as Buffer)).toEqual([
      { name: 's3:GETs6:user:1', inline: false },
      { name: 's7:HGETALLs6:user:1', inline: false },
    ])
  })

  it('gives each Redis key its own token, and a dropped key a new one', () => {
    const db = engine()
    const ix = new InvalidationIndex(db, 0)
    const a = ix.link('a', 'ga')
    const b = ix.link('b', 'gb')
    expect(a).not.toBe(b)
    expect(ix.drop('a')).toEqual(['ga'])
    expect(ix.token('a')).toBe(0)
    expect(ix.count).toBe(1)
    expect(ix.drop('a')).toEqual([])
    const a2 = ix.link('a', 'ga')
    expect(a2).not.toBe(a)
    expect(a2).not.toBe(b)
  })

  it('drops every cache key of a multi-key command under each of its keys', () => {
    const db = engine()
    const ix = new InvalidationIndex(db, 0)
    const mget = 's4:MGETs1:xs1:y'
    ix.link('x', mget)
    ix.link('y', mget)
    ix.link('x', 'getx')
    expect(ix.drop('x').sort()).toEqual(['getx', mget].sort())
    expect(ix.drop('y')).toEqual([mget])
    expect(db.dbsize()).toBe(0)
  })

  it('keeps binary-looking and unicode cache keys intact', () => {
    const db = engine()
    const ix = new InvalidationIndex(db, 0)
    const weird = 'b3:\u00ff\u0000\u0080s2:☃𝄞'
    ix.link('k', weird)
    expect(ix.drop('k')).toEqual([weird])
  })

  it('keeps one-key replies inline: found in one lookup, replaced per command, dropped with the key', () => {
    const db = engine()
    const ix = new InvalidationIndex(db, 0)
    const f: Found = { buf: Buffer.alloc(0), start: 0, end: 0 }
    const reply = (f: Found): string => f.buf.toString('latin1', f.start, f.end)
    ix.putInline('h', ['HGETALL', 'h'], Buffer.from('all-1'))
    ix.putInline('h', ['HGET', 'h', 'f'], Buffer.from('one'))
    ix.putInline('h', ['HGETALL', 'h'], Buffer.from('all-2'))
    const mget = ix.link('h', 'mget-entry')
    expect(ix.token('h')).toBe(mget)
    expect(ix.find('h', ['HGETALL', 'h'], f)).toBe(true)
    expect(reply(f)).toBe('all-2')
    expect(ix.find('h', ['HGET', 'h', 'f'], f)).toBe(true)
    expect(reply(f)).toBe('one')
    expect(ix.find('h', ['HGET', 'h', 'g'], f)).toBe(false)
    expect(ix.find('h', ['HGET', 'h'], f)).toBe(false)
    expect(ix.find('h', [Buffer.from('HGETALL'), 'h'], f)).toBe(false)
    expect(ix.find('other', ['HGETALL', 'h'], f)).toBe(false)
    expect(ix.count).toBe(1)
    expect(ix.drop('h')).toEqual(['mget-entry'])
    expect(ix.find('h', ['HGETALL', 'h'], f)).toBe(false)
    // Replies larger than the scratch buffer are read in full.
    const big = Buffer.alloc(100_000, 7)
    ix.putInline('big', ['GET', 'big'], big)
    expect(ix.find('big', ['GET', 'big'], f)).toBe(true)
    expect(f.end - f.start).toBe(big.length)
    expect(f.buf.subarray(f.start, f.end).equals(big)).toBe(true)
  })

  it('matches command arguments exactly: strings (ASCII or not) and bytes, lengths, order', () => {
    const cases: (string | Buffer)[][] = [['GET', 'k'], ['GET', 'é☃𝄞'], ['GET', Buffer.from([0, 255])], ['GET', ''], ['GET', 'k', 'x']]
    // With a key none of them holds (every argument stored as its bytes), and with the entry's key 'k'.
    for (const key of ['other', 'k']) {
      for (const a of cases) {
        const enc = encodeArgs(a, key)
        for (const b of cases) expect(argsMatch(enc, 0, enc.length, b, key), `${String(a)} vs ${String(b)} (key ${key})`).toBe(a === b)
      }
    }
    const enc = encodeArgs(['GET', 'é'], 'other')
    expect(argsMatch(enc, 0, enc.length, ['GET', Buffer.from('é')], 'other')).toBe(false)
    expect(argsMatch(enc, 0, enc.length - 1, ['GET', 'é'], 'other')).toBe(false)
    // Same length in bytes as in units, but not ASCII: 'é' (2 units) against the 2 bytes of 'ab'.
    const ab = encodeArgs(['GET', 'ab'], 'other')
    expect(argsMatch(ab, 0, ab.length, ['GET', 'éé'], 'other')).toBe(false)
    expect(argsMatch(ab, 0, ab.length, ['GET', '\u00e1b'], 'other')).toBe(false)
  })

  it("stores the entry's own key as a marker, not its bytes: shorter members, and the key is not compared twice", () => {
    const key = 'user:12345'
    const plain = encodeArgs(['HGET', key, 'name'], 'other')
    const marked = encodeArgs(['HGET', key, 'name'], key)
    expect(plain.length - marked.length).toBe(key.length)
    expect(argsMatch(marked, 0, marked.length, ['HGET', key, 'name'], key)).toBe(true)
    // The key in another place, or a field equal to the key, is another command.
    expect(argsMatch(marked, 0, marked.length, ['HGET', 'name', key], key)).toBe(false)
    expect(argsMatch(marked, 0, marked.length, ['HGET', key, key], key)).toBe(false)
    const both = encodeArgs(['HGET', key, key], key)
    expect(argsMatch(both, 0, both.length, ['HGET', key, key], key)).toBe(true)
    expect(argsMatch(both, 0, both.length, ['HGET', key, 'name'], key)).toBe(false)
    // A Buffer key is stored as its bytes (only a string identical to the key is marked).
    const buf = encodeArgs(['GET', Buffer.from(key)], key)
    expect(buf.length).toBe(encodeArgs(['GET', key], 'other').length)
    expect(argsMatch(buf, 0, buf.length, ['GET', key], key)).toBe(false)
    expect(argsMatch(buf, 0, buf.length, ['GET', Buffer.from(key)], key)).toBe(true)
  })

  it('names key entries by the key, apart from multi-key entries even for keys that start with NUL', () => {
    expect(keyEntryName('user:1')).toBe('user:1')
    expect(keyEntryName('')).toBe('')
    expect(keyEntryName('\u0000m-looks-multi')).toBe('\u0000\u0000\u0000m-looks-multi')
    expect(isIndexName(keyEntryName('\u0000m-looks-multi'))).toBe(true)
    expect(isIndexName(keyEntryName('m'))).toBe(true)
    expect(isIndexName('\u0000ms4:MGET')).toBe(false)
    const db = engine()
    const ix = new InvalidationIndex(db, 0)
    const f: Found = { buf: Buffer.alloc(0), start: 0, end: 0 }
    ix.putInline('\u0000m', ['GET', '\u0000m'], Buffer.from('nul'))
    ix.putInline('m', ['GET', 'm'], Buffer.from('plain'))
    expect(ix.find('\u0000m', ['GET', '\u0000m'], f)).toBe(true)
    expect(f.buf.toString('latin1', f.start, f.end)).toBe('nul')
    expect(ix.find('m', ['GET', 'm'], f)).toBe(true)
    expect(f.buf.toString('latin1', f.start, f.end)).toBe('plain')
  })

  it('gives index entries the TTL and renews it on every link', () => {
    const db = engine()
    const ix = new InvalidationIndex(db, 60_000)
    ix.link('k', 'one')
    expect(db.pttl(keyEntryName('k'))).toBeGreaterThan(59_000)
    db.pexpire(keyEntryName('k'), 10)
    ix.link('k', 'one')
    expect(db.pttl(keyEntryName('k'))).toBeGreaterThan(59_000)
    db.pexpire(keyEntryName('k'), 10)
    ix.link('k', 'two')
    expect(db.pttl(keyEntryName('k'))).toBeGreaterThan(59_000)
    const plain = engine()
    new InvalidationIndex(plain, 0).link('k', 'one')
    expect(plain.pttl(keyEntryName('k'))).toBe(-1)
  })

  it('counts its entries within maxmemory: ERR_OOM under noeviction when full', () => {
    const db = engine({ maxmemory: '1mb', maxmemoryPolicy: 'noeviction' })
    const ix = new InvalidationIndex(db, 0)
    let refused: unknown
    for (let i = 0; i < 100_000 && refused === undefined; i++) {
      try {
        ix.link(`key:${i}`, `cache:${i}:${'x'.repeat(100)}`)
      } catch (err) {
        refused = err
      }
    }
    expect((refused as { code?: string }).code).toBe('ERR_OOM')
    expect(db.usedMemory()).toBeLessThanOrEqual(1024 * 1024)
  })
})
