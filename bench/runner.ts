import { ALLOCATORS, resolveBuilds, missingNote, variantEnv, type AllocatorName } from './builds.js'
import { formatEnv, machineEnv, type AllocatorEnv } from './env.js'
import { prepareOutDir, printReport, writeReports, type SuiteReport, type WrittenFiles } from './output.js'
import { missingPeerNote, peerAvailable, type PeerName } from './peers.js'
import type { ProbeResult } from './probe.js'
import { redisServerVersion } from './redis.js'
import { runChildScript } from './spawn.js'
import type { Scale, Suite, SuiteContext } from './suite.js'
import { allocSuite } from './suites/alloc.js'
import { fidelitySuite } from './suites/fidelity.js'
import { throughputSuite } from './suites/throughput.js'
import { hitratioSuite } from './suites/hitratio.js'
import { expirySuite } from './suites/expiry.js'
import { reclaimSuite } from './suites/reclaim.js'
import { churnSuite } from './suites/churn.js'
import { serveSuite } from './suites/serve.js'
import { nearcacheSuite } from './suites/nearcache.js'
import { shareSuite } from './suites/share.js'

/** Every suite by name, in the order `arenakv bench` runs them when none is named. */
export const SUITES: readonly Suite[] = [allocSuite, fidelitySuite, throughputSuite, hitratioSuite, expirySuite, reclaimSuite, churnSuite, serveSuite, nearcacheSuite, shareSuite]

export function suiteNames(): string[] {
  return SUITES.map((s) => s.name)
}

export interface RunOptions {
  suites: readonly string[]
  /** Allocators the user named (--allocators); undefined for every allocator, leaving out those with no build. */
  allocators?: AllocatorName[]
  scale: Scale
  /** Trace files (one key per line, .gz accepted) the hitratio suite replays besides its synthetic shapes. */
  traces?: readonly string[]
  /** Rounds for suites that take medians over repeated runs (churn); undefined for each suite's default. */
  runs?: number
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
  const named = options.allocators !== undefined
  const asked = options.allocators ?? [...ALLOCATORS]
  const wanted = selected.some((s) => s.comparesAllocators === true) ? asked : asked.slice(0, 1)
  const { binaries, skipped } = resolveBuilds(wanted, named, log)

  // Probe every build before any suite runs: a build that does not load (or is another allocator's) is named
  // in one line now, not after minutes of work.
  const probes = await Promise.all(
    [...binaries].map(async ([build, binary]) => {
      const r = await runChildScript<ProbeResult>('probe', { build }, { env: variantEnv(binary), label: `probe ${build}`, log })
      return { build, binary, r }
    }),
  )
  const envs = new Map<AllocatorName, AllocatorEnv>()
  for (const { build, binary, r } of probes) {
    const problem = !r.ok ? `${binary} does not load: ${r.error}` : r.env.name !== build ? `${binary} is the ${r.env.name} build` : null
    if (problem === null && r.ok) envs.set(build, r.env)
    else if (named) throw new Error(`allocator build ${build}: ${problem}`)
    else skipped.push(r.ok ? missingNote(build) : `${build} is left out: ${problem}.`)
  }
  const allocators = wanted.filter((a) => envs.has(a))
  if (allocators.length === 0) throw new Error(`no allocator build loads here: ${skipped.join(' ')}`)
  for (const s of skipped) log(s)

  const peers = new Map<PeerName, Promise<boolean>>()
  const ctx: SuiteContext = {
    scale: options.scale,
    traces: options.traces ?? [],
    runs: options.runs,
    allocators,
    env,
    log,
    child: <R>(script: string, params: unknown, build: AllocatorName | null, label: string) => {
      const binary = build === null ? undefined : binaries.get(build)
      if (build !== null && binary === undefined) return Promise.reject(new Error(`no ${build} build was prepared for this run`))
      return runChildScript<R>(script, params, { env: build === null || binary === undefined ? {} : variantEnv(binary), label, log })
    },
    allocatorEnv: (build) => {
      const e = envs.get(build)
      return e === undefined ? Promise.reject(new Error(`no ${build} build was prepared for this run`)) : Promise.resolve(e)
    },
    peer: (name) => {
      let p = peers.get(name)
      if (p === undefined) {
        p = peerAvailable(name).then((ok) => {
          if (!ok) log(missingPeerNote(name))
          return ok
        })
        peers.set(name, p)
      }
      return p
    },
  }
  log(formatEnv(env, allocators.map((a) => envs.get(a) as AllocatorEnv)))
  log(`scale: ${options.scale}; suites: ${selected.map((s) => s.name).join(', ')}`)

  const reports: SuiteReport[] = []
  for (const suite of selected) {
    const started = performance.now()
    log(`\n[${suite.name}] ${suite.description}`)
    const report = await suite.run(ctx)
    if (suite.comparesAllocators === true) report.notes.push(...skipped)
    log(`[${suite.name}] done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    printReport(report, log)
    reports.push(report)
  }
  let files: WrittenFiles | null = null
  if (options.out !== undefined) {
    files = await writeReports(options.out, env, options.scale, reports)
    if (files.chartsSkipped !== null) log(`\n${files.chartsSkipped}`)
    log(`\nwrote ${files.markdown}, ${files.json.length} JSON and ${files.svg.length} SVG files to ${options.out}`)
  }
  return { reports, files }
}
