// redis-server processes the near-cache tests start, kill and restart on a fixed address: a Unix socket or a
// loopback TCP port in a temp directory, persistence off. Every process is killed by stop() or when the test
// process exits; stopCluster() stops all three nodes of a cluster.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { runOk } from './run.js'

export interface RedisNode {
  /** Unix socket path (standalone) or undefined. */
  readonly path: string | undefined
  /** Loopback TCP port, or 0 for a socket-only node. */
  readonly port: number
  /** SIGKILL (no shutdown, no save), then start again on the same address with an empty dataset. */
  restart(): Promise<void>
  kill(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL')
})

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/** A loopback port that is free, as is port + 10000 (the cluster bus), tried from a random start, bounded. */
export async function freePort(): Promise<number> {
  const base = 20000 + Math.floor(Math.random() * 9000)
  for (let i = 0; i < 500; i++) {
    const port = base + ((i * 7) % 9000)
    if ((await canBind(port)) && (await canBind(port + 10000))) return port
  }
  throw new Error('no free loopback port pair found')
}

async function waitFor(test: () => boolean | Promise<boolean>, what: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await test()) return
    if (child.exitCode !== null) break
    await sleep(25)
  }
  throw new Error(`redis-server did not ${what}: ${stderr()}`)
}

export async function startRedisNode(opts: { socket?: boolean; cluster?: boolean; args?: string[] } = {}): Promise<RedisNode> {
  const dir = mkdtempSync(join(tmpdir(), 'arenakv-nearcache-'))
  const path = opts.socket ? join(dir, 'redis.sock') : undefined
  const port = opts.socket ? 0 : await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  if (path) args.push('--unixsocket', path, '--unixsocketperm', '700')
  if (opts.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '5000')
  args.push(...(opts.args ?? []))
  let child: ChildProcess | undefined
  let stderr = ''
  const ping = async (): Promise<boolean> => {
    if (path) return existsSync(path)
    return !(await canBind(port))
  }
  const node: RedisNode = {
    path,
    port,
    async start() {
      if (path) rmSync(path, { force: true })
      // A restarted cluster node would reload nodes.conf; the tests never restart cluster nodes.
      const c = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] })
      child = c
      live.add(c)
      c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
      c.once('exit', () => live.delete(c))
      await waitFor(ping, 'start', c, () => stderr)
    },
    async kill() {
      const c = child
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
      const exited = new Promise((resolve) => c.once('exit', resolve))
      c.kill('SIGKILL')
      await exited
    },
    async restart() {
      await node.kill()
      await node.start()
    },
    async stop() {
      await node.kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    await node.start()
  } catch (err) {
    await node.stop()
    throw err
  }
  return node
}

export interface RedisCluster {
  nodes: RedisNode[]
  stop(): Promise<void>
}

/** Three masters on loopback, slots spread by redis-cli --cluster create, no replicas. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: RedisNode[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()))
  }
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startRedisNode({ cluster: true }))
    await runOk('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 60_000,
    })
    // Every node must see the whole slot map before clients discover it.
    for (let i = 0; i < 400; i++) {
      const states = await Promise.all(nodes.map((n) => runOk('redis-cli', ['-p', String(n.port), 'cluster', 'info'], { timeout: 10_000 })))
      if (states.every((s) => /cluster_state:ok/.test(s) && /cluster_slots_ok:16384/.test(s))) return { nodes, stop }
      await sleep(50)
    }
    throw new Error('cluster did not reach cluster_state:ok')
  } catch (err) {
    await stop()
    throw err
  }
}
