#include "pages.h"

#include <sys/mman.h>
#include <unistd.h>

namespace arenakv {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t roundToPages(size_t bytes) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

}  // namespace

void* pagesMap(size_t bytes) {
  void* p = mmap(nullptr, roundToPages(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void pagesRelease(void* addr, size_t bytes) { madvise(addr, roundToPages(bytes), MADV_DONTNEED); }

void pagesUnmap(void* addr, size_t bytes) { munmap(addr, roundToPages(bytes)); }

}  // namespace arenakv
