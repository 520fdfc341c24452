// The differential tests' harness: a redis-server 7.0 the tests start and an engine served by db.listen on a Unix
// socket, with a fresh client to each before every test. Call diffPair() inside a describe: it registers the hooks.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { Engine } from '../../lib/engine.js'
import type { RespListener } from '../../lib/server/server.js'
import { startRedisServer, type RedisServer } from './redis-server.js'
import { RespClient } from './resp.js'

export interface DiffPair {
  /** The client to redis-server, and the one to the engine: replaced before every test and by reconnect(). */
  readonly r: RespClient
  readonly a: RespClient
  readonly db: Engine
  /** New clients to both (after a test made a server drop its connection). */
  reconnect(): Promise<void>
}

export function diffPair(): DiffPair {
  let redis: RedisServer
  let listener: RespListener
  let dir = ''
  const pair = {
    r: undefined as unknown as RespClient,
    a: undefined as unknown as RespClient,
    db: undefined as unknown as Engine,
    async reconnect(): Promise<void> {
      pair.r?.close()
      pair.a?.close()
      pair.r = await RespClient.connect({ path: redis.path })
      pair.a = await RespClient.connect({ path: listener.address.path! })
    },
  }
  beforeAll(async () => {
    redis = await startRedisServer(['--maxmemory', '64mb'])
    dir = mkdtempSync(join(tmpdir(), 'arenakv-resp-'))
    pair.db = new Engine({ maxmemory: '64mb' })
    listener = await pair.db.listen({ path: join(dir, 'a.sock') })
  })
  afterAll(async () => {
    pair.r?.close()
    pair.a?.close()
    pair.db?.close()
    await redis?.stop()
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })
  beforeEach(() => pair.reconnect())
  return pair
}
