// The child side of the runner's protocol: parameters arrive as JSON in ARENAKV_BENCH_PARAMS, progress goes to
// stderr, and the result is one stdout line after RESULT_MARKER. Each measurement runs in a fresh process so
// that RSS figures start from the same clean baseline and no workload inherits another's freed pages.

export const RESULT_MARKER = '@@arenakv-bench-result@@ '
export const PARAMS_ENV = 'ARENAKV_BENCH_PARAMS'

export function childParams<P>(): P {
  const raw = process.env[PARAMS_ENV]
  if (raw === undefined) throw new Error(`${PARAMS_ENV} is not set: this script is started by bench/runner`)
  return JSON.parse(raw) as P
}

/** A progress line for the parent (at most one per interval; the parent prefixes and forwards it). */
export function progressReporter(intervalMs = 1000): (message: string) => void {
  let last = 0
  return (message) => {
    const now = Date.now()
    if (now - last < intervalMs) return
    last = now
    process.stderr.write(message + '\n')
  }
}

/** Runs `fn` with the parameters and prints its result for the parent, then exits (timers may be pending). */
export function runChild<P, R>(fn: (params: P) => R | Promise<R>): void {
  Promise.resolve()
    .then(() => fn(childParams<P>()))
    .then((result) => {
      process.stdout.write('\n' + RESULT_MARKER + JSON.stringify(result) + '\n', () => process.exit(0))
    })
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      process.exit(1)
    })
}

export function rssBytes(): number {
  return process.memoryUsage.rss()
}

/** A full GC when the child runs with --expose-gc (the runner passes it), so JS peers are measured fairly. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
