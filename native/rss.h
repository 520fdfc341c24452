// Process memory as the kernel sees it.
#pragma once

#include <cstdint>

namespace arenakv {

// Resident set size from /proc/self/stat (field 24, in pages), as Redis's zmalloc_get_rss; -1 if unreadable.
int64_t rssBytes();
// Private_Dirty summed over mappings (/proc/self/smaps_rollup, else smaps), as Redis's
// zmalloc_get_private_dirty; -1 if unreadable.
int64_t privateDirtyBytes();

}  // namespace arenakv
