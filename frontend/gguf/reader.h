// GGUF reader: memory-maps a model file (or all parts of a split model), validates every
// header field, metadata entry and tensor record before use, and exposes them read-only.
// Any malformed input is an Error naming the file, the field or tensor, and what was
// expected; no byte sequence makes it read out of bounds.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontend/gguf/value.h"
#include "ir/dtype.h"

namespace brickc::gguf {

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the contiguous row length; 1..4 dims
  DType type;
  uint64_t offset = 0;      // as stored: relative to its file's data section
  uint64_t nbytes = 0;      // validated: fits inside the file
  const uint8_t* data = nullptr;  // into the mapping, valid while the File lives
  uint32_t split = 0;       // index of the file (0 for unsplit models)

  int64_t n_elements() const;
  int64_t n_rows() const { return ne.empty() ? 0 : n_elements() / ne[0]; }
  std::string shape_string() const;  // "[1536, 151936]"
};

class File {
 public:
  // Opens `path`. A name of the form <prefix>-00001-of-0000N.gguf opens all N parts
  // (validating split.no / split.count / split.tensors.count) and merges their tensors;
  // metadata comes from the first part.
  static std::unique_ptr<File> open(const std::string& path);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint32_t n_splits() const { return static_cast<uint32_t>(maps_.size()); }
  uint64_t total_bytes() const;  // all parts
  // Per part (the index is TensorInfo::split): its path, size in bytes, and the file
  // offset where its data section starts (TensorInfo::offset is relative to that).
  const std::string& part_path(uint32_t split) const;
  uint64_t part_bytes(uint32_t split) const;
  uint64_t data_offset(uint32_t split) const;

  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;

  // Typed access. Integer getters accept any stored integer type whose value fits;
  // a missing key (get_*) or a wrong type is an Error naming the file, key, expected
  // and found type.
  uint32_t get_u32(std::string_view key) const;
  std::optional<uint32_t> find_u32(std::string_view key) const;
  float get_f32(std::string_view key) const;  // f32 or f64
  std::optional<float> find_f32(std::string_view key) const;
  std::string get_str(std::string_view key) const;
  std::optional<std::string> find_str(std::string_view key) const;
  std::vector<std::string> get_str_array(std::string_view key) const;
  std::vector<int32_t> get_i32_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;
  const TensorInfo& tensor(std::string_view name) const;  // Error if missing

 private:
  File() = default;
  struct Mapping;
  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  std::vector<std::unique_ptr<Mapping>> maps_;
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<TensorInfo> tensors_;
  friend class Parser;
};

}  // namespace brickc::gguf
