// Child: reports which allocator the loaded build links, as that build says at run time, or why it does not load
// (a shared library it links is missing, say), so the parent can name the build in one line.
import { runChild } from './child.js'
import type { AllocatorEnv } from './env.js'

export type ProbeResult = { ok: true; env: AllocatorEnv } | { ok: false; error: string }

runChild<{ build: string }, ProbeResult>(async ({ build }) => {
  let allocator: typeof import('../lib/allocator.js').allocator
  try {
    allocator = (await import('../lib/allocator.js')).allocator
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message.split('\n')[0] : String(err) }
  }
  const env: AllocatorEnv = { build, name: allocator.name, version: allocator.version }
  return { ok: true, env }
})
