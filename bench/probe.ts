// Child: reports which allocator the loaded build links, as that build says at run time.
import { allocator } from '../lib/allocator.js'
import { runChild } from './child.js'
import type { AllocatorEnv } from './env.js'

runChild<{ build: string }, AllocatorEnv>(({ build }) => {
  return { build, name: allocator.name, version: allocator.version } satisfies AllocatorEnv
})
