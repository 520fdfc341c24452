import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

// Benches run compiled (dist/bench/*.js); children are spawned from the same directory as this module.
export const benchDir = dirname(fileURLToPath(import.meta.url))
