// The RESP endpoint's listener: TCP on a loopback address or a Unix socket (mode 0600), its clients and their
// limits, and its lifetime, which ends with the engine's. ARCHITECTURE.md "The RESP endpoint".
import { chmodSync, lstatSync, unlinkSync } from 'node:fs'
import net from 'node:net'
import type { Engine } from '../engine.js'
import { parseMemory } from '../config.js'
import type { ClientView } from './commands.js'
import { Connection, type ConnectionHost, type OutputBufferLimit } from './connection.js'
import { RespWriter } from './resp-writer.js'
import { READ_BUFFER_BYTES } from './socket-reader.js'

export type { OutputBufferLimit } from './connection.js'

/** Sizes as the engine's options take them: bytes, or '64mb'-style strings. */
export type Size = number | string

export interface ListenOptions {
  /** TCP port (0 picks a free one); with `host`. Either this or `path`. */
  port?: number
  /** The address to bind: 127.0.0.1 by default. Anything but a loopback address needs `requirepass`. */
  host?: string
  /** A Unix socket path (created with mode 0600; a stale socket there is replaced). */
  path?: string
  /** Redis's requirepass: clients must AUTH (or HELLO … AUTH) before any other command. */
  requirepass?: string
  /**
   * Redis's client-output-buffer-limit for normal clients: a client whose pending replies pass `hard` bytes, or
   * stay over `soft` for `softSeconds`, is dropped. Default hard 256 MB, soft 64 MB for 60 s (Redis leaves
   * normal clients unbounded; an embedded engine shares its process, so the endpoint bounds them). 0 disables
   * a limit.
   */
  clientOutputBufferLimit?: { hard?: Size; soft?: Size; softSeconds?: number }
  /** Redis's maxclients: connections past it get 'ERR max number of clients reached' (default 10000). */
  maxclients?: number
}

/** Where a listener is bound. */
export type ListenAddress = { host: string; port: number; path?: undefined } | { path: string; host?: undefined; port?: undefined }

/** A running RESP endpoint. */
export interface RespListener {
  readonly address: ListenAddress
  /** Connected clients. */
  readonly clientCount: number
  /** Stops accepting, drops every client, and resolves once the socket is closed. */
  close(): Promise<void>
}

const DEFAULT_LIMIT: OutputBufferLimit = { hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, softSeconds: 60 }

/** Whether binding `host` keeps the endpoint on this machine. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h)
}

function sizeOption(name: string, value: Size | undefined, fallback: number): number {
  if (value === undefined) return fallback
  try {
    return parseMemory(value)
  } catch (error) {
    throw new RangeError(`clientOutputBufferLimit.${name}: ${(error as Error).message}`)
  }
}

function checkOptions(options: unknown): asserts options is ListenOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('listen options must be an object')
  const o = options as Record<string, unknown>
  const known = new Set(['port', 'host', 'path', 'requirepass', 'clientOutputBufferLimit', 'maxclients'])
  for (const k of Object.keys(o)) if (!known.has(k)) throw new TypeError(`unknown listen option '${k}'`)
  if (o.path !== undefined) {
    if (typeof o.path !== 'string' || o.path === '') throw new TypeError('path must be a non-empty string')
    if (o.port !== undefined || o.host !== undefined) throw new TypeError('give either path or port/host, not both')
  } else {
    if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
      throw new RangeError('port must be an integer from 0 to 65535 (or give path for a Unix socket)')
    }
    if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) throw new TypeError('host must be a non-empty string')
  }
  if (o.requirepass !== undefined && (typeof o.requirepass !== 'string' || o.requirepass === '')) {
    throw new TypeError('requirepass must be a non-empty string')
  }
  if (o.maxclients !== undefined && (typeof o.maxclients !== 'number' || !Number.isInteger(o.maxclients) || o.maxclients < 1)) {
    throw new RangeError('maxclients must be a positive integer')
  }
  const limit = o.clientOutputBufferLimit
  if (limit !== undefined) {
    if (typeof limit !== 'object' || limit === null) throw new TypeError('clientOutputBufferLimit must be an object')
    const s = (limit as { softSeconds?: unknown }).softSeconds
    if (s !== undefined && (typeof s !== 'number' || !Number.isInteger(s) || s < 0)) throw new RangeError('softSeconds must be a whole number ≥ 0')
  }
}

/** Removes a stale Unix socket at `path` (Redis does the same); anything else there is left alone and refused. */
function clearStaleSocket(path: string): void {
  let stat
  try {
    stat = lstatSync(path)
  } catch {
    return
  }
  if (!stat.isSocket()) throw new Error(`cannot listen on ${path}: the path exists and is not a socket`)
  unlinkSync(path)
}

