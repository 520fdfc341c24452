// Obtains an allocator's pinned source tarball and verifies its sha256, for every allocator folder in deps/
// (jemalloc, tcmalloc, mimalloc): each keeps its pin in its own version.json and calls fetchSource with it.
// Tried in order:
//   1. the file named by <NAME>_TARBALL (e.g. JEMALLOC_TARBALL), or a tarball already in the allocator's folder
//   2. the upstream release, when the pin names one
//   3. Debian's source package, whose orig tarball is the pinned file, through apt with deb-src lines derived
//      from this machine's own apt sources (kept in a private apt state dir, so the system's apt configuration
//      is never changed)
// Returns the verified tarball's path; progress goes to stderr. Third-party source is never kept in the
// repository: the tarball and its extraction are git-ignored.
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export function readPin(dir) {
  return JSON.parse(readFileSync(join(dir, 'version.json'), 'utf8'))
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

async function fromUpstream(url, dest) {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) })
  if (!res.ok) throw new Error(`HTTP ${res.status}`)
  writeFileSync(dest, Buffer.from(await res.arrayBuffer()))
}

// deb822 (.sources) and one-line (.list) formats both become deb-src entries for the same mirrors.
function debSrcSources() {
  const out = []
  const files = []
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list')
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d')) files.push(join('/etc/apt/sources.list.d', f))
  }
  for (const f of files) {
    const text = readFileSync(f, 'utf8')
    if (f.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        if (!/^Types:.*\bdeb\b/m.test(stanza) || !/^URIs:\s*\S+/m.test(stanza)) continue
        if (/^Enabled:\s*no/mi.test(stanza)) continue
        out.push(stanza.replace(/^Types:.*$/m, 'Types: deb-src').replace(/^Architectures:.*\n?/m, ''))
      }
    } else if (f.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(.*)$/.exec(line)
        if (m) out.push(`deb-src ${m[1].replace(/\[[^\]]*\]\s*/, '')}`)
      }
    }
  }
  return out
}

function fromDebianSource({ package: name, version, file }, dest) {
  const entries = debSrcSources()
  if (entries.length === 0) throw new Error('no apt sources on this machine')
  const work = mkdtempSync(join(tmpdir(), `arenakv-${name}-`))
  try {
    const parts = join(work, 'sources.list.d')
    const lists = join(work, 'lists')
    mkdirSync(join(lists, 'partial'), { recursive: true })
    mkdirSync(parts)
    const deb822 = entries.filter((e) => e.startsWith('Types:'))
    const oneLine = entries.filter((e) => e.startsWith('deb-src '))
    if (deb822.length) writeFileSync(join(parts, 'src.sources'), deb822.join('\n\n') + '\n')
    if (oneLine.length) writeFileSync(join(parts, 'src.list'), oneLine.join('\n') + '\n')
    const apt = ['-o', 'Dir::Etc::SourceList=/dev/null', '-o', `Dir::Etc::SourceParts=${parts}`,
      '-o', `Dir::State::Lists=${lists}`, '-o', 'Debug::NoLocking=1', '-o', 'APT::Sandbox::User=root']
    const opts = { cwd: work, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 }
    execFileSync('apt-get', [...apt, '-qq', 'update'], opts)
    execFileSync('apt-get', [...apt, '-qq', 'source', '--download-only', `${name}=${version}`], opts)
    copyFileSync(join(work, file), dest)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/**
 * name: the allocator ('jemalloc', 'tcmalloc', 'mimalloc'), used for the log prefix and the <NAME>_TARBALL
 * variable; dir: its folder in deps/; pin: its version.json (tarball, sha256, optional upstream, debianSource).
 */
export async function fetchSource(name, dir, pin = readPin(dir)) {
  const log = (msg) => process.stderr.write(`[${name} fetch] ${msg}\n`)
  const envVar = `${name.toUpperCase()}_TARBALL`
  const dest = join(dir, pin.tarball)
  const verified = (file) => {
    const got = sha256(file)
    if (got === pin.sha256) return true
    log(`${file}: sha256 ${got} does not match the pinned ${pin.sha256}`)
    return false
  }
  const tried = []
  for (const candidate of [process.env[envVar], dest]) {
    if (!candidate) continue
    const file = resolve(candidate)
    if (existsSync(file) && verified(file)) {
      if (file !== dest) copyFileSync(file, dest)
      return dest
    }
    tried.push(`local file ${file}: ${existsSync(file) ? 'sha256 mismatch' : 'absent'}`)
  }
  const sources = []
  if (pin.upstream) sources.push(['upstream release', () => fromUpstream(pin.upstream, dest)])
  const deb = pin.debianSource
  sources.push([`Debian source package ${deb.package} ${deb.version}`, () => fromDebianSource(deb, dest)])
  for (const [what, get] of sources) {
    try {
      log(`trying ${what}`)
      await get()
      if (verified(dest)) return dest
      tried.push(`${what}: sha256 mismatch`)
      rmSync(dest, { force: true })
    } catch (err) {
      tried.push(`${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
    }
  }
  throw new Error(`could not obtain ${pin.tarball} (sha256 ${pin.sha256}). Tried:\n  - ${tried.join('\n  - ')}\n` +
    `Put the tarball in deps/${name}/ or name it with ${envVar}.`)
}

/** The command-line entry every allocator's fetch.js shares: prints the verified tarball's path. */
export function fetchMain(name, dir) {
  fetchSource(name, dir).then((file) => console.log(file), (err) => {
    process.stderr.write(`[${name} fetch] ${err.message}\n`)
    process.exit(1)
  })
}

/**
 * Fetches (fetchSource) and unpacks the pinned tarball into <dir>/src/<pin.srcDir>, with fresh mtimes so make
 * sees the unpacked files as newer than the pin; an unpacking of the same pin is reused (src/stamp.json).
 * Returns the unpacked tree's path.
 */
export async function unpackSource(name, dir, pin = readPin(dir)) {
  const srcRoot = join(dir, 'src')
  const tree = join(srcRoot, pin.srcDir)
  const stampFile = join(srcRoot, 'stamp.json')
  const stamp = JSON.stringify({ tarball: pin.tarball, sha256: pin.sha256 })
  if (existsSync(tree) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return tree
  const tarball = await fetchSource(name, dir, pin)
  rmSync(srcRoot, { recursive: true, force: true })
  mkdirSync(srcRoot, { recursive: true })
  process.stderr.write(`[${name} fetch] unpacking ${tarball}\n`)
  execFileSync('tar', ['-xf', tarball, '--touch', '-C', srcRoot], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (!existsSync(tree)) throw new Error(`${tarball} did not unpack to ${pin.srcDir}`)
  writeFileSync(stampFile, stamp)
  return tree
}
