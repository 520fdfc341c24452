#!/usr/bin/env node
// arenakv's command line: `arenakv demo` (the default), `arenakv bench` and `arenakv serve`. The bench runner (and vega) load
// only when bench runs, so the demo starts fast.
import { Command, InvalidArgumentError, Option } from 'commander'
import { ALLOCATORS, parseAllocators, type AllocatorName } from '../bench/builds.js'
import { SCALES, type Scale } from '../bench/suite.js'
import { MAXMEMORY_ACCOUNTINGS, MAXMEMORY_POLICIES, type MaxmemoryAccounting, type MaxmemoryPolicy } from '../lib/config.js'

function allocatorList(value: string): AllocatorName[] {
  try {
    return parseAllocators(value)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

function runCount(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > 99) throw new InvalidArgumentError('--runs takes a whole number from 1 to 99')
  return n
}

function portNumber(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('a port is an integer from 0 to 65535')
  return n
}

const program = new Command()
program
  .name('arenakv')
  .description("Redis's memory management, in-process for Node.js")
  .showHelpAfterError()

program
  .command('demo', { isDefault: true })
  .description('fill an engine under maxmemory with a realistic workload, then show INFO memory and MEMORY DOCTOR')
  .addOption(new Option('--scale <scale>', 'workload size (tiny: a second, for tests)').choices(['tiny', 'normal']).default('normal'))
  .option('--maxmemory <size>', "the engine's maxmemory", '64mb')
  .option('--no-progress', 'no progress bar (plain progress lines are printed when stdout is not a terminal)')
  .action(async (opts: { scale: 'tiny' | 'normal'; maxmemory: string; progress: boolean }) => {
    const { runDemo } = await import('./demo.js')
    await runDemo({ scale: opts.scale, maxmemory: opts.maxmemory, progress: opts.progress })
  })

program
  .command('bench')
  .description('run bench suites; prints the machine, Node and allocator versions, tables and peer ratios')
  .argument('[suite...]', 'suites to run (default: all; --list names them)')
  .addOption(
    new Option(
      '--allocators <list>',
      `allocator builds (${ALLOCATORS.join(',')}): the alloc and churn suites compare them, the other peer suites use the first ` +
        '(default: every allocator with a build here)',
    ).argParser(allocatorList),
  )
  .option('--out <dir>', 'write <suite>.json, SVG charts and report.md here')
  .addOption(
    new Option('--scale <scale>', 'tiny (seconds, for tests), small (a quick look), or full (the workloads of the README figures, minutes)')
      .choices(SCALES)
      .default('full'),
  )
  .option('--runs <n>', 'rounds of the suites that report medians over runs (churn, share; default: 3 at full scale, 1 below)', runCount)
  .option('--list', 'list the suites and exit')
  .option(
    '--trace <file>',
    'a trace for the hitratio suite to replay, one key per line (.gz accepted); repeat for several',
    (file: string, prev: string[]) => [...prev, file],
    [] as string[],
  )
  .action(async (suites: string[], opts: { allocators?: AllocatorName[]; out?: string; scale: Scale; runs?: number; list?: boolean; trace: string[] }) => {
    const { runSuites, SUITES } = await import('../bench/runner.js')
    if (opts.list === true) {
      for (const s of SUITES) process.stdout.write(`${s.name.padEnd(12)} ${s.description}\n`)
      return
    }
    await runSuites({ suites, allocators: opts.allocators, scale: opts.scale, runs: opts.runs, out: opts.out, traces: opts.trace })
  })

program
  .command('serve')
  .description('serve an engine over RESP for redis-cli, Redis clients, redis-benchmark and exporters (SIGINT/SIGTERM stop it)')
  .option('--port <port>', 'TCP port (0: none, with --unixsocket)', portNumber, 6379)
  .option('--bind <addr>', 'address to bind (anything but loopback needs --requirepass)', '127.0.0.1')
  .option('--unixsocket <path>', 'also listen on this Unix socket (mode 0600)')
  .option('--maxmemory <size>', "the engine's maxmemory (0: no limit)", '0')
  .addOption(new Option('--maxmemory-policy <policy>', 'eviction policy').choices(MAXMEMORY_POLICIES).default('noeviction'))
  .addOption(
    new Option('--maxmemory-accounting <mode>', "what maxmemory bounds: 'allocated' (Redis's used_memory) or 'resident' (the engine's resident memory)")
      .choices(MAXMEMORY_ACCOUNTINGS)
      .default('allocated'),
  )
  .option('--requirepass <password>', 'clients must AUTH with this password')
  .action(async (opts: { port: number; bind: string; unixsocket?: string; maxmemory: string; maxmemoryPolicy: MaxmemoryPolicy; maxmemoryAccounting: MaxmemoryAccounting; requirepass?: string }) => {
    const { runServe } = await import('./serve.js')
    await runServe(opts)
  })

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`arenakv: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
