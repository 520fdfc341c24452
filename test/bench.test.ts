// `arenakv bench alloc` on a tiny workload, every allocator build: the files it writes are valid and complete.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const ALLOCATORS = ['jemalloc', 'tcmalloc', 'libc']
const WORKLOAD_FIGURES: Record<string, string[]> = {
  fill_evict: ['ops_per_sec', 'maxmemory', 'used_memory', 'rss_growth', 'rss_growth_ratio', 'evicted_keys', 'keys'],
  mixed: ['ops_per_sec', 'hit_ratio', 'used_memory', 'rss_growth'],
  delete_purge: [
    'keys', 'rss_growth_full', 'used_memory_full', 'del_per_sec', 'rss_growth_after_delete', 'used_memory_after_delete',
    'allocator_frag_ratio_after_delete', 'rss_growth_after_purge', 'purge_released', 'purge_ms',
    'allocator_frag_ratio_after_purge',
  ],
  fragmentation: [
    'used_memory_full', 'used_memory_after_delete', 'allocator_allocated', 'allocator_active', 'allocator_frag_ratio',
    'active_to_allocated', 'rss_growth_to_used',
  ],
}

/**
 * Compiles lib/ and bench/ (tsc) unless every dist/ file is already newer than its source: the bench runs from
 * dist/, and test files run in parallel, so an up-to-date dist/ (as `npm install` leaves it) is not rewritten
 * under another test's feet.
 */
function ensureDist(): void {
  const stale = ['lib', 'bench'].some((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .some((f) => {
        const js = join(root, 'dist', dir, f.replace(/\.ts$/, '.js'))
        return !existsSync(js) || statSync(js).mtimeMs < statSync(join(root, dir, f)).mtimeMs
      }),
  )
  if (stale) {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' })
  }
}

/**
 * XML well-formedness, enough for SVG: every tag closes in order, attributes are quoted, one root element.
 * Returns the root element's name.
 */
function xmlRoot(text: string): string {
  const body = text.replace(/<\?xml[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '')
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/g
  const stack: string[] = []
  let rootName: string | undefined
  let last = 0
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    const between = body.slice(last, m.index)
    if (between.includes('<')) throw new Error(`malformed markup near: ${between.slice(between.indexOf('<'), 80)}`)
    if (stack.length === 0 && rootName !== undefined && between.trim() !== '') throw new Error('text after the root')
    last = tag.lastIndex
    const [, closing, name, , selfClosing] = m
    if (closing === '/') {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`)
      continue
    }
    if (stack.length === 0) {
      if (rootName !== undefined) throw new Error('more than one root element')
      rootName = name
    }
    if (selfClosing !== '/') stack.push(name)
  }
  if (body.slice(last).includes('<')) throw new Error('malformed markup at the end')
  if (stack.length > 0) throw new Error(`unclosed <${stack.at(-1)}>`)
  if (rootName === undefined) throw new Error('no element')
  return rootName
}

describe('arenakv bench alloc --scale tiny', () => {
  let out: string
  let stdout: string

  beforeAll(() => {
    ensureDist()
    out = mkdtempSync(join(tmpdir(), 'arenakv-bench-'))
    stdout = execFileSync(
      process.execPath,
      [join(root, 'dist/lib/cli.js'), 'bench', 'alloc', '--allocators', ALLOCATORS.join(','), '--out', out, '--scale', 'tiny'],
      { cwd: root, encoding: 'utf8', timeout: 170_000 },
    )
  }, 180_000)

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true })
  })

  test('prints the machine, Node and every allocator with its version, then the table', () => {
    expect(stdout).toMatch(/^machine: .+\d+ cores/m)
    expect(stdout).toContain(`node: ${process.version}`)
    expect(stdout).toMatch(/^allocator \[jemalloc\]: jemalloc \d+\.\d+\.\d+/m)
    expect(stdout).toMatch(/^allocator \[tcmalloc\]: tcmalloc \d+\.\d+/m)
    expect(stdout).toMatch(/^allocator \[libc\]: libc \d+\.\d+/m)
    for (const a of ALLOCATORS) expect(stdout).toMatch(new RegExp(`^${a}\\s+[\\d,]+\\s`, 'm'))
  })

  test('every SVG is well-formed XML with an <svg> root', () => {
    const svgs = readdirSync(out).filter((f) => f.endsWith('.svg'))
    expect(svgs.length).toBeGreaterThanOrEqual(3)
    for (const f of svgs) {
      const text = readFileSync(join(out, f), 'utf8')
      expect(xmlRoot(text), f).toBe('svg')
      expect(text).toContain('xmlns="http://www.w3.org/2000/svg"')
    }
  })

  test('the XML check rejects broken markup', () => {
    expect(() => xmlRoot('<svg><g></svg>')).toThrow()
    expect(() => xmlRoot('<svg a=1></svg>')).toThrow()
    expect(() => xmlRoot('<svg></svg><svg></svg>')).toThrow()
    expect(xmlRoot('<?xml version="1.0"?><svg x="1"><g/><!-- c --></svg>')).toBe('svg')
  })

  test('the JSON has every figure for every allocator, as finite numbers', () => {
    const json = JSON.parse(readFileSync(join(out, 'alloc.json'), 'utf8')) as {
      env: { node: string; cores: number }
      scale: string
      allocators: { build: string; name: string; version: string }[]
      figures: Record<string, Record<string, Record<string, unknown>>>
    }
    expect(json.scale).toBe('tiny')
    expect(json.env.node).toBe(process.version)
    expect(json.allocators.map((a) => a.name)).toEqual(ALLOCATORS)
    for (const a of json.allocators) expect(a.version).toMatch(/^\d+\.\d+/)
    expect(Object.keys(json.figures)).toEqual(ALLOCATORS)
    for (const a of ALLOCATORS) {
      for (const [workload, names] of Object.entries(WORKLOAD_FIGURES)) {
        const f = json.figures[a][workload]
        expect(Object.keys(f).sort(), `${a} ${workload}`).toEqual([...names].sort())
        for (const n of names) {
          expect(typeof f[n], `${a} ${workload} ${n}`).toBe('number')
          expect(Number.isFinite(f[n]), `${a} ${workload} ${n}`).toBe(true)
        }
      }
      expect(json.figures[a].fill_evict.ops_per_sec).toBeGreaterThan(0)
      expect(json.figures[a].fill_evict.evicted_keys).toBeGreaterThan(0)
      // allkeys-lru keeps used_memory under maxmemory while writing several times it.
      expect(json.figures[a].fill_evict.used_memory).toBeLessThanOrEqual(json.figures[a].fill_evict.maxmemory as number)
    }
  })

  test('the Markdown report embeds the table and references every SVG', () => {
    const md = readFileSync(join(out, 'report.md'), 'utf8')
    expect(md).toMatch(/^# arenakv bench report/)
    expect(md).toMatch(/^\| allocator \|/m)
    const svgs = readdirSync(out).filter((f) => f.endsWith('.svg'))
    for (const f of svgs) expect(md).toContain(`](${f})`)
    const linked = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1])
    expect(linked.sort()).toEqual(svgs.sort())
  })
})
