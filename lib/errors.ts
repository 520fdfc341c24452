/** Stable error codes: users switch on `code`, never on message text. */
export type ArenaKVErrorCode =
  | 'ERR_OOM'
  | 'ERR_NOMEM'
  | 'ERR_CLOSED'
  | 'ERR_VALUE_TOO_LARGE'
  | 'ERR_SYNTAX'
  | 'ERR_INVALID_EXPIRE'
  | 'ERR_UNSUPPORTED'
  | 'ERR_CONFIG'
  | 'ERR_NATIVE'
  /** Every jemalloc arena index is taken: too many engines (or allocator.createArena() arenas) open at once. */
  | 'ERR_ARENA_LIMIT'
  /** No build of the allocator ARENAKV_MALLOC asks for: neither a prebuild nor a local build (the message says how to build it). */
  | 'ERR_NO_BUILD'
  /** Bytes that are not a reply encoding this version of arenakv/redis can decode (wrong version, truncated, unknown tag). */
  | 'ERR_CORRUPT'

export class ArenaKVError extends Error {
  readonly code: ArenaKVErrorCode

  constructor(code: ArenaKVErrorCode, message: string) {
    super(message)
    this.name = 'ArenaKVError'
    this.code = code
  }
}

/** Redis's exact reply text, which clients match on. */
export const OOM_MESSAGE = "OOM command not allowed when used memory > 'maxmemory'."

export function oomError(): ArenaKVError {
  return new ArenaKVError('ERR_OOM', OOM_MESSAGE)
}

export function closedError(): ArenaKVError {
  return new ArenaKVError('ERR_CLOSED', 'the engine is closed')
}

export function syntaxError(detail = 'syntax error'): ArenaKVError {
  return new ArenaKVError('ERR_SYNTAX', detail)
}

export function invalidExpireError(command: string): ArenaKVError {
  return new ArenaKVError('ERR_INVALID_EXPIRE', `invalid expire time in '${command}' command`)
}

/** Redis's proto-max-bulk-len refusal, for a key or value over 512 MB (the native store's code and wording). */
export function valueTooLargeError(what: 'key' | 'value'): ArenaKVError {
  return new ArenaKVError('ERR_VALUE_TOO_LARGE', `${what} is larger than 512 MB (proto-max-bulk-len)`)
}

export function unsupportedError(what: string): ArenaKVError {
  return new ArenaKVError('ERR_UNSUPPORTED', `${what} is not supported by this allocator build`)
}