class Listener implements ConnectionHost, RespListener {
  readonly writer = new RespWriter()
  readonly readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)
  readonly outputLimit: OutputBufferLimit
  readonly requirepass: string | undefined
  readonly unixPath: string | undefined
  readonly maxclients: number
  address!: ListenAddress
  private readonly clientSet = new Set<Connection>()
  private nextId = 1
  private closing: Promise<void> | null = null

  constructor(
    readonly engine: Engine,
    options: ListenOptions,
    readonly server: net.Server,
    private readonly unregister: () => void,
  ) {
    this.requirepass = options.requirepass
    this.unixPath = options.path
    this.maxclients = options.maxclients ?? 10000
    this.writer.borrowed = this.readBuffer.buffer
    const l = options.clientOutputBufferLimit ?? {}
    this.outputLimit = {
      hard: sizeOption('hard', l.hard, DEFAULT_LIMIT.hard),
      soft: sizeOption('soft', l.soft, DEFAULT_LIMIT.soft),
      softSeconds: l.softSeconds ?? DEFAULT_LIMIT.softSeconds,
    }
    server.on('connection', (socket) => this.accept(socket))
  }

  get clientCount(): number {
    return this.clientSet.size
  }

  clients(): Iterable<ClientView> {
    return this.clientSet
  }

  remove(client: Connection): void {
    this.clientSet.delete(client)
  }

  private accept(socket: net.Socket): void {
    if (this.closing !== null) {
      socket.destroy()
      return
    }
    if (this.clientSet.size >= this.maxclients) {
      socket.resume()
      socket.end('-ERR max number of clients reached\r\n')
      return
    }
    this.clientSet.add(new Connection(this.nextId++, socket, this))
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing
    this.unregister()
    this.closing = new Promise<void>((resolve) => {
      this.server.close(() => {
        if (this.unixPath !== undefined) {
          try {
            unlinkSync(this.unixPath)
          } catch {
            // already gone
          }
        }
        resolve()
      })
    })
    for (const c of [...this.clientSet]) c.close()
    return this.closing
  }
}

/**
 * Serves `engine` over RESP on TCP or a Unix socket (Engine.listen calls this). `register` ties the listener
 * to the engine's lifetime: it returns the function that unties it.
 */
export async function listen(engine: Engine, options: ListenOptions, register: (close: () => Promise<void>) => () => void): Promise<RespListener> {
  checkOptions(options)
  const host = options.host ?? '127.0.0.1'
  if (options.path === undefined && !isLoopback(host) && options.requirepass === undefined) {
    throw new RangeError(
      `refusing to listen on ${host} without requirepass: anyone who can reach it could read and change every key. ` +
        'Bind a loopback address (127.0.0.1, ::1) or a Unix socket, or set requirepass.',
    )
  }
  if (options.path !== undefined) clearStaleSocket(options.path)
  // Accepted sockets start paused: socket-reader.ts takes their handle before anything is read.
  const server = net.createServer({ noDelay: true, pauseOnConnect: true })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (options.path !== undefined) server.listen({ path: options.path, readableAll: false, writableAll: false }, resolve)
    else server.listen({ port: options.port, host }, resolve)
  })
  if (options.path !== undefined) chmodSync(options.path, 0o600)
  let unregister: () => void = () => {}
  const listener = new Listener(engine, options, server, () => unregister())
  unregister = register(() => listener.close())
  const bound = server.address()
  listener.address =
    options.path !== undefined ? { path: options.path } : { host: (bound as net.AddressInfo).address, port: (bound as net.AddressInfo).port }
  server.on('error', () => {
    // Errors after listening (EMFILE on accept) are not fatal to the engine.
  })
  return listener
}
