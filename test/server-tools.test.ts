// The RESP endpoint with the real tools and clients: `arenakv serve` (from dist/, as a child process) and
// db.listen in-process, driven by redis-cli, node-redis, ioredis, redis-benchmark and Prometheus's
// redis_exporter; redis-cli's output is compared with a redis-server the test starts.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Redis as IORedis } from 'ioredis'
import { RESP_TYPES, createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Engine } from '../lib/engine.js'
import type { RespListener } from '../lib/server/server.js'
import { ensureDist } from './helpers/dist.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'
import { HAS_REDIS_BENCHMARK, HAS_REDIS_CLI, HAS_REDIS_EXPORTER, HAS_REDIS_SERVER, needs } from './helpers/tools.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)

async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

/** `arenakv serve` from dist/, resolved once it prints where it serves. */
async function serve(args: string[], listeners = 1): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [join(root, 'dist/cli/arenakv.js'), 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const kill = (): void => void child.kill('SIGKILL')
  process.once('exit', kill)
  void exited.then(() => process.off('exit', kill))
  const ready = (): boolean => out.split('serving on').length > listeners
  for (let i = 0; i < 400 && !ready() && child.exitCode === null; i++) await sleep(25)
  if (!ready()) throw new Error(`arenakv serve did not start: ${out}`)
  return { child, output: () => out, exited }
}

describe('arenakv serve', () => {
  let dir: string
  beforeAll(async () => {
    await ensureDist()
    dir = mkdtempSync(join(tmpdir(), 'arenakv-serve-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('serves TCP and a Unix socket, and exits cleanly on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const port = await freePort()
      const path = join(dir, `${signal}.sock`)
      const s = await serve(['--port', String(port), '--unixsocket', path, '--maxmemory', '16mb', '--maxmemory-policy', 'allkeys-lru'], 2)
      try {
        expect(s.output()).toContain(`serving on 127.0.0.1:${port} (maxmemory 16mb, allkeys-lru)`)
        expect(s.output()).toContain(`serving on ${path}`)
        expect(existsSync(path)).toBe(true)
      } finally {
        s.child.kill(signal)
      }
      expect(await s.exited).toBe(0)
      expect(s.output()).toContain(`${signal}, shutting down`)
      expect(existsSync(path)).toBe(false)
    }
  })

  test('--maxmemory-accounting resident bounds the resident memory, and says so', async () => {
    const port = await freePort()
    const s = await serve(['--port', String(port), '--maxmemory', '16mb', '--maxmemory-policy', 'allkeys-lru', '--maxmemory-accounting', 'resident'])
    try {
      expect(s.output()).toContain(`serving on 127.0.0.1:${port} (maxmemory 16mb, allkeys-lru, resident accounting)`)
    } finally {
      s.child.kill('SIGTERM')
    }
    expect(await s.exited).toBe(0)
  })

  test('refuses a non-loopback bind without --requirepass, and bad arguments', async () => {
    const bad = (args: string[]): Promise<{ code: number; stderr: string }> =>
      run(process.execPath, [join(root, 'dist/cli/arenakv.js'), 'serve', ...args]).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
      )
    const open = await bad(['--bind', '0.0.0.0', '--port', String(await freePort())])
    expect(open.code).toBe(1)
    expect(open.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without requirepass/)
    expect((await bad(['--port', 'x'])).stderr).toMatch(/a port is an integer/)
    expect((await bad(['--maxmemory-policy', 'lru'])).stderr).toMatch(/Allowed choices are/)
    expect((await bad(['--maxmemory-accounting', 'rss'])).stderr).toMatch(/Allowed choices are allocated, resident/)
    expect((await bad(['--maxmemory', 'lots', '--port', String(await freePort())])).stderr).toMatch(/maxmemory/)
  })
})

