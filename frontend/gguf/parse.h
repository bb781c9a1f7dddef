// Parses the bytes of one GGUF file (one part of a split model) into metadata and tensor
// records, checking every field against the bytes actually present. Internal to the
// reader: it knows nothing of mmap or of how split parts fit together.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontend/gguf/reader.h"
#include "frontend/gguf/value.h"

namespace brickc::gguf {

struct ParsedPart {
  uint32_t version = 0;
  uint32_t alignment = 32;
  uint64_t data_offset = 0;  // file offset of the data section (aligned end of the infos)
  std::vector<std::pair<std::string, Value>> kv;
  std::vector<TensorInfo> tensors;  // `data` points into the given bytes; `split` is 0
};

// `path` is only used in error messages.
ParsedPart parse_part(std::string_view path, const uint8_t* bytes, uint64_t size);

}  // namespace brickc::gguf
