// tcmalloc.cc compiled without its libc and operator new/delete overrides, so the tcmalloc linked into the addon
// is the engine's private heap reached only through tc_* (native/zmalloc.cc) and never replaces the process's
// malloc: memory glibc or libstdc++ hand out elsewhere in the addon must still go back to glibc's free.
// libc_override.h (included by tcmalloc.cc) defines malloc, free, operator new/delete and the rest as aliases of
// tc_*, and its ReplaceSystemAlloc installs glibc's hooks; defining its include guard first leaves all of that
// out, and ReplaceSystemAlloc does nothing.
#define TCMALLOC_LIBC_OVERRIDE_INL_H_
static void ReplaceSystemAlloc() {}

#include "tcmalloc.cc"
