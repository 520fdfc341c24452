// arenakv's own additions to the vendored mimalloc, compiled with it against its internal headers (mimalloc 2.0.9,
// pinned in version.json): what a shared engine's per-thread heaps need and the public API lacks
// (ARCHITECTURE.md "Sharing"). Every symbol stays hidden, like mimalloc's own.
#include "mimalloc.h"
#include "mimalloc-internal.h"

// Takes every abandoned segment into `heap`, on its own thread: the segments of threads that exited, or detached
// from a shared store, with blocks still live (other threads' keys). Their pages join the heap, so its allocations
// reuse what other threads' frees emptied there and its collections hand empty pages back; mimalloc itself reclaims
// them only when some thread needs a new segment, rare with 32 MiB segments committed on demand.
void arenakv_mi_heap_reclaim_abandoned(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  _mi_abandoned_reclaim_all(heap, &heap->tld->segments);
}

// Before a heap is deleted: its pages with live blocks are abandoned, as a thread's are when it exits, so that any
// thread can reclaim them (mi_heap_delete would move them to this thread's default heap, where only this thread,
// which allocates nothing there, could ever collect them).
void arenakv_mi_heap_abandon(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  _mi_heap_collect_abandon(heap);
}
