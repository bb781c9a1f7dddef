#include "codegen/ptx/kernel_sources.h"

#include <fmt/format.h>

#include <string>

#include "ir/error.h"

namespace brickc::ptx {

std::span<const KernelFile> kernel_files() {
  return {detail::kEmbeddedKernels, detail::kEmbeddedKernelCount};
}

std::string_view kernel_file(std::string_view name) {
  std::string known;
  for (const KernelFile& f : kernel_files()) {
    if (f.name == name) return f.text;
    known += fmt::format("{}{}", known.empty() ? "" : ", ", f.name);
  }
  fail("no embedded kernel file {} (known: {})", name, known.empty() ? "none" : known);
}

}  // namespace brickc::ptx
