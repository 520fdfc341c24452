import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { redisServerPath } from './redis.js'

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false
    try {
      accessSync(join(dir, command), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

// The peers arenakv is measured beside are optional: an installed arenakv depends on none of them (package.json
// lists the Node ones as optional peerDependencies). A suite leaves a missing peer's rows and columns out and
// its report says what adds it.

export type PeerName = 'lru-cache' | 'mnemonist' | 'redis-server' | 'redis-benchmark'

/** The command that adds each peer. */
export const PEER_INSTALL: Readonly<Record<PeerName, string>> = {
  'lru-cache': 'npm install lru-cache',
  mnemonist: 'npm install mnemonist',
  'redis-server': 'apt-get install redis-server',
  'redis-benchmark': 'apt-get install redis-tools',
}

function isModuleNotFound(err: unknown, name: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null
  return e?.code === 'ERR_MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${name}'`)
}

/**
 * Whether the peer can run here. A Node peer is imported from here, which resolves it as the bench's children
 * will (the package's own node_modules, then the project's).
 */
export async function peerAvailable(name: PeerName): Promise<boolean> {
  if (name === 'redis-server') return redisServerPath() !== null
  if (name === 'redis-benchmark') return onPath('redis-benchmark')
  try {
    await import(name)
    return true
  } catch (err) {
    if (isModuleNotFound(err, name)) return false
    throw err
  }
}

/** The report's sentence for a missing peer. */
export function missingPeerNote(name: PeerName): string {
  return `${name} is not installed here, so it is left out of this suite (\`${PEER_INSTALL[name]}\` adds it).`
}
