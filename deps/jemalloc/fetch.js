#!/usr/bin/env node
// Obtains jemalloc's pinned release tarball and verifies its sha256. Tried in order:
//   1. a tarball already in deps/jemalloc/, or the file named by JEMALLOC_TARBALL
//   2. the upstream release
//   3. Debian's source package, whose .orig.tar.bz2 is the same upstream tarball, through apt with deb-src
//      lines derived from this machine's own apt sources (kept in a private apt state dir, so the system's
//      apt configuration is never changed)
// Prints the verified tarball's path on stdout; progress goes to stderr.
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const pin = JSON.parse(readFileSync(join(here, 'version.json'), 'utf8'))
const log = (msg) => process.stderr.write(`[jemalloc fetch] ${msg}\n`)

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

function verified(file) {
  const got = sha256(file)
  if (got === pin.sha256) return true
  log(`${file}: sha256 ${got} does not match the pinned ${pin.sha256}`)
  return false
}

async function fromUpstream(dest) {
  const res = await fetch(pin.upstream, { signal: AbortSignal.timeout(20_000) })
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

function fromDebianSource(dest) {
  const entries = debSrcSources()
  if (entries.length === 0) throw new Error('no apt sources on this machine')
  const work = mkdtempSync(join(tmpdir(), 'arenakv-jemalloc-'))
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
    const { package: name, version, file } = pin.debianSource
    execFileSync('apt-get', [...apt, '-qq', 'source', '--download-only', `${name}=${version}`], opts)
    copyFileSync(join(work, file), dest)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

export async function fetchJemalloc() {
  const dest = join(here, pin.tarball)
  const tried = []
  for (const candidate of [process.env.JEMALLOC_TARBALL, dest]) {
    if (!candidate) continue
    const file = resolve(candidate)
    if (existsSync(file) && verified(file)) {
      if (file !== dest) copyFileSync(file, dest)
      return dest
    }
    tried.push(`local file ${file}: ${existsSync(file) ? 'sha256 mismatch' : 'absent'}`)
  }
  const sources = [
    ['upstream release', () => fromUpstream(dest)],
    [`Debian source package ${pin.debianSource.package} ${pin.debianSource.version}`, () => fromDebianSource(dest)],
  ]
  for (const [name, get] of sources) {
    try {
      log(`trying ${name}`)
      await get()
      if (verified(dest)) return dest
      tried.push(`${name}: sha256 mismatch`)
      rmSync(dest, { force: true })
    } catch (err) {
      tried.push(`${name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
    }
  }
  throw new Error(`could not obtain ${pin.tarball} (sha256 ${pin.sha256}). Tried:\n  - ${tried.join('\n  - ')}\n` +
    'Put the release tarball in deps/jemalloc/ or name it with JEMALLOC_TARBALL.')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  fetchJemalloc().then((file) => console.log(file), (err) => {
    process.stderr.write(`[jemalloc fetch] ${err.message}\n`)
    process.exit(1)
  })
}
