import { ensureVariants, variantEnv, type AllocatorName } from './builds.js'
import { formatEnv, machineEnv, type AllocatorEnv } from './env.js'
import { prepareOutDir, printReport, writeReports, type SuiteReport, type WrittenFiles } from './output.js'
import { redisServerVersion } from './redis.js'
import { runChildScript } from './spawn.js'
import type { Scale, Suite, SuiteContext } from './suite.js'
import { allocSuite } from './suites/alloc.js'
import { fidelitySuite } from './suites/fidelity.js'
import { throughputSuite } from './suites/throughput.js'
import { hitratioSuite } from './suites/hitratio.js'
import { expirySuite } from './suites/expiry.js'
import { reclaimSuite } from './suites/reclaim.js'

/** Every suite by name, in the order `arenakv bench` runs them when none is named. */
export const SUITES: readonly Suite[] = [allocSuite, fidelitySuite, throughputSuite, hitratioSuite, expirySuite, reclaimSuite]

export function suiteNames(): string[] {
  return SUITES.map((s) => s.name)
}

export interface RunOptions {
  suites: readonly string[]
  allocators: AllocatorName[]
  scale: Scale
  out?: string
  log?: (line: string) => void
}

export interface RunResult {
  reports: SuiteReport[]
  files: WrittenFiles | null
}

export async function runSuites(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'))
  const names = options.suites.length > 0 ? options.suites : suiteNames()
  const selected = names.map((n) => {
    const s = SUITES.find((x) => x.name === n)
    if (s === undefined) throw new RangeError(`unknown bench suite '${n}' (one of ${suiteNames().join(', ')})`)
    return s
  })
  // Before anything runs or prints: the reports are written last, after minutes of work.
  if (options.out !== undefined) prepareOutDir(options.out)
  const env = machineEnv(redisServerVersion())
  ensureVariants(options.allocators, log)

  const probed = new Map<AllocatorName, Promise<AllocatorEnv>>()
  const ctx: SuiteContext = {
    scale: options.scale,
    allocators: options.allocators,
    env,
    log,
    child: <R>(script: string, params: unknown, build: AllocatorName | null, label: string) =>
      runChildScript<R>(script, params, { env: build === null ? {} : variantEnv(build), label, log }),
    allocatorEnv: (build) => {
      let p = probed.get(build)
      if (p === undefined) {
        p = runChildScript<AllocatorEnv>('probe', { build }, { env: variantEnv(build), label: `probe ${build}`, log })
        probed.set(build, p)
      }
      return p
    },
  }
  const envAllocators = await Promise.all(options.allocators.map((a) => ctx.allocatorEnv(a)))
  log(formatEnv(env, envAllocators))
  log(`scale: ${options.scale}; suites: ${selected.map((s) => s.name).join(', ')}`)

  const reports: SuiteReport[] = []
  for (const suite of selected) {
    const started = performance.now()
    log(`\n[${suite.name}] ${suite.description}`)
    const report = await suite.run(ctx)
    log(`[${suite.name}] done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    printReport(report, log)
    reports.push(report)
  }
  let files: WrittenFiles | null = null
  if (options.out !== undefined) {
    files = await writeReports(options.out, env, options.scale, reports)
    log(`\nwrote ${files.markdown}, ${files.json.length} JSON and ${files.svg.length} SVG files to ${options.out}`)
  }
  return { reports, files }
}
