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
  /** Redis's 'value is not an integer or out of range': an integer argument or stored value that is not int64. */
  | 'ERR_NOT_INTEGER'
  /** Redis's 'value is not a valid float'. */
  | 'ERR_NOT_FLOAT'
  /** An increment that would leave int64, or make a float NaN or infinite. */
  | 'ERR_OVERFLOW'
  /** Redis's 'no such key' (RENAME of a missing key). */
  | 'ERR_NO_SUCH_KEY'
  /** An offset, bit or index outside what Redis accepts (its message names which). */
  | 'ERR_OUT_OF_RANGE'
  /** COPY onto itself: Redis's 'source and destination objects are the same'. */
  | 'ERR_SAME_OBJECT'
  /** Every jemalloc arena index is taken: too many engines (or allocator.createArena() arenas) open at once. */
  | 'ERR_ARENA_LIMIT'
  /** No build of the allocator ARENAKV_MALLOC asks for: neither a prebuild nor a local build (the message says how to build it). */
  | 'ERR_NO_BUILD'

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

// Redis's replies for the string and key commands (t_string.c, bitops.c, db.c), without the 'ERR ' prefix its
// protocol adds, as every message here.

export function notIntegerError(): ArenaKVError {
  return new ArenaKVError('ERR_NOT_INTEGER', 'value is not an integer or out of range')
}

export function notFloatError(): ArenaKVError {
  return new ArenaKVError('ERR_NOT_FLOAT', 'value is not a valid float')
}

export function overflowError(message = 'increment or decrement would overflow'): ArenaKVError {
  return new ArenaKVError('ERR_OVERFLOW', message)
}

export function outOfRangeError(message: string): ArenaKVError {
  return new ArenaKVError('ERR_OUT_OF_RANGE', message)
}

/** Redis's checkStringLength: a string that would pass proto-max-bulk-len. */
export function stringTooLongError(): ArenaKVError {
  return new ArenaKVError('ERR_VALUE_TOO_LARGE', 'string exceeds maximum allowed size (proto-max-bulk-len)')
}
