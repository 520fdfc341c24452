import { afterEach, describe, expect, it } from 'vitest'
import { Engine } from '../lib/engine.js'
import { INDEX_PREFIX, InvalidationIndex, listMembers } from '../lib/redis/invalidation-index.js'

const open: Engine[] = []
function engine(options?: ConstructorParameters<typeof Engine>[0]): Engine {
  const db = new Engine(options)
  open.push(db)
  return db
}
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

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
    expect(listMembers(db.get(INDEX_PREFIX + 'user:1') as Buffer)).toEqual(['s3:GETs6:user:1', 's7:HGETALLs6:user:1'])
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

  it('gives index entries the TTL and renews it on every link', () => {
    const db = engine()
    const ix = new InvalidationIndex(db, 60_000)
    ix.link('k', 'one')
    expect(db.pttl(INDEX_PREFIX + 'k')).toBeGreaterThan(59_000)
    db.pexpire(INDEX_PREFIX + 'k', 10)
    ix.link('k', 'one')
    expect(db.pttl(INDEX_PREFIX + 'k')).toBeGreaterThan(59_000)
    db.pexpire(INDEX_PREFIX + 'k', 10)
    ix.link('k', 'two')
    expect(db.pttl(INDEX_PREFIX + 'k')).toBeGreaterThan(59_000)
    const plain = engine()
    new InvalidationIndex(plain, 0).link('k', 'one')
    expect(plain.pttl(INDEX_PREFIX + 'k')).toBe(-1)
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
