import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, readFileSync, statSync } from 'node:fs'
import net from 'node:net'
import { delimiter, join } from 'node:path'

// redis-server from Debian as a peer: started on 127.0.0.1 on a free port with persistence off, driven by a
// minimal pipelined RESP client, and always stopped (on stop(), on errors, and on process exit).

/** The redis-server on PATH (Debian's package puts it in /usr/bin), or null when there is none. */
export function redisServerPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const file = join(dir, 'redis-server')
    try {
      accessSync(file, constants.X_OK)
      if (statSync(file).isFile()) return file
    } catch {
      // not in this directory
    }
  }
  return null
}

export type Reply = string | number | null | Error | Reply[]

export function redisServerVersion(): string | null {
  const server = redisServerPath()
  if (server === null) return null
  try {
    const out = execFileSync(server, ['--version'], { encoding: 'utf8' })
    const v = /v=(\S+)/.exec(out)?.[1]
    const malloc = /malloc=(\S+)/.exec(out)?.[1]
    return v === undefined ? out.trim() : `${v}${malloc === undefined ? '' : ` (${malloc})`}`
  } catch {
    return null
  }
}

function encode(args: readonly (string | number)[]): string {
  let s = `*${args.length}\r\n`
  for (const a of args) {
    const v = String(a)
    s += `$${Buffer.byteLength(v)}\r\n${v}\r\n`
  }
  return s
}

/** Incremental RESP2 parser: returns complete replies and keeps any partial tail for the next chunk. */
export class ReplyParser {
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0

  push(chunk: Buffer): Reply[] {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk
    this.pos = 0
    const out: Reply[] = []
    for (;;) {
      const start = this.pos
      const r = this.parse()
      if (r === undefined) {
        this.pos = start
        break
      }
      out.push(r)
    }
    return out
  }

  private line(): string | undefined {
    const end = this.buf.indexOf('\r\n', this.pos, 'latin1')
    if (end < 0) return undefined
    const s = this.buf.toString('latin1', this.pos, end)
    this.pos = end + 2
    return s
  }

  private parse(): Reply | undefined {
    if (this.pos >= this.buf.length) return undefined
    const type = String.fromCharCode(this.buf[this.pos])
    this.pos++
    const head = this.line()
    if (head === undefined) return undefined
    switch (type) {
      case '+':
        return head
      case '-':
        return new Error(head)
      case ':':
        return Number(head)
      case '$': {
        const len = Number(head)
        if (len < 0) return null
        if (this.pos + len + 2 > this.buf.length) return undefined
        const s = this.buf.toString('utf8', this.pos, this.pos + len)
        this.pos += len + 2
        return s
      }
      case '*': {
        const n = Number(head)
        if (n < 0) return null
        const items: Reply[] = []
        for (let i = 0; i < n; i++) {
          const item = this.parse()
          if (item === undefined) return undefined
          items.push(item)
        }
        return items
      }
      default:
        throw new Error(`RESP: unexpected type byte '${type}'`)
    }
  }
}

