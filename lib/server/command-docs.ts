// COMMAND's replies from the command table: COMMAND INFO's ten fields (Redis's addReplyCommandInfo) and
// COMMAND DOCS' maps (addReplyCommandDocs), whose `arguments` come from each entry's syntax line.
import type { RespWriter } from './resp-writer.js'

/** Where a command's keys are, as Redis's legacy (first, last, step) triple, with the key spec's flags. */
export interface KeyPositions {
  first: number
  last: number
  step: number
  /** The key spec's flags: 'RO access', 'RW update', 'OW update', 'RM delete', … */
  flags: string
  /**
   * One key spec per key instead, with these flags, for commands whose keys differ (RENAME's source is
   * 'RW access delete', its destination 'OW update'): spec i is the key at index first + i alone.
   */
  specs?: readonly string[]
}

function writeKeySpec(w: RespWriter, flags: string, index: number, lastkey: number, step: number): void {
  w.map(3)
  w.bulkString('flags')
  const kf = words(flags)
  w.set(kf.length)
  for (const f of kf) w.simple(f)
  w.bulkString('begin_search')
  w.map(2)
  w.bulkString('type')
  w.bulkString('index')
  w.bulkString('spec')
  w.map(1)
  w.bulkString('index')
  w.integer(index)
  w.bulkString('find_keys')
  w.map(2)
  w.bulkString('type')
  w.bulkString('range')
  w.bulkString('spec')
  w.map(3)
  w.bulkString('lastkey')
  w.integer(lastkey)
  w.bulkString('keystep')
  w.integer(step)
  w.bulkString('limit')
  w.integer(0)
}

/** What COMMAND reports of a command; the table's entries extend it. */
export interface CommandMeta {
  /** Lower case; a subcommand's is `container|sub`. */
  readonly name: string
  readonly arity: number
  /** Redis's command flags, space-separated ('write denyoom'). */
  readonly flags: string
  /** ACL categories, space-separated ('@write @string @slow'). */
  readonly acl: string
  readonly keys?: KeyPositions
  /** Command tips, space-separated ('nondeterministic_output'). */
  readonly tips?: string
  readonly group: string
  readonly since: string
  readonly summary: string
  readonly complexity?: string
  /**
   * The arguments after the name, as the docs write them: `key value [NX | XX] [EX seconds | PX milliseconds]`.
   * A lower-case word is an argument (`name:integer` gives its type; `key` is a key, `name:key@1` one of the
   * second key spec), an upper-case word a
   * token, `[…]` optional, `(…)` a block, `|` alternatives, a trailing `...` repeats.
   */
  readonly syntax?: string
  readonly subcommands?: readonly CommandMeta[]
}

function words(text: string | undefined): string[] {
  return text === undefined || text === '' ? [] : text.split(' ')
}

/** One entry of COMMAND / COMMAND INFO. */
export function writeCommandInfo(w: RespWriter, c: CommandMeta): void {
  w.array(10)
  w.bulkString(c.name)
  w.integer(c.arity)
  const flags = words(c.flags)
  w.set(flags.length)
  for (const f of flags) w.simple(f)
  w.integer(c.keys?.first ?? 0)
  w.integer(c.keys?.last ?? 0)
  w.integer(c.keys?.step ?? 0)
  const acl = words(c.acl)
  w.set(acl.length)
  for (const a of acl) w.simple(a)
  const tips = words(c.tips)
  w.set(tips.length)
  for (const t of tips) w.bulkString(t)
  if (c.keys === undefined) {
    w.array(0)
  } else if (c.keys.specs !== undefined) {
    const { first, specs } = c.keys
    w.array(specs.length)
    specs.forEach((flags, i) => writeKeySpec(w, flags, first + i, 0, 1))
  } else {
    const k = c.keys
    w.array(1)
    writeKeySpec(w, k.flags, k.first, k.last < 0 ? k.last : k.last - k.first, k.step)
  }
  const subs = c.subcommands ?? []
  w.array(subs.length)
  for (const s of subs) writeCommandInfo(w, s)
}

/** An argument of COMMAND DOCS. */
export interface DocArg {
  name: string
  type: string
  token?: string
  optional?: boolean
  multiple?: boolean
  keySpecIndex?: number
  arguments?: DocArg[]
}

