import { mkdirSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { TopLevelSpec } from './specs.js'
import { formatEnv, type AllocatorEnv, type MachineEnv } from './env.js'

export type Cell = string | number | null

export interface Table {
  title: string
  columns: string[]
  rows: Cell[][]
}

export interface ChartSpec {
  /** File name stem: the SVG is written as <suite>-<name>.svg. */
  name: string
  title: string
  spec: TopLevelSpec
}

/** What a suite hands back: tables to print, charts to render, notes, and its figures as JSON. */
export interface SuiteReport {
  suite: string
  title: string
  allocators: AllocatorEnv[]
  tables: Table[]
  charts: ChartSpec[]
  /** Sentences printed under the tables (ratios against peers, goals, what could not be measured and why). */
  notes: string[]
  data: Record<string, unknown>
}

function formatCell(c: Cell): string {
  if (c === null) return '—'
  if (typeof c === 'string') return c
  if (!Number.isFinite(c)) return String(c)
  if (Number.isInteger(c)) return c.toLocaleString('en-US')
  const abs = Math.abs(c)
  return abs >= 100 ? c.toFixed(0) : abs >= 10 ? c.toFixed(1) : c.toFixed(2)
}

export function formatTable(t: Table): string {
  const cells = t.rows.map((r) => r.map(formatCell))
  const widths = t.columns.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  return [t.title, line(t.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n')
}

export function markdownTable(t: Table): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|')
  // Text columns align left, figures right (a column is text when any of its cells is a string).
  const textColumn = t.columns.map((_, i) => i === 0 || t.rows.some((r) => typeof r[i] === 'string'))
  return [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${textColumn.map((text) => (text ? '---' : '---:')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map((c) => esc(formatCell(c))).join(' | ')} |`),
  ].join('\n')
}

export function printReport(r: SuiteReport, log: (line: string) => void): void {
  log('')
  log(`== ${r.title}`)
  for (const t of r.tables) log('\n' + formatTable(t))
  if (r.notes.length > 0) log('\n' + r.notes.map((n) => `• ${n}`).join('\n'))
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path)
  } catch {
    return null
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Makes sure the reports can be written to `outDir` before any suite runs (a full run takes many minutes, and
 * writeReports comes last): creates the directory when it is missing, then creates and removes a file in it.
 * Throws an Error whose message starts with `--out <outDir>:` and says what is in the way.
 */
export function prepareOutDir(outDir: string): void {
  const refuse = (why: string): never => {
    throw new Error(`--out ${outDir}: ${why}`)
  }
  const stats = statOrNull(outDir)
  if (stats !== null && !stats.isDirectory()) refuse('not a directory (it is a file)')
  if (stats === null) {
    try {
      mkdirSync(outDir, { recursive: true })
    } catch (err) {
      // Name the first ancestor that exists and is not a directory, the usual reason (ENOTDIR).
      for (let dir = dirname(resolve(outDir)); dir !== dirname(dir); dir = dirname(dir)) {
        const st = statOrNull(dir)
        if (st !== null && !st.isDirectory()) refuse(`cannot create the directory: ${dir} is a file, not a directory`)
        if (st !== null) break
      }
      refuse(`cannot create the directory: ${errorText(err)}`)
    }
  }
  // Permission bits do not tell (root ignores them; a read-only mount does not show in them): try a write.
  const probe = join(outDir, `.arenakv-write-check-${process.pid}`)
  try {
    writeFileSync(probe, '', { flag: 'wx' })
    rmSync(probe)
  } catch (err) {
    refuse(`cannot write in the directory: ${errorText(err)}`)
  }
}

export interface WrittenFiles {
  json: string[]
  svg: string[]
  markdown: string
  /** Why no SVG was written and what adds the charts (vega and vega-lite are optional), or null. */
  chartsSkipped: string | null
}

/** The chart renderer, or null when vega or vega-lite is not installed (both are optional peerDependencies). */
async function loadRenderer(): Promise<((spec: TopLevelSpec) => Promise<string>) | null> {
  try {
    return (await import('./chart.js')).renderSvg
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown } | null
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && typeof e.message === 'string' && /'vega(-lite)?'/.test(e.message)) return null
    throw err
  }
}

export const CHARTS_SKIPPED = 'Charts skipped: vega and vega-lite are not installed (`npm install vega vega-lite` adds them).'

/**
 * Writes <suite>.json (env + figures), <suite>-<chart>.svg and one report.md that embeds every table and chart.
 */
export async function writeReports(
  outDir: string,
  env: MachineEnv,
  scale: string,
  reports: readonly SuiteReport[],
): Promise<WrittenFiles> {
  // vega is loaded only when charts are written, and only when installed: the tables and JSON need nothing more.
  const renderSvg = await loadRenderer()
  mkdirSync(outDir, { recursive: true })
  const written: WrittenFiles = { json: [], svg: [], markdown: join(outDir, 'report.md'), chartsSkipped: renderSvg === null ? CHARTS_SKIPPED : null }
  const md: string[] = ['# arenakv bench report', '', '```', formatEnv(env, uniqueAllocators(reports)), `scale: ${scale}`, '```']
  if (written.chartsSkipped !== null) md.push('', written.chartsSkipped)
  for (const r of reports) {
    const jsonFile = join(outDir, `${r.suite}.json`)
    writeFileSync(jsonFile, JSON.stringify({ suite: r.suite, env, scale, allocators: r.allocators, ...r.data }, null, 2) + '\n')
    written.json.push(jsonFile)
    md.push('', `## ${r.title}`, '', `Figures: [${r.suite}.json](${r.suite}.json)`)
    for (const t of r.tables) md.push('', `**${t.title}**`, '', markdownTable(t))
    if (r.notes.length > 0) md.push('', ...r.notes.map((n) => `- ${n}`))
    if (renderSvg === null) continue
    for (const c of r.charts) {
      const file = `${r.suite}-${c.name}.svg`
      writeFileSync(join(outDir, file), await renderSvg(c.spec))
      written.svg.push(join(outDir, file))
      md.push('', `![${c.title}](${file})`)
    }
  }
  writeFileSync(written.markdown, md.join('\n') + '\n')
  return written
}

function uniqueAllocators(reports: readonly SuiteReport[]): AllocatorEnv[] {
  const seen = new Map<string, AllocatorEnv>()
  for (const r of reports) for (const a of r.allocators) seen.set(`${a.build}/${a.name}/${a.version}`, a)
  return [...seen.values()]
}
