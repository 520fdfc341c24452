#include "rss.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace arenakv {

int64_t rssBytes() {
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  // The command name (field 2) may contain spaces and parentheses: count fields after its last ')'.
  char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  int field = 2;
  while (*p != '\0' && field < 24) {
    if (*p == ' ') field++;
    p++;
  }
  if (field != 24) return -1;
  long long pages = std::strtoll(p, nullptr, 10);
  return static_cast<int64_t>(pages) * sysconf(_SC_PAGESIZE);
}

int64_t privateDirtyBytes() {
  FILE* f = std::fopen("/proc/self/smaps_rollup", "re");
  if (f == nullptr) f = std::fopen("/proc/self/smaps", "re");
  if (f == nullptr) return -1;
  char line[256];
  int64_t total = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "Private_Dirty:", 14) == 0) total += std::strtoll(line + 14, nullptr, 10) * 1024;
  }
  std::fclose(f);
  return total;
}

}  // namespace arenakv
