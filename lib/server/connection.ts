// One client of the RESP endpoint (Redis's client struct and readQueryFromClient / processInputBuffer in
// networking.c): requests are parsed as bytes arrive, run one at a time to completion, and the batch's replies
// leave in one write. Output past the client-output-buffer-limit drops the client, never the server.
import type { Socket } from 'node:net'
import type { Engine } from '../engine.js'
import { dispatch, type ClientView, type CommandContext, type ServerView } from './commands.js'
import { matchFast, runFast } from './fast-path.js'
import { errorReplyText } from './reply-error.js'
import { readingSocket } from './socket-reader.js'
import { ProtocolError, RespParser } from './resp-parser.js'
import type { RespWriter } from './resp-writer.js'

/** Redis's client-output-buffer-limit for one client class: hard bytes, soft bytes held for softSeconds. */
export interface OutputBufferLimit {
  hard: number
  soft: number
  softSeconds: number
}

/** Redis's client-query-buffer-limit default: 1 GB of unparsed input closes the client. */
const QUERY_BUFFER_LIMIT = 1024 * 1024 * 1024

/** What a connection needs from its listener (server.ts). */
export interface ConnectionHost extends ServerView {
  readonly engine: Engine
  readonly writer: RespWriter
  readonly outputLimit: OutputBufferLimit
  /** The buffer every client's reads land in (socket-reader.ts), one at a time. */
  readonly readBuffer: Buffer
  /** The Unix socket's path, when the listener is one. */
  readonly unixPath: string | undefined
  remove(client: Connection): void
}

export class Connection implements ClientView {
  name = ''
  libName = ''
  libVer = ''
  resp: 2 | 3 = 2
  authenticated: boolean
  closeAfterReply = false
  private readonly parser = new RespParser()
  private readonly context: CommandContext
  command = 'NULL'
  private readonly createdAt = Date.now()
  private lastActive = Date.now()
  /** When the output first went over the soft limit (0: it is under it). */
  private softSince = 0
  private closed = false

  private readonly socket: Socket
  private readonly release: () => void

  constructor(
    readonly id: number,
    accepted: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.authenticated = host.requirepass === undefined
    this.parser.authenticated = this.authenticated
    this.context = { engine: host.engine, client: this, server: host, w: host.writer }
    // Reads land in the listener's shared buffer (socket-reader.ts); onData copies what it keeps.
    const { socket, release } = readingSocket(accepted, host.readBuffer, (chunk: Buffer) => this.onData(chunk))
    this.socket = socket
    this.release = release
    socket.setNoDelay(true)
    // A client that vanished mid-reply costs nothing more: its buffered output goes with the socket.
    socket.on('error', () => this.close())
    socket.on('close', () => {
      this.close()
      this.release()
    })
  }

  /** Drops the client now (output not yet written is lost). */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
    this.host.remove(this)
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return
    this.onInput(chunk)
    if (!this.closed) this.parser.detach(this.host.readBuffer.buffer)
  }

  private onInput(chunk: Buffer): void {
    this.lastActive = Date.now()
    const parser = this.parser
    parser.feed(chunk)
    if (parser.pending > QUERY_BUFFER_LIMIT) {
      this.close()
      return
    }
    const w = this.host.writer
    w.resp = this.resp
    const limit = this.host.outputLimit
    for (;;) {
      // The common requests first, read in place (fast-path.ts); -1 leaves the request to the general parser.
      if (this.authenticated && parser.idle) {
        const input = parser.input
        const end = matchFast(input, parser.offset)
        if (end >= 0) {
          parser.consume(end)
          try {
            runFast(this.context, input)
          } catch (error) {
            w.error(errorReplyText(error))
          }
          if (this.closed) break
          if (limit.hard > 0 && w.size + this.socket.writableLength > limit.hard) {
            w.discard()
            this.close()
            return
          }
          continue
        }
      }
      let request: Buffer[] | null
      try {
        request = parser.next()
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error
        // Redis's setProtocolError: the error reply, then the connection closes once it is written.
        w.error(`ERR ${error.message}`)
        this.closeAfterReply = true
        break
      }
      if (request === null) break
      try {
        dispatch(this.context, request)
      } catch (error) {
        w.error(errorReplyText(error))
      }
      parser.authenticated = this.authenticated
      if (this.closeAfterReply || this.closed) break
      if (limit.hard > 0 && w.size + this.socket.writableLength > limit.hard) {
        // Redis's checkClientOutputBufferLimits: past the hard limit the client is closed at once.
        w.discard()
        this.close()
        return
      }
    }
    this.flush()
  }

  /** One write for the batch's replies (resp-writer.ts `send`). */
  private flush(): void {
    if (this.closed) {
      this.host.writer.discard()
      return
    }
    this.host.writer.send(this.socket)
    if (this.closeAfterReply) {
      this.socket.end()
      return
    }
    this.checkSoftLimit()
  }

  private checkSoftLimit(): void {
    const limit = this.host.outputLimit
    const pending = this.socket.writableLength
    if (limit.hard > 0 && pending > limit.hard) {
      this.close()
      return
    }
    if (limit.soft === 0 || pending <= limit.soft) {
      this.softSince = 0
      return
    }
    const now = Date.now()
    if (this.softSince === 0) this.softSince = now
    else if (now - this.softSince > limit.softSeconds * 1000) this.close()
  }

  /** Redis's catClientInfoString, field for field (plus 7.2's lib-name and lib-ver). */
  infoLine(): string {
    const s = this.socket
    const unix = this.host.unixPath
    const addr = unix !== undefined ? `${unix}:0` : formatPeer(s.remoteAddress, s.remotePort)
    const laddr = unix !== undefined ? addr : formatPeer(s.localAddress, s.localPort)
    const handle = (s as unknown as { _handle?: { fd?: number } })._handle
    const now = Date.now()
    const obl = s.writableLength
    return (
      `id=${this.id} addr=${addr} laddr=${laddr} fd=${handle?.fd ?? -1} name=${this.name} ` +
      `age=${Math.floor((now - this.createdAt) / 1000)} idle=${Math.floor((now - this.lastActive) / 1000)} ` +
      `flags=${unix !== undefined ? 'U' : 'N'} db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=${this.parser.pending} qbuf-free=0 ` +
      `argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=${obl} oll=0 omem=${obl} tot-mem=${obl + this.parser.pending} ` +
      `events=${obl > 0 ? 'rw' : 'r'} cmd=${this.command} user=default redir=-1 resp=${this.resp} ` +
      `lib-name=${this.libName} lib-ver=${this.libVer}`
    )
  }
}

function formatPeer(ip: string | undefined, port: number | undefined): string {
  const host = ip ?? '?'
  return host.includes(':') ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`
}
