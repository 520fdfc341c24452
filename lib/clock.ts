import { markAsUntransferable } from 'node:worker_threads'
import { native } from './native.js'

// The engine's clock in whole unix ms. Date.now() returns a freshly allocated heap number in optimized code: 16
// bytes of garbage per operation, which alone grew V8's young generation by megabytes during a fill (RSS the cache
// is charged for). The addon writes the time into a cell of native memory instead, and hot paths read it there:
// a time passed as a double to a call that is not inlined is boxed the same way, so tick() returns nothing.

/** The environment's one native clock cell (every copy of this module sees the same one). */
const NATIVE_CELL = new Float64Array(native.clockCell(), 0, 1)
// Native code owns the memory, so a transfer cannot harm it; refusing transfers keeps this view reading it.
markAsUntransferable(NATIVE_CELL.buffer)

/**
 * Date.now as this module found it: the native clock stands in for it only while it is still the real one, so
 * fake timers installed later (which replace Date.now) still apply.
 */
const REAL_DATE_NOW = Date.now
const DATE_NOW_IS_NATIVE = /\[native code\]/.test(Function.prototype.toString.call(REAL_DATE_NOW))

export class Clock {
  /** The time as of the last tick(); read it right after ticking. */
  readonly cell: Float64Array
  private readonly system: boolean

  /** `now` is a clock of the caller's (tests drive one by hand); without one, the system clock. */
  constructor(readonly now: () => number = () => Date.now(), custom = false) {
    this.system = !custom && DATE_NOW_IS_NATIVE
    this.cell = this.system ? NATIVE_CELL : new Float64Array(1)
  }

  /**
   * For a fused store call (store.ts FusedStore): true when the call may read the wall clock itself; otherwise the
   * time is written to cells[0] here (a clock of the caller's, or fake timers) and the call uses that.
   */
  prepare(cells: Float64Array): boolean {
    if (this.system && Date.now === REAL_DATE_NOW) return true
    cells[0] = this.now()
    return false
  }

  /** Writes the current time to cell[0]. */
  tick(): void {
    if (this.system && Date.now === REAL_DATE_NOW) native.clockTick()
    else this.cell[0] = this.now()
  }
}
