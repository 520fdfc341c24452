// Zeroed memory straight from the kernel for the keyspace's large typed arrays. V8 frees an ArrayBuffer's
// memory only when a GC collects it, so a table replaced during a resize stayed resident for as long as V8
// waited (0-14 MB measured during a 64 MB fill); pages from here are handed back the moment they are released.
#pragma once

#include <cstddef>

namespace arenakv {

// Maps `bytes` (rounded up to whole pages) of zeroed, private memory; nullptr when the kernel refuses.
void* pagesMap(size_t bytes);
// Drops the pages from the resident set at once; the range stays mapped and reads as zeros.
void pagesRelease(void* addr, size_t bytes);
void pagesUnmap(void* addr, size_t bytes);

}  // namespace arenakv
