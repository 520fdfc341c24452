// The Engine's generic key commands beyond DEL / EXISTS / SCAN (keys.ts): one delegation each, with TSDoc.
import { engineDb } from './engine_base.js'
import { StringCommands } from './engine_strings.js'
import {
  copyCommand,
  keysCommand,
  objectEncodingCommand,
  randomkeyCommand,
  renameCommand,
  typeCommand,
  type CopyOptions,
  type StringEncoding,
} from './keys.js'

export type { CopyOptions, StringEncoding } from './keys.js'

export class KeyCommands extends StringCommands {
  /** KEYS: every key matching the glob pattern (Redis's syntax: `*`, `?`, `[a-z]`, `\\`), in table order. */
  keys(pattern: string): string[] {
    return keysCommand(engineDb(this), pattern)
  }

  /**
   * RENAME: `src` becomes `dst` with its value, TTL and access clock, replacing `dst`. `ERR_NO_SUCH_KEY` when `src`
   * is missing; renaming a key onto itself does nothing.
   */
  rename(src: string, dst: string): void {
    renameCommand(engineDb(this), src, dst, false)
  }

  /** RENAMENX: RENAME only when `dst` is missing; whether it renamed (false onto itself). */
  renamenx(src: string, dst: string): boolean {
    return renameCommand(engineDb(this), src, dst, true)
  }

  /**
   * COPY: `dst` gets `src`'s value and TTL; false when `src` is missing or `dst` exists without `replace`.
   * `ERR_SAME_OBJECT` for a key onto itself; `db` may only be 0 (`ERR_OUT_OF_RANGE` otherwise).
   */
  copy(src: string, dst: string, opts?: CopyOptions): boolean {
    return copyCommand(engineDb(this), src, dst, opts)
  }

  /** RANDOMKEY: a random key, or undefined when the engine holds none. */
  randomkey(): string | undefined {
    return randomkeyCommand(engineDb(this))
  }

  /** TYPE: 'string' (every value here is a string), 'none' when missing. */
  type(key: string): 'string' | 'none' {
    return typeCommand(engineDb(this), key)
  }

  /**
   * OBJECT ENCODING: 'int', 'embstr' (up to 44 bytes) or 'raw' as Redis would encode the value on SET; undefined
   * when missing. Unlike Redis, a short value APPEND / SETRANGE / SETBIT changed is named by its content, not 'raw'.
   */
  objectEncoding(key: string): StringEncoding | undefined {
    return objectEncodingCommand(engineDb(this), key)
  }
}
