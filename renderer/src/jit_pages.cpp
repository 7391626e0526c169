#include "cs/render/jit_pages.hpp"

#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

namespace cs::render {

std::size_t release_jit_compiler_pages() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::size_t advised = 0;
  while (std::getline(maps, line)) {
    // Only the compiler's own code and read-only data: never writable
    // mappings, and never the JIT-generated shader code (anonymous).
    if (line.find("libLLVM") == std::string::npos) continue;
    unsigned long start = 0, end = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &start, &end, perms) != 3) continue;
    if (perms[1] == 'w') continue;
    if (madvise(reinterpret_cast<void*>(start), end - start, MADV_PAGEOUT) == 0)
      advised += end - start;
  }
  return advised;
}

}  // namespace cs::render