/** A RESP client over one loopback socket; `pipeline` writes a batch of commands and awaits every reply. */
export class RedisClient {
  private readonly parser = new ReplyParser()
  private waiting: { resolve: (r: Reply) => void }[] = []
  private head = 0
  private failure: Error | null = null

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const r of this.parser.push(chunk)) {
        const w = this.waiting[this.head++]
        if (w !== undefined) w.resolve(r)
      }
      if (this.head === this.waiting.length) {
        this.waiting = []
        this.head = 0
      }
    })
    const fail = (err: Error): void => {
      this.failure = err
      for (let i = this.head; i < this.waiting.length; i++) this.waiting[i].resolve(err)
      this.waiting = []
      this.head = 0
    }
    socket.on('error', fail)
    socket.on('close', () => fail(new Error('redis connection closed')))
  }

  static connect(port: number): Promise<RedisClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port })
      socket.setNoDelay(true)
      socket.once('connect', () => {
        socket.removeListener('error', reject)
        resolve(new RedisClient(socket))
      })
      socket.once('error', reject)
    })
  }

  /** Sends every command in one write and resolves with their replies in order (errors are Error values). */
  pipeline(commands: readonly (readonly (string | number)[])[]): Promise<Reply[]> {
    if (this.failure !== null) return Promise.reject(this.failure)
    const replies = commands.map(
      () => new Promise<Reply>((resolve) => this.waiting.push({ resolve })),
    )
    this.socket.write(commands.map(encode).join(''))
    return Promise.all(replies)
  }

  async call(...args: (string | number)[]): Promise<Reply> {
    const [r] = await this.pipeline([args])
    if (r instanceof Error) throw r
    return r
  }

  /** INFO <section> as numbers where a field is numeric. */
  async info(section: string): Promise<Record<string, string | number>> {
    const text = await this.call('INFO', section)
    if (typeof text !== 'string') throw new Error('INFO: unexpected reply')
    const out: Record<string, string | number> = {}
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':')
      if (i <= 0 || line.startsWith('#')) continue
      const v = line.slice(i + 1)
      out[line.slice(0, i)] = v !== '' && Number.isFinite(Number(v)) ? Number(v) : v
    }
    return out
  }

  close(): void {
    this.socket.destroy()
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

let cachedPageSize = 0
function pageSize(): number {
  if (cachedPageSize === 0) cachedPageSize = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096
  return cachedPageSize
}

const running = new Set<ChildProcess>()
let exitHook = false

export interface RedisServerOptions {
  maxmemory: number
  policy: string
  /** Further `--name value` pairs (e.g. maxmemory-samples). */
  extra?: Record<string, string | number>
}

/** A redis-server child on 127.0.0.1 and a client connected to it. */
export class RedisServer {
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
    readonly client: RedisClient,
  ) {}

  static async start(options: RedisServerOptions): Promise<RedisServer> {
    const server = redisServerPath()
    if (server === null) throw new Error('redis-server is not installed (apt-get install redis-server)')
    if (!exitHook) {
      exitHook = true
      process.on('exit', () => {
        for (const p of running) p.kill('SIGKILL')
      })
    }
    const port = await freePort()
    const args = [
      '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no',
      '--maxmemory', String(options.maxmemory), '--maxmemory-policy', options.policy,
      '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning',
    ]
    for (const [k, v] of Object.entries(options.extra ?? {})) args.push(`--${k}`, String(v))
    const proc = spawn(server, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    running.add(proc)
    let stderr = ''
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)))
    // Bounded wait for the port: 100 attempts, 50 ms apart.
    for (let attempt = 0; attempt < 100; attempt++) {
      if (proc.exitCode !== null) break
      try {
        const client = await RedisClient.connect(port)
        if ((await client.call('PING')) === 'PONG') return new RedisServer(proc, port, client)
        client.close()
      } catch {
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    proc.kill('SIGKILL')
    running.delete(proc)
    throw new Error(`redis-server did not start on 127.0.0.1:${port}\n${stderr}`)
  }

  /**
   * The server's RSS now, from /proc/<pid>/statm (INFO's used_memory_rss is sampled by serverCron and can lag a
   * fast fill by up to 100 ms).
   */
  rss(): number {
    const pid = this.proc.pid
    if (pid === undefined) throw new Error('redis-server has no pid')
    const resident = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1])
    return resident * pageSize()
  }

  async stop(): Promise<void> {
    this.client.close()
    if (this.proc.exitCode === null) {
      const exited = new Promise<void>((r) => this.proc.once('exit', () => r()))
      this.proc.kill('SIGTERM')
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    running.delete(this.proc)
  }
}

/** Runs `fn` with a fresh redis-server and always stops it afterwards. */
export async function withRedis<T>(options: RedisServerOptions, fn: (server: RedisServer) => Promise<T>): Promise<T> {
  const server = await RedisServer.start(options)
  try {
    return await fn(server)
  } finally {
    await server.stop()
  }
}

/**
 * Sends `count` commands built by `command(i)` in pipelined batches (bounded: one batch in flight), failing on
 * the first error reply. `onBatch` sees the number sent so far.
 */
export async function pipelined(
  client: RedisClient,
  count: number,
  command: (i: number) => (string | number)[],
  onBatch: (done: number) => void = () => {},
  batch = 1000,
): Promise<void> {
  for (let start = 0; start < count; start += batch) {
    const cmds: (string | number)[][] = []
    for (let i = start; i < Math.min(count, start + batch); i++) cmds.push(command(i))
    const replies = await client.pipeline(cmds)
    const err = replies.find((r) => r instanceof Error)
    if (err instanceof Error) throw new Error(`redis: ${err.message}`)
    onBatch(Math.min(count, start + batch))
  }
}