/** Parses a syntax line (see CommandMeta.syntax) into COMMAND DOCS arguments. */
export function parseSyntax(syntax: string): DocArg[] {
  const tokens = syntax.replace(/([[\]()|])/g, ' $1 ').split(/\s+/).filter((t) => t !== '')
  let i = 0
  const parseAlternatives = (close: string | null): DocArg[][] => {
    const alts: DocArg[][] = [[]]
    while (i < tokens.length) {
      const t = tokens[i]
      if (t === close) {
        i++
        return alts
      }
      if (t === '|') {
        i++
        alts.push([])
        continue
      }
      alts[alts.length - 1].push(parseItem())
    }
    if (close !== null) throw new Error(`unclosed '${close}' in syntax '${syntax}'`)
    return alts
  }
  const combine = (seq: DocArg[], name: string): DocArg => {
    // TOKEN arg → the argument with its token; a lone TOKEN → a pure token; longer → a block.
    if (seq.length === 1) return seq[0]
    if (seq.length === 2 && seq[0].type === 'pure-token' && seq[1].token === undefined && seq[1].arguments === undefined) {
      return { ...seq[1], token: seq[0].token }
    }
    return { name, type: 'block', arguments: seq }
  }
  const group = (alts: DocArg[][]): DocArg => {
    if (alts.length === 1) return combine(alts[0], alts[0].map((a) => a.name).join('-'))
    const options = alts.map((seq) => combine(seq, seq.map((a) => a.name).join('-')))
    return { name: options.map((o) => o.name).join('-'), type: 'oneof', arguments: options }
  }
  const parseItem = (): DocArg => {
    const t = tokens[i++]
    let arg: DocArg
    if (t === '[' || t === '(') {
      arg = group(parseAlternatives(t === '[' ? ']' : ')'))
      if (t === '[') arg.optional = true
    } else {
      const multiple = t.endsWith('...')
      const word = multiple ? t.slice(0, -3) : t
      if (word === word.toUpperCase() && /[A-Z]/.test(word)) {
        arg = { name: word.toLowerCase(), type: 'pure-token', token: word }
      } else {
        // `name:type`; `name:key@1` is a key of the command's second key spec (RENAME's newkey).
        const [name, typeSpec] = word.split(':')
        const [type, spec] = (typeSpec ?? (name === 'key' ? 'key' : 'string')).split('@')
        arg = { name, type }
        if (type === 'key') arg.keySpecIndex = spec === undefined ? 0 : Number(spec)
      }
      if (multiple) arg.multiple = true
    }
    if (i < tokens.length && tokens[i] === '...') {
      i++
      arg.multiple = true
    }
    return arg
  }
  const alts = parseAlternatives(null)
  if (alts.length !== 1) return [group(alts)]
  return alts[0]
}

function writeDocArg(w: RespWriter, a: DocArg): void {
  const flags: string[] = []
  if (a.optional === true) flags.push('optional')
  if (a.multiple === true) flags.push('multiple')
  const n = 2 + +(a.keySpecIndex !== undefined) + +(a.token !== undefined) + +(flags.length > 0) + +(a.arguments !== undefined)
  w.map(n)
  w.bulkString('name')
  w.bulkString(a.name)
  w.bulkString('type')
  w.bulkString(a.type)
  if (a.keySpecIndex !== undefined) {
    w.bulkString('key_spec_index')
    w.integer(a.keySpecIndex)
  }
  if (a.token !== undefined) {
    w.bulkString('token')
    w.bulkString(a.token)
  }
  if (flags.length > 0) {
    w.bulkString('flags')
    w.set(flags.length)
    for (const f of flags) w.simple(f)
  }
  if (a.arguments !== undefined) {
    w.bulkString('arguments')
    w.array(a.arguments.length)
    for (const sub of a.arguments) writeDocArg(w, sub)
  }
}

const parsedSyntax = new WeakMap<CommandMeta, DocArg[]>()

/** One command's COMMAND DOCS map (without its name). */
export function writeCommandDocs(w: RespWriter, c: CommandMeta): void {
  let args = parsedSyntax.get(c)
  if (args === undefined && c.syntax !== undefined) {
    args = parseSyntax(c.syntax)
    parsedSyntax.set(c, args)
  }
  const n = 3 + +(c.complexity !== undefined) + +(args !== undefined && args.length > 0) + +(c.subcommands !== undefined)
  w.map(n)
  w.bulkString('summary')
  w.bulkString(c.summary)
  w.bulkString('since')
  w.bulkString(c.since)
  w.bulkString('group')
  w.bulkString(c.group)
  if (c.complexity !== undefined) {
    w.bulkString('complexity')
    w.bulkString(c.complexity)
  }
  if (args !== undefined && args.length > 0) {
    w.bulkString('arguments')
    w.array(args.length)
    for (const a of args) writeDocArg(w, a)
  }
  if (c.subcommands !== undefined) {
    w.bulkString('subcommands')
    w.map(c.subcommands.length)
    for (const s of c.subcommands) {
      w.bulkString(s.name)
      writeCommandDocs(w, s)
    }
  }
}
