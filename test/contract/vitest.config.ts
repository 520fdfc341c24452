import { defineConfig } from 'vitest/config'

// The allocator contract, run once per build by test/allocator-builds.test.ts in a child process whose
// environment picks the build (ARENAKV_BINARY) and how it is loaded (LD_PRELOAD for tcmalloc and ASAN).
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    pool: 'forks',
    include: ['test/contract/*.contract.ts'],
    testTimeout: 120_000,
  },
})
