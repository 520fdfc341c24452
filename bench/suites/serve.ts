import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Cell } from '../output.js'
import { missingPeerNote } from '../peers.js'
import { RedisServer } from '../redis.js'
import type { Scale, Suite, SuiteContext } from '../suite.js'

// The RESP endpoint under redis-benchmark: `arenakv serve` and redis-server with the same maxmemory and policy,
// SET, GET and INCR with and without pipelining (-P 16), and each server's RSS growth over the run ÷ maxmemory.
// arenakv runs with `maxmemoryAccounting: 'resident'` (ARCHITECTURE.md "Memory"): the bound is then on what the
// engine holds resident, fragmentation included, which is what an RSS goal measures; redis-server has only its
// used_memory accounting.

const run = promisify(execFile)
const MB = 1 << 20
/** The commands measured (redis-benchmark's INCR increments one counter key from every connection). */
const TESTS = ['set', 'get', 'incr'] as const
const PIPELINES = [1, 16] as const
const PLAN: Record<Scale, { maxmemory: number; requests: number; keyspace: number; valueBytes: number }> = {
  tiny: { maxmemory: 4 * MB, requests: 20_000, keyspace: 50_000, valueBytes: 100 },
  small: { maxmemory: 16 * MB, requests: 200_000, keyspace: 300_000, valueBytes: 100 },
  full: { maxmemory: 64 * MB, requests: 1_000_000, keyspace: 1_000_000, valueBytes: 100 },
}
/** Goals: ops/s ≥ 0.5 × redis-server's without pipelining, ≥ 0.8 × at -P 16. */
const GOALS: Record<(typeof PIPELINES)[number], number> = { 1: 0.5, 16: 0.8 }

async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

function rssOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096
}

/** `arenakv serve` from this checkout's dist/ on a loopback port, stopped by stop(). */
async function startServe(maxmemory: number): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const port = await freePort()
  const cli = fileURLToPath(new URL('../../cli/arenakv.js', import.meta.url))
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, 'serve', '--port', String(port), '--maxmemory', String(maxmemory), '--maxmemory-policy', 'allkeys-lru', '--maxmemory-accounting', 'resident'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const kill = (): void => void child.kill('SIGKILL')
  process.once('exit', kill)
  // Bounded wait for its "serving on" line: 200 × 25 ms.
  for (let i = 0; i < 200 && !out.includes('serving on') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25))
  if (!out.includes('serving on') || child.pid === undefined) {
    kill()
    throw new Error(`arenakv serve did not start: ${out}`)
  }
  return {
    port,
    pid: child.pid,
    stop: async () => {
      process.off('exit', kill)
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
    },
  }
}

/** ops/s per command from one redis-benchmark run (its --csv output). */
async function benchmark(port: number, pipeline: number, p: (typeof PLAN)[Scale]): Promise<Record<string, number>> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', TESTS.join(','), '-P', String(pipeline), '-n', String(p.requests)]
  args.push('-r', String(p.keyspace), '-d', String(p.valueBytes), '-c', '50', '--csv')
  const { stdout } = await run('redis-benchmark', args, { maxBuffer: 1 << 20, timeout: 600_000 })
  const out: Record<string, number> = {}
  for (const line of stdout.trim().split('\n').slice(1)) {
    const [name, rps] = line.split(',').map((x) => x.replace(/"/g, ''))
    out[name.toLowerCase()] = Number(rps)
  }
  return out
}

/**
 * Warm-up before the RSS baseline, the same for both servers: a short run of the same commands, then FLUSHALL,
 * so the growth measured is what the data holds rather than what a cold process spends once (V8 compiling the
 * command path, the kernel faulting in code pages).
 */
async function warmUp(port: number, p: (typeof PLAN)[Scale]): Promise<void> {
  await benchmark(port, 16, { ...p, requests: Math.max(1000, Math.floor(p.requests / 10)) })
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('*1\r\n$8\r\nFLUSHALL\r\n'))
    socket.once('data', (d: Buffer) => {
      socket.destroy()
      if (d.toString().startsWith('+OK')) resolve()
      else reject(new Error(`FLUSHALL: ${d.toString()}`))
    })
    socket.once('error', reject)
  })
}

interface PeerRun {
  opsPerSec: Record<string, number>
  rssGrowth: number
}

