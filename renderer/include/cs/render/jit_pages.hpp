#pragma once
// llvmpipe compiles each shader variant with LLVM on first use, touching
// tens of megabytes of libLLVM's code; once the variants exist that code
// sits unused but resident. After warm-up the render thread tells the kernel
// those clean, file-backed pages may go (MADV_PAGEOUT); they come back by
// page fault if a new variant is ever compiled. Any thread.
#include <cstddef>

namespace cs::render {

// Returns the bytes advised, 0 if there was nothing to do or the kernel
// refused (older than 5.4).
std::size_t release_jit_compiler_pages();

}  // namespace cs::render
