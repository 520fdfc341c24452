import { readFileSync } from 'node:fs'
import os from 'node:os'

/** The machine and runtime a bench ran on; printed at the top of every bench and stored in every JSON. */
export interface MachineEnv {
  cpuModel: string
  cores: number
  memoryBytes: number
  kernel: string
  os: string
  arch: string
  node: string
  v8: string
  redisServer: string | null
}

/** The allocator a build links, as that build reports it when loaded (never inferred from its path). */
export interface AllocatorEnv {
  build: string
  name: string
  version: string
}

function osRelease(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8')
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? os.type()
  } catch {
    return os.type()
  }
}

export function machineEnv(redisServer: string | null): MachineEnv {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    os: osRelease(),
    arch: process.arch,
    node: process.version,
    v8: process.versions.v8,
    redisServer,
  }
}

export function formatEnv(env: MachineEnv, allocators: readonly AllocatorEnv[]): string {
  const lines = [
    `machine: ${env.cpuModel}, ${env.cores} cores, ${(env.memoryBytes / 2 ** 30).toFixed(1)} GiB, ` +
      `${env.os}, Linux ${env.kernel} (${env.arch})`,
    `node: ${env.node} (V8 ${env.v8})`,
  ]
  for (const a of allocators) {
    lines.push(`allocator [${a.build}]: ${a.name} ${a.version}`)
  }
  if (env.redisServer !== null) lines.push(`redis-server: ${env.redisServer}`)
  return lines.join('\n')
}