export const serveSuite: Suite = {
  name: 'serve',
  title: 'The RESP endpoint under redis-benchmark, beside redis-server',
  description: 'arenakv serve vs redis-server (same maxmemory): SET/GET ops/s with and without -P 16, RSS growth ÷ maxmemory',
  async run(ctx: SuiteContext) {
    const p = PLAN[ctx.scale]
    const build = ctx.allocators[0]
    const notes: string[] = []
    const hasBenchmark = await ctx.peer('redis-benchmark')
    const hasRedis = await ctx.peer('redis-server')
    if (!hasBenchmark) notes.push(missingPeerNote('redis-benchmark'))
    if (!hasRedis) notes.push(missingPeerNote('redis-server'))
    const results: Record<string, PeerRun> = {}
    if (hasBenchmark) {
      // Both servers up at once, measured in alternation (best of two runs each), so that a burst of load from
      // elsewhere on the machine does not land on one peer only.
      const s = await startServe(p.maxmemory)
      const server = hasRedis ? await RedisServer.start({ maxmemory: p.maxmemory, policy: 'allkeys-lru' }) : null
      try {
        const peers: { name: string; port: number; rss: () => number }[] = [{ name: 'arenakv', port: s.port, rss: () => rssOf(s.pid) }]
        if (server !== null) peers.push({ name: 'redis-server', port: server.port, rss: () => server.rss() })
        const before = new Map<string, number>()
        for (const peer of peers) {
          await warmUp(peer.port, p)
          before.set(peer.name, peer.rss())
          results[peer.name] = { opsPerSec: {}, rssGrowth: 0 }
        }
        for (const pipeline of PIPELINES) {
          for (let rep = 0; rep < 2; rep++) {
            for (const peer of peers) {
              ctx.log(`  [${peer.name}] -P ${pipeline}, run ${rep + 1} of 2`)
              const ops = results[peer.name].opsPerSec
              for (const [name, v] of Object.entries(await benchmark(peer.port, pipeline, p))) {
                const key = `${name} -P ${pipeline}`
                ops[key] = Math.max(ops[key] ?? 0, v)
              }
            }
          }
        }
        for (const peer of peers) results[peer.name].rssGrowth = peer.rss() - before.get(peer.name)!
      } finally {
        await s.stop()
        await server?.stop()
      }
    }
    const a = results.arenakv
    const r = results['redis-server']
    const rows: Cell[][] = []
    for (const pipeline of PIPELINES) {
      for (const test of TESTS) {
        const key = `${test} -P ${pipeline}`
        const ours = a?.opsPerSec[key] ?? null
        const theirs = r?.opsPerSec[key] ?? null
        const ratio = ours !== null && theirs !== null && theirs > 0 ? ours / theirs : null
        rows.push([test.toUpperCase(), pipeline, ours, theirs, ratio, GOALS[pipeline]])
        if (ratio !== null) {
          notes.push(
            `${test.toUpperCase()} at -P ${pipeline}: ${ratio.toFixed(2)} × redis-server (goal ≥ ${GOALS[pipeline]}: ${ratio >= GOALS[pipeline] ? 'met' : 'not met'}).`,
          )
        }
      }
    }
    const rssRows: Cell[][] = Object.entries(results).map(([peer, x]) => [peer, x.rssGrowth / MB, x.rssGrowth / p.maxmemory])
    for (const [peer, x] of Object.entries(results)) notes.push(`RSS growth ÷ maxmemory, ${peer}: ${(x.rssGrowth / p.maxmemory).toFixed(2)}.`)
    notes.push(
      'Both servers run on this machine beside redis-benchmark (50 connections, random keys), measured in alternation, ' +
        'best of two runs each; ops/s on a shared machine are noisy, compare ratios from the same run.',
      "arenakv serve runs with --maxmemory-accounting resident; RSS growth is each process's RSS at the end less its RSS " +
        'after a warm-up of the same commands and FLUSHALL, so what one-time start-up costs (code, the JIT, a warm heap) is not counted.',
    )
    return {
      suite: 'serve',
      title: this.title,
      allocators: [await ctx.allocatorEnv(build)],
      tables: [
        {
          title: `redis-benchmark -n ${p.requests.toLocaleString('en-US')} -r ${p.keyspace.toLocaleString('en-US')} -d ${p.valueBytes}, maxmemory ${p.maxmemory / MB} MB allkeys-lru (arenakv: resident accounting)`,
          columns: ['command', 'pipeline', 'arenakv serve ops/s', 'redis-server ops/s', 'ratio', 'goal'],
          rows,
        },
        { title: 'RSS growth over the run', columns: ['peer', 'RSS growth, MB', '÷ maxmemory'], rows: rssRows },
      ],
      charts: [],
      notes,
      data: { plan: p, results },
    }
  },
}
