// Progress for long runs: a redrawn bar on a terminal, plain lines (one per step and every ~10%) otherwise.

export class Progress {
  private readonly tty: boolean
  private lastDecile = -1
  private lastDraw = 0
  private label = ''

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stdout,
    enabled = true,
  ) {
    this.tty = enabled && stream.isTTY === true
  }

  /** Starts a named step (steps are numbered by the caller, e.g. '2/6 Zipf reads'). */
  step(label: string): void {
    this.finishLine()
    this.label = label
    this.lastDecile = -1
    if (!this.tty) this.stream.write(`${label}…\n`)
    else this.update(0)
  }

  /** Fraction done of the current step, 0..1. Cheap to call often: redraws at most every 50 ms. */
  update(fraction: number, detail = ''): void {
    const f = Math.min(1, Math.max(0, fraction))
    if (this.tty) {
      const now = Date.now()
      if (now - this.lastDraw < 50 && f < 1) return
      this.lastDraw = now
      const width = 30
      const filled = Math.round(f * width)
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
      this.stream.write(`\r${this.label.padEnd(34)} ${bar} ${String(Math.round(f * 100)).padStart(3)}% ${detail}`.padEnd(100) + '\x1b[K')
      return
    }
    const decile = Math.floor(f * 10)
    if (decile > this.lastDecile && decile > 0 && decile < 10) {
      this.lastDecile = decile
      this.stream.write(`  ${this.label}: ${decile * 10}%${detail ? ` (${detail})` : ''}\n`)
    }
  }

  /** Ends the current step with a short result. */
  done(result: string): void {
    if (this.tty) {
      this.update(1, result)
      this.stream.write('\n')
      this.label = ''
    } else {
      this.stream.write(`  ${this.label}: done, ${result}\n`)
    }
  }

  private finishLine(): void {
    if (this.tty && this.label !== '') this.stream.write('\n')
  }
}
