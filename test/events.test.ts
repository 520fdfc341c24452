// When 'evicted' and 'expired' listeners run: after the command (or timer step) that caused them has finished
// changing the keyspace, so a listener that writes, throws or closes the engine sees it whole (Redis delivers
// keyspace notifications after the command; ARCHITECTURE.md, "Events").
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Engine } from '../lib/engine.js'
import { engineWithClock } from './helpers/engine.js'

const open: Engine[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})
function track<T extends { db: Engine }>(made: T): T {
  open.push(made.db)
  return made
}

/** Every key SCAN returns, with repeats. */
function scanAll(db: Engine): string[] {
  const keys: string[] = []
  let cursor = 0
  do {
    const [next, batch] = db.scan(cursor, { count: 100 })
    keys.push(...batch)
    cursor = next
  } while (cursor !== 0)
  return keys
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('a listener that writes the key being expired (refresh on expire)', () => {
  const writers: Array<[string, (db: Engine) => unknown]> = [
    ['set', (db) => db.set('k', 'outer')],
    ['set NX', (db) => db.set('k', 'outer', { nx: true })],
    ['mset', (db) => db.mset([['k', 'outer']])],
  ]
  for (const [name, write] of writers) {
    it(`keeps one entry when ${name} expires the key lazily`, () => {
      const { db, clock } = track(engineWithClock())
      db.set('k', 'old', { px: 10 })
      const seen: string[] = []
      db.on('expired', (key) => {
        seen.push(key)
        db.set(key, 'refreshed')
      })
      clock.advance(20)
      write(db)
      expect(seen).toEqual(['k'])
      // The listener ran after the outer write: its write is the last one.
      expect(db.getString('k')).toBe('refreshed')
      expect(db.dbsize()).toBe(1)
      expect(scanAll(db)).toEqual(['k'])
      expect(db.del('k')).toBe(1)
      expect(db.exists('k')).toBe(0)
      expect(db.dbsize()).toBe(0)
    })
  }

  it('delivers the event after get returns a miss, and the listener sees the key gone', () => {
    const { db, clock } = track(engineWithClock())
    db.set('k', 'old', { px: 10 })
    let existedInListener = -1
    db.on('expired', () => {
      existedInListener = db.exists('k')
    })
    clock.advance(20)
    expect(db.get('k')).toBeUndefined()
    expect(existedInListener).toBe(0)
  })
})

describe('a listener that throws', () => {
  it('leaves the outer set complete, and its error reaches the caller afterwards', () => {
    const { db, clock } = track(engineWithClock())
    db.set('y', 'old', { px: 10 })
    db.on('expired', () => {
      throw new Error('listener failed')
    })
    clock.advance(20)
    expect(() => db.set('y', 'new')).toThrow('listener failed')
    expect(db.getString('y')).toBe('new')
    expect(db.pttl('y')).toBe(-1)
  })

  it('cannot stop CONFIG SET maxmemory from evicting down to the new bound', async () => {
    const db = new Engine({ maxmemory: '8mb', maxmemoryPolicy: 'allkeys-lru' })
    open.push(db)
    const value = 'v'.repeat(1000)
    for (let i = 0; i < 3000; i++) db.set(`key:${i}`, value)
    let evicted = 0
    db.on('evicted', () => {
      if (++evicted === 3) throw new Error('third eviction')
    })
    expect(() => db.configSet('maxmemory', '300kb')).toThrow('third eviction')
    expect(db.configGet('maxmemory')).toEqual({ maxmemory: String(300 * 1024) })
    // What the command's time budget left is evicted on the following event-loop turns (however slow the machine).
    await vi.waitFor(() => expect(db.usedMemory()).toBeLessThanOrEqual(300 * 1024), { timeout: 20_000, interval: 20 })
    // Every eviction was reported, the throwing listener's included.
    expect(evicted).toBe(db.infoObject('stats').evicted_keys)
    expect(evicted).toBeGreaterThan(100)
  })

  it('gets every event delivered; several errors arrive as one AggregateError', () => {
    const { db, clock } = track(engineWithClock())
    for (let i = 0; i < 5; i++) db.set(`k${i}`, 'v', { px: 10 })
    const seen: string[] = []
    db.on('expired', (key) => {
      seen.push(key)
      throw new Error(`failed on ${key}`)
    })
    clock.advance(20)
    let caught: unknown
    try {
      db.exists('k0', 'k1', 'k2')
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(AggregateError)
    expect((caught as AggregateError).errors.map((e: Error) => e.message)).toEqual([
      'failed on k0',
      'failed on k1',
      'failed on k2',
    ])
    expect(seen).toEqual(['k0', 'k1', 'k2'])
    expect(db.dbsize()).toBe(2)
  })

  it('on a refused write, reports the evictions before the OOM error, which wins', () => {
    const db = new Engine({ maxmemory: '1mb', maxmemoryPolicy: 'volatile-lru' })
    open.push(db)
    for (let i = 0; db.usedMemory() < 900 * 1024; i++) db.set(`fixed:${i}`, 'y'.repeat(1000))
    for (let i = 0; i < 20; i++) db.set(`volatile:${i}`, 'x'.repeat(1000), { ex: 100 })
    const evicted: string[] = []
    db.on('evicted', (key) => {
      evicted.push(key)
      throw new Error('listener failed')
    })
    let caught: unknown
    try {
      db.set('big', 'z'.repeat(200_000))
    } catch (error) {
      caught = error
    }
    expect((caught as { code?: string }).code).toBe('ERR_OOM')
    expect(evicted).toHaveLength(20)
    expect(((caught as Error).cause as AggregateError).errors).toHaveLength(20)
    expect(db.exists('big')).toBe(0)
  })
})

describe('close() from a listener', () => {
  it('stops the active expire cycle quietly', async () => {
    const db = new Engine({ hz: 100 })
    let calls = 0
    db.on('expired', () => {
      calls++
      db.close()
    })
    for (let i = 0; i < 2000; i++) db.set(`k${i}`, 'v', { px: 1 })
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(1), { timeout: 20_000, interval: 10 })
    // An uncaught ERR_CLOSED from a timer firing after close would fail this file (vitest reports unhandled errors).
    await sleep(300)
    expect(() => db.dbsize()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })

  it('stops the eviction continuation quietly', async () => {
    const db = new Engine({ maxmemory: '64mb', maxmemoryPolicy: 'allkeys-random', maxmemoryEvictionTenacity: 0 })
    const value = 'v'.repeat(100)
    for (let i = 0; i < 300_000; i++) db.set(`key:${i}`, value)
    let calls = 0
    db.on('evicted', () => {
      calls++
      if (calls === 50) db.close()
    })
    // Tenacity 0 gives each step no time: eviction goes on across event-loop turns (setImmediate).
    db.configSet('maxmemory', '1mb')
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(50), { timeout: 20_000, interval: 10 })
    await sleep(200)
    expect(() => db.dbsize()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })

  it('during a command: the command completes and later events are still delivered', () => {
    const { db, clock } = track(engineWithClock())
    for (let i = 0; i < 3; i++) db.set(`k${i}`, 'v', { px: 10 })
    const seen: string[] = []
    db.on('expired', (key) => {
      seen.push(key)
      db.close()
    })
    clock.advance(20)
    expect(db.exists('k0', 'k1', 'k2')).toBe(0)
    expect(seen).toEqual(['k0', 'k1', 'k2'])
  })
})

describe('re-entrant listeners', () => {
  it('run their own commands to completion; nested events are delivered after, in order', () => {
    const { db, clock } = track(engineWithClock())
    db.set('a', '1', { px: 10 })
    db.set('b', '1', { px: 10 })
    db.set('c', '1', { px: 10 })
    const log: string[] = []
    db.on('expired', (key) => {
      log.push(`expired ${key}`)
      if (key === 'a') {
        // Expires b lazily inside a listener: its event follows a's, after this listener returns.
        expect(db.get('b')).toBeUndefined()
        log.push('a done')
      }
      if (key === 'b') db.flushall()
    })
    clock.advance(20)
    expect(db.get('a')).toBeUndefined()
    expect(log).toEqual(['expired a', 'a done', 'expired b'])
    expect(db.dbsize()).toBe(0)
  })
})
