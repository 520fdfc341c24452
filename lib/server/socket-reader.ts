// How the RESP endpoint reads its clients: into one reusable buffer per listener rather than a new Buffer per read.
// Node's stream path allocates a buffer for every read and runs the Readable machinery ('data', a tick to read
// more); with one request per read (no pipelining) that is most of the per-request cost outside the kernel. Node's
// `onread` socket option reads into a caller's buffer instead; a server's accepted sockets do not take options, so
// the accepted connection's handle is re-wrapped in a Socket that has one. The buffer is shared by every client of
// the listener: reads run one at a time, and the connection copies what it keeps past its read (a request not whole
// yet, see RespParser.detach). ARCHITECTURE.md "The RESP endpoint".
import net from 'node:net'

/** The read buffer: as big as libuv's default read (64 KiB), so a read takes as much as it would otherwise. */
export const READ_BUFFER_BYTES = 64 * 1024

interface HandleOwner {
  _handle?: { useUserBuffer?: unknown } | null
}

/**
 * Returns a socket for `accepted` whose reads land in `buffer`, each passed to `onChunk` as a view valid until it
 * returns; falls back to the accepted socket and its 'data' events where the handle cannot be re-wrapped.
 * `release` must be called once the returned socket has closed: it closes the accepted socket's bookkeeping (the
 * server's connection count).
 */
export function readingSocket(accepted: net.Socket, buffer: Buffer, onChunk: (chunk: Buffer) => void): { socket: net.Socket; release: () => void } {
  const owner = accepted as unknown as HandleOwner
  const handle = owner._handle
  if (handle === null || handle === undefined || typeof handle.useUserBuffer !== 'function') {
    accepted.on('data', onChunk)
    accepted.resume()
    return { socket: accepted, release: () => {} }
  }
  // The accepted socket gives up its handle (it was created paused: pauseOnConnect), so destroying it later only
  // does the server's bookkeeping and never closes the handle twice.
  owner._handle = null
  const options = {
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer,
      callback: (n: number): void => onChunk(buffer.subarray(0, n)),
    },
  }
  const socket = new net.Socket(options as unknown as net.SocketConstructorOpts)
  return { socket, release: () => accepted.destroy() }
}