describe.skipIf(!HAS_REDIS_CLI || !HAS_REDIS_SERVER)(
  needs(needs('redis-cli against arenakv serve, compared with redis-server', HAS_REDIS_CLI, 'redis-cli', 'redis-tools'), HAS_REDIS_SERVER, 'redis-server', 'redis-server'),
  () => {
    let dir: string
    let s: Awaited<ReturnType<typeof serve>>
    let redis: RedisServer
    let sock: string
    beforeAll(async () => {
      await ensureDist()
      dir = mkdtempSync(join(tmpdir(), 'arenakv-cli-'))
      sock = join(dir, 'a.sock')
      s = await serve(['--port', '0', '--unixsocket', sock, '--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'])
      redis = await startRedisServer(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'])
    })
    afterAll(async () => {
      s?.child.kill('SIGTERM')
      await s?.exited
      await redis?.stop()
      rmSync(dir, { recursive: true, force: true })
    })
    const cli = async (path: string, args: string[], input?: string): Promise<string> => {
      const child = spawn('redis-cli', ['-s', path, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.stderr.on('data', (d: Buffer) => (out += d.toString()))
      // redis-cli with a command on its line never reads stdin and may exit before the pipe is written.
      child.stdin.on('error', () => {})
      child.stdin.end(input)
      await new Promise((resolve) => child.once('exit', resolve))
      return out
    }

    test('info memory, memory doctor, config set maxmemory', async () => {
      const info = await cli(sock, ['info', 'memory'])
      expect(info).toMatch(/^# Memory\r?\nused_memory:\d+/)
      expect(info).toMatch(/maxmemory:67108864/)
      expect(info).toMatch(/maxmemory_policy:allkeys-lru/)
      expect(await cli(sock, ['memory', 'doctor'])).toMatch(/\w/)
      expect((await cli(sock, ['config', 'set', 'maxmemory', '32mb'])).trim()).toBe('OK')
      expect((await cli(sock, ['config', 'get', 'maxmemory'])).trim()).toBe('maxmemory\n33554432')
      expect((await cli(sock, ['config', 'set', 'maxmemory', '64mb'])).trim()).toBe('OK')
    })

    test('the same output as redis-server for a session of commands (RESP2 and RESP3, formatted and raw)', async () => {
      const session = [
        'SET greeting héllo', 'GET greeting', 'SET héllo wörld', 'GET héllo', 'MSET a 1 b 2', 'MGET a b nokey', 'EXISTS a b nokey',
        'EXPIRE a 1000', 'TTL a', 'PERSIST a', 'TTL a', 'GET nokey', 'DEL a b nokey', 'DBSIZE', 'SET k v NX', 'SET k v XX GET',
        'GETEX k', 'GETDEL k', 'OBJECT FREQ greeting', 'CONFIG GET maxmemory-policy', 'SELECT 0', 'PING', 'ECHO "two words"',
        'GET', 'NOSUCH x', 'SET k v EX 0', 'SCAN 0 MATCH gr* COUNT 100', 'SCAN 0 MATCH gr* COUNT 100 TYPE string',
        'INCR n', 'INCRBY n 9223372036854775806', 'INCR n', 'INCRBYFLOAT f 0.1', 'APPEND greeting !', 'GETRANGE greeting 0 2',
        'SETBIT bits 9 1', 'BITCOUNT bits', 'LCS greeting héllo IDX WITHMATCHLEN', 'RENAME greeting g2', 'TYPE g2', 'OBJECT ENCODING n',
        'KEYS g*', 'SET k v GET', 'SETEX k 100 v', 'TTL k', 'COPY g2 g3', 'STRLEN g3', 'FLUSHALL',
      ].join('\n')
      for (const mode of [['--no-raw'], ['--raw'], ['-3', '--no-raw'], ['-3', '--raw']]) {
        await cli(sock, ['FLUSHALL'])
        await cli(redis.path, ['FLUSHALL'])
        const got = await cli(sock, mode, `${session}\n`)
        const want = await cli(redis.path, mode, `${session}\n`)
        expect(got, mode.join(' ')).toBe(want)
      }
    })

    test('inline commands from a plain socket, as telnet users type them', async () => {
      const sock2 = net.connect(sock)
      let out = ''
      sock2.on('data', (d: Buffer) => (out += d.toString()))
      await new Promise((resolve) => sock2.once('connect', resolve))
      sock2.write('SET "a key" "a value"\r\nGET "a key"\r\nQUIT\r\n')
      await new Promise((resolve) => sock2.once('close', resolve))
      expect(out).toBe('+OK\r\n$7\r\na value\r\n+OK\r\n')
    })
  },
)

describe('Redis clients against db.listen', () => {
  let db: Engine
  let listener: RespListener
  beforeAll(async () => {
    db = new Engine({ maxmemory: '64mb', maxmemoryPolicy: 'allkeys-lru' })
    listener = await db.listen({ port: 0 })
  })
  afterAll(() => db?.close())

  for (const RESP of [2, 3] as const) {
    test(`node-redis v5 (RESP${RESP}): connects, reads and writes, scans, introspects`, async () => {
      const client = createClient({ socket: { port: listener.address.port, host: '127.0.0.1' }, RESP })
      client.on('error', () => {})
      await client.connect()
      try {
        expect(await client.set(`nr${RESP}:a`, 'x', { EX: 100 })).toBe('OK')
        expect(await client.get(`nr${RESP}:a`)).toBe('x')
        expect(db.getString(`nr${RESP}:a`)).toBe('x')
        expect(await client.ttl(`nr${RESP}:a`)).toBe(100)
        expect(await client.mSet({ [`nr${RESP}:b`]: '2', [`nr${RESP}:c`]: '3' })).toBe('OK')
        expect(await client.mGet([`nr${RESP}:b`, `nr${RESP}:c`, 'missing'])).toEqual(['2', '3', null])
        expect(await client.exists([`nr${RESP}:a`, `nr${RESP}:b`])).toBe(2)
        const keys: string[] = []
        for await (const page of client.scanIterator({ MATCH: `nr${RESP}:*`, COUNT: 100 })) keys.push(...page)
        expect(keys.sort()).toEqual([`nr${RESP}:a`, `nr${RESP}:b`, `nr${RESP}:c`])
        expect(await client.configGet('maxmemory')).toEqual({ maxmemory: '67108864' })
        expect(await client.memoryUsage(`nr${RESP}:a`)).toBeGreaterThan(0)
        expect(await client.info('memory')).toMatch(/used_memory:\d+/)
        expect(await client.dbSize()).toBe(db.dbsize())
        const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
        await binary.set(`nr${RESP}:bin`, Buffer.from([0, 255, 1]))
        expect(await binary.get(`nr${RESP}:bin`)).toEqual(Buffer.from([0, 255, 1]))
        expect(await client.del([`nr${RESP}:a`, `nr${RESP}:b`, `nr${RESP}:c`, `nr${RESP}:bin`])).toBe(4)
        expect(await client.clientId()).toBeGreaterThan(0)
        expect(await client.incrBy(`nr${RESP}:n`, 41)).toBe(41)
        expect(await client.incr(`nr${RESP}:n`)).toBe(42)
        expect(await client.incrByFloat(`nr${RESP}:n`, 0.5)).toBe('42.5')
        expect(await client.append(`nr${RESP}:n`, '!')).toBe(5)
        expect(await client.getRange(`nr${RESP}:n`, 0, 1)).toBe('42')
        expect(await client.type(`nr${RESP}:n`)).toBe('string')
        expect(await client.rename(`nr${RESP}:n`, `nr${RESP}:m`)).toBe('OK')
        expect(await client.objectEncoding(`nr${RESP}:m`)).toBe('embstr')
        expect(await client.lcs(`nr${RESP}:m`, `nr${RESP}:m`)).toBe('42.5!')
        expect(await client.del(`nr${RESP}:m`)).toBe(1)
      } finally {
        await client.close()
      }
    })
  }

  test('ioredis: ready check (INFO), pipelines, buffers, scan streams', async () => {
    const client = new IORedis({ port: listener.address.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 })
    await client.connect()
    try {
      const results = await client.pipeline().set('io:a', '1').set('io:b', '2', 'PX', 100_000).get('io:a').pttl('io:b').exec()
      expect(results!.map(([err]) => err)).toEqual([null, null, null, null])
      expect(results![2][1]).toBe('1')
      expect(results![3][1] as number).toBeGreaterThan(99_000)
      await client.set(Buffer.from([0x69, 0x6f, 0xff]), Buffer.from([1, 2, 3]))
      expect(await client.getBuffer(Buffer.from([0x69, 0x6f, 0xff]))).toEqual(Buffer.from([1, 2, 3]))
      expect(db.get('io\udcff')).toEqual(Buffer.from([1, 2, 3]))
      const seen: string[] = []
      await new Promise<void>((resolve, reject) => {
        client.scanStream({ match: 'io:*', count: 100 }).on('data', (keys: string[]) => seen.push(...keys)).on('end', resolve).on('error', reject)
      })
      expect(seen.sort()).toEqual(['io:a', 'io:b'])
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru'])
      expect(await client.call('MEMORY', 'USAGE', 'io:a')).toBeGreaterThan(0)
      const counted = await client.pipeline().incr('io:n').incrby('io:n', 10).decr('io:n').setbit('io:bits', 3, 1).bitcount('io:bits').exec()
      expect(counted!.map(([, v]) => v)).toEqual([1, 11, 10, 0, 1])
      expect(await client.copy('io:n', 'io:n2')).toBe(1)
      expect(await client.get('io:n2')).toBe('10')
      expect(await client.setnx('io:n2', 'x')).toBe(0)
      expect(await client.keys('io:n*')).toHaveLength(2)
      expect(await client.unlink('io:a', 'io:b', 'io:n', 'io:n2', 'io:bits')).toBe(5)
    } finally {
      client.disconnect()
    }
  })
})

describe.skipIf(!HAS_REDIS_BENCHMARK)(needs('redis-benchmark against arenakv serve', HAS_REDIS_BENCHMARK, 'redis-benchmark', 'redis-tools'), () => {
  test('set,get,incr with and without pipelining runs clean', async () => {
    await ensureDist()
    const dir = mkdtempSync(join(tmpdir(), 'arenakv-bench-'))
    const sock = join(dir, 'a.sock')
    const s = await serve(['--port', '0', '--unixsocket', sock, '--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'])
    try {
      for (const pipeline of ['1', '16']) {
        const { stdout, stderr } = await run('redis-benchmark', ['-s', sock, '-t', 'set,get,incr', '-P', pipeline, '-n', '2000', '-r', '1000', '--csv'])
        expect(stderr).toBe('')
        const rows = stdout.trim().split('\n').slice(1).map((l) => l.split(',').map((x) => x.replace(/"/g, '')))
        expect(rows.map((r) => r[0])).toEqual(['SET', 'GET', 'INCR'])
        for (const r of rows) expect(Number(r[1])).toBeGreaterThan(0)
      }
      // redis-benchmark's INCR counts on random counter:* keys (-r): every increment of both runs landed.
      const counters = (await run('redis-cli', ['-s', sock, '--raw', 'keys', 'counter:*'])).stdout.trim().split('\n')
      const values = (await run('redis-cli', ['-s', sock, '--raw', 'mget', ...counters])).stdout.trim().split('\n')
      expect(values.reduce((sum, v) => sum + Number(v), 0)).toBe(4000)
      const info = await run('redis-cli', ['-s', sock, 'info', 'stats'])
      expect(info.stdout).toMatch(/keyspace_hits:[1-9]/)
    } finally {
      s.child.kill('SIGTERM')
      expect(await s.exited).toBe(0)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(!HAS_REDIS_BENCHMARK || !HAS_REDIS_SERVER)(
  needs(needs('arenakv bench serve --scale tiny', HAS_REDIS_BENCHMARK, 'redis-benchmark', 'redis-tools'), HAS_REDIS_SERVER, 'redis-server', 'redis-server'),
  () => {
    test('measures SET, GET and INCR with and without pipelining on both servers, and their RSS growth', async () => {
      await ensureDist()
      const out = mkdtempSync(join(tmpdir(), 'arenakv-serve-bench-'))
      try {
        const { stdout } = await run(process.execPath, [join(root, 'dist/cli/arenakv.js'), 'bench', 'serve', '--scale', 'tiny', '--out', out], {
          timeout: 240_000,
          maxBuffer: 1 << 22,
        })
        expect(stdout).toMatch(/SET at -P 1: [\d.]+ × redis-server/)
        expect(stdout).toMatch(/GET at -P 16: [\d.]+ × redis-server/)
        type Run = { opsPerSec: Record<string, number>; rssGrowth: number }
        const j = JSON.parse(readFileSync(join(out, 'serve.json'), 'utf8')) as { results: Record<string, Run> }
        for (const peer of ['arenakv', 'redis-server']) {
          for (const key of ['set -P 1', 'get -P 1', 'incr -P 1', 'set -P 16', 'get -P 16', 'incr -P 16']) expect(j.results[peer].opsPerSec[key], `${peer} ${key}`).toBeGreaterThan(0)
          expect(Number.isFinite(j.results[peer].rssGrowth)).toBe(true)
        }
      } finally {
        rmSync(out, { recursive: true, force: true })
      }
    }, 300_000)
  },
)

describe.skipIf(!HAS_REDIS_EXPORTER)(
  needs('Prometheus redis_exporter scrapes arenakv serve', HAS_REDIS_EXPORTER, 'prometheus-redis-exporter', 'prometheus-redis-exporter'),
  () => {
    test('redis_memory_used_bytes, redis_memory_max_bytes, redis_evicted_keys_total, redis_mem_fragmentation_ratio', async () => {
      await ensureDist()
      const dir = mkdtempSync(join(tmpdir(), 'arenakv-exporter-'))
      const sock = join(dir, 'a.sock')
      const s = await serve(['--port', '0', '--unixsocket', sock, '--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru'])
      const port = await freePort()
      const exporter = spawn('prometheus-redis-exporter', ['-redis.addr', `unix://${sock}`, '-web.listen-address', `127.0.0.1:${port}`], { stdio: 'ignore' })
      const kill = (): void => void exporter.kill('SIGKILL')
      process.once('exit', kill)
      try {
        // Fill past maxmemory so that keys are evicted.
        const c = new IORedis({ path: sock, lazyConnect: true })
        await c.connect()
        const value = 'x'.repeat(10_000)
        const p = c.pipeline()
        for (let i = 0; i < 1000; i++) p.set(`k${i}`, value)
        await p.exec()
        const info = await c.info('all')
        c.disconnect()
        const field = (name: string): number => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)![1])
        expect(field('evicted_keys')).toBeGreaterThan(0)
        let metrics = ''
        for (let i = 0; i < 200 && !metrics.includes('redis_up 1'); i++) {
          await sleep(50)
          metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '')
        }
        const metric = (name: string): number => {
          const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)
          expect(m, name).not.toBeNull()
          return Number(m![1])
        }
        expect(metric('redis_up')).toBe(1)
        expect(metric('redis_memory_max_bytes')).toBe(4 * 1024 * 1024)
        expect(metric('redis_memory_used_bytes')).toBeGreaterThan(0)
        expect(metric('redis_memory_used_bytes')).toBeLessThanOrEqual(4 * 1024 * 1024)
        expect(metric('redis_evicted_keys_total')).toBeGreaterThanOrEqual(field('evicted_keys'))
        expect(metric('redis_mem_fragmentation_ratio')).toBeGreaterThan(0)
      } finally {
        exporter.kill('SIGTERM')
        process.off('exit', kill)
        s.child.kill('SIGTERM')
        await s.exited
        rmSync(dir, { recursive: true, force: true })
      }
    })
  },
)
