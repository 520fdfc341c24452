#!/usr/bin/env node
// Obtains jemalloc's pinned release tarball (version.json) and verifies its sha256, through the fetch order
// every allocator shares (deps/fetch-source.js): a local tarball or JEMALLOC_TARBALL, the upstream release,
// then Debian's source package. Prints the verified tarball's path on stdout; progress goes to stderr.
import { dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { fetchMain, fetchSource, readPin } from '../fetch-source.js'

const here = dirname(fileURLToPath(import.meta.url))
export const pin = readPin(here)
export const fetchJemalloc = () => fetchSource('jemalloc', here, pin)

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) fetchMain('jemalloc', here)
