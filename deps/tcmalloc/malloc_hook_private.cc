// malloc_hook.cc compiled without its Linux mmap/munmap/mremap/sbrk wrappers (malloc_hook_mmap_linux.h), which
// exist only to feed the heap profiler's hooks, left out of this "minimal" build. Linked into the addon they
// would take over every mmap call the addon makes; without __linux, malloc_hook.cc falls back to calling the
// system's mmap and munmap directly for tcmalloc's own needs (MallocHook::UnhookedMMap).
#undef __linux
#include "malloc_hook.cc"
