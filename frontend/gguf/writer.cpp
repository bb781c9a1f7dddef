#include "frontend/gguf/writer.h"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "ir/error.h"

namespace brickc::gguf {
namespace {

constexpr uint32_t kVersion = 3;
constexpr uint32_t kDefaultAlignment = 32;
constexpr size_t kMaxNameBytes = 63;  // ggml's GGML_MAX_NAME (64) less the NUL
constexpr size_t kMaxDims = 4;
constexpr size_t kBufferBytes = size_t{1} << 20;
// Far beyond any disk, and small enough that offsets plus padding never wrap.
constexpr uint64_t kMaxDataBytes = uint64_t{1} << 62;

uint64_t pad_to(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

template <typename T>
void append(std::string& b, T x) {
  b.append(reinterpret_cast<const char*>(&x), sizeof(T));
}

void append_string(std::string& b, std::string_view s) {
  append<uint64_t>(b, s.size());
  b.append(s);
}

// Checks that a Value holds what its type says, in the stored width, before anything is
// written: a Value built by hand (not by the factories) could claim u8 and hold 300.
void check_value(const std::string& path, const std::string& key, const Value& v,
                 bool in_array) {
  auto bad = [&](std::string_view why) {
    fail("{}: metadata key '{}': {} value {}", path, key, name(v.type), why);
  };
  auto fits_unsigned = [&](uint64_t max) {
    const auto* x = std::get_if<uint64_t>(&v.v);
    if (!x) bad("does not hold an unsigned integer");
    if (*x > max) bad(fmt::format("{} does not fit", *x));
  };
  auto fits_signed = [&](int64_t min, int64_t max) {
    const auto* x = std::get_if<int64_t>(&v.v);
    if (!x) bad("does not hold a signed integer");
    if (*x < min || *x > max) bad(fmt::format("{} does not fit", *x));
  };
  switch (v.type) {
    case ValueType::U8: return fits_unsigned(UINT8_MAX);
    case ValueType::U16: return fits_unsigned(UINT16_MAX);
    case ValueType::U32: return fits_unsigned(UINT32_MAX);
    case ValueType::U64: return fits_unsigned(UINT64_MAX);
    case ValueType::I8: return fits_signed(INT8_MIN, INT8_MAX);
    case ValueType::I16: return fits_signed(INT16_MIN, INT16_MAX);
    case ValueType::I32: return fits_signed(INT32_MIN, INT32_MAX);
    case ValueType::I64: return fits_signed(INT64_MIN, INT64_MAX);
    case ValueType::F32: case ValueType::F64:
      if (!std::holds_alternative<double>(v.v)) bad("does not hold a floating-point number");
      return;
    case ValueType::BOOL:
      if (!std::holds_alternative<bool>(v.v)) bad("does not hold a bool");
      return;
    case ValueType::STRING:
      if (!std::holds_alternative<std::string>(v.v)) bad("does not hold a string");
      return;
    case ValueType::ARRAY: {
      if (in_array)
        fail("{}: metadata key '{}': nested arrays cannot be stored in GGUF", path, key);
      const auto* a = std::get_if<Array>(&v.v);
      if (!a) bad("does not hold an array");
      if (a->elem == ValueType::ARRAY)
        fail("{}: metadata key '{}': nested arrays cannot be stored in GGUF", path, key);
      for (size_t i = 0; i < a->items.size(); ++i) {
        if (a->items[i].type != a->elem)
          fail("{}: metadata key '{}': element #{} has type {}, but the array holds {}", path,
               key, i, name(a->items[i].type), name(a->elem));
        check_value(path, key, a->items[i], true);
      }
      return;
    }
  }
  fail("{}: metadata key '{}': unknown value type id {}", path, key,
       static_cast<uint32_t>(v.type));
}

void append_scalar(std::string& b, const Value& v) {
  switch (v.type) {
    case ValueType::U8: return append<uint8_t>(b, static_cast<uint8_t>(std::get<uint64_t>(v.v)));
    case ValueType::U16: return append<uint16_t>(b, static_cast<uint16_t>(std::get<uint64_t>(v.v)));
    case ValueType::U32: return append<uint32_t>(b, static_cast<uint32_t>(std::get<uint64_t>(v.v)));
    case ValueType::U64: return append<uint64_t>(b, std::get<uint64_t>(v.v));
    case ValueType::I8: return append<int8_t>(b, static_cast<int8_t>(std::get<int64_t>(v.v)));
    case ValueType::I16: return append<int16_t>(b, static_cast<int16_t>(std::get<int64_t>(v.v)));
    case ValueType::I32: return append<int32_t>(b, static_cast<int32_t>(std::get<int64_t>(v.v)));
    case ValueType::I64: return append<int64_t>(b, std::get<int64_t>(v.v));
    case ValueType::F32: return append<float>(b, static_cast<float>(std::get<double>(v.v)));
    case ValueType::F64: return append<double>(b, std::get<double>(v.v));
    case ValueType::BOOL: return append<uint8_t>(b, std::get<bool>(v.v) ? 1 : 0);
    case ValueType::STRING: return append_string(b, std::get<std::string>(v.v));
    case ValueType::ARRAY: return;  // rejected by check_value
  }
}

void append_value(std::string& b, const Value& v) {
  append<uint32_t>(b, static_cast<uint32_t>(v.type));
  if (v.type != ValueType::ARRAY) return append_scalar(b, v);
  const auto& a = std::get<Array>(v.v);
  append<uint32_t>(b, static_cast<uint32_t>(a.elem));
  append<uint64_t>(b, a.items.size());
  for (const auto& x : a.items) append_scalar(b, x);
}

}  // namespace

Writer::Writer(std::string path, uint32_t alignment)
    : path_(std::move(path)), alignment_(alignment) {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
    fail("{}: alignment {} is not a power of two", path_, alignment_);
  tmp_path_ = fmt::format("{}.tmp.{}", path_, ::getpid());
  f_ = std::fopen(tmp_path_.c_str(), "wb");
  if (!f_) {
    int e = errno;
    fail("{}: cannot create the temporary file {}: {}", path_, tmp_path_, std::strerror(e));
  }
  std::setvbuf(f_, nullptr, _IOFBF, kBufferBytes);
}

Writer::~Writer() {
  if (f_) std::fclose(f_);
  if (!finished_) std::remove(tmp_path_.c_str());
}

void Writer::add(std::string key, Value v) {
  if (header_written_)
    fail("{}: metadata key '{}' added after tensor data was started", path_, key);
  if (key.empty()) fail("{}: metadata key is empty", path_);
  for (const auto& [k, _] : kv_)
    if (k == key) fail("{}: metadata key '{}' added twice", path_, key);
  check_value(path_, key, v, false);
  if (key == "general.alignment" &&
      (v.type != ValueType::U32 || std::get<uint64_t>(v.v) != alignment_))
    fail("{}: general.alignment must be the u32 {} given to the Writer, got {} {}", path_,
         alignment_, name(v.type), v.to_string());
  kv_.emplace_back(std::move(key), std::move(v));
}

void Writer::add_tensor(std::string name, std::vector<int64_t> ne, DType type) {
  if (header_written_) fail("{}: tensor '{}' declared after tensor data was started", path_, name);
  if (name.size() > kMaxNameBytes)
    fail("{}: tensor name '{}' is {} bytes, ggml allows at most {}", path_, name, name.size(),
         kMaxNameBytes);
  for (const auto& t : tensors_)
    if (t.name == name) fail("{}: tensor '{}' declared twice", path_, name);
  if (ne.empty() || ne.size() > kMaxDims)
    fail("{}: tensor '{}' has {} dimensions, expected 1 to {}", path_, name, ne.size(), kMaxDims);
  int64_t n = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] <= 0) fail("{}: tensor '{}' has ne[{}] = {}, expected > 0", path_, name, d, ne[d]);
    if (n > std::numeric_limits<int64_t>::max() / ne[d])
      fail("{}: tensor '{}': element count overflows int64", path_, name);
    n *= ne[d];
  }
  auto rb = row_bytes(type, static_cast<uint64_t>(ne[0]));
  if (!rb)
    fail("{}: tensor '{}': ne[0] = {} is not a multiple of {}'s block size {}", path_, name,
         ne[0], brickc::name(type), info(type).block_elems);
  uint64_t rows = static_cast<uint64_t>(n / ne[0]);
  uint64_t offset = data_bytes();
  if (offset > kMaxDataBytes || rows > (kMaxDataBytes - offset) / *rb)
    fail("{}: tensor '{}': {} rows of {} bytes at offset {} exceed the {} bytes a file may hold",
         path_, name, rows, *rb, offset, kMaxDataBytes);
  tensors_.push_back({std::move(name), std::move(ne), type, *rb * rows, offset});
}

uint64_t Writer::data_bytes() const {
  if (tensors_.empty()) return 0;
  const auto& t = tensors_.back();
  return t.offset + pad_to(t.nbytes, alignment_);
}

void Writer::put(const void* p, size_t n) {
  if (n == 0) return;
  if (std::fwrite(p, 1, n, f_) != n) {
    int e = errno;
    fail("{}: writing {} bytes to {} failed: {}", path_, n, tmp_path_, std::strerror(e));
  }
}

void Writer::write_header() {
  bool add_alignment = alignment_ != kDefaultAlignment;
  for (const auto& [k, _] : kv_)
    if (k == "general.alignment") add_alignment = false;

  std::string b;
  b.append("GGUF", 4);
  append<uint32_t>(b, kVersion);
  append<uint64_t>(b, tensors_.size());
  append<uint64_t>(b, kv_.size() + (add_alignment ? 1 : 0));
  if (add_alignment) {
    append_string(b, "general.alignment");
    append_value(b, Value::u32(alignment_));
  }
  for (const auto& [k, v] : kv_) {
    append_string(b, k);
    append_value(b, v);
  }
  for (const auto& t : tensors_) {
    append_string(b, t.name);
    append<uint32_t>(b, static_cast<uint32_t>(t.ne.size()));
    for (int64_t x : t.ne) append<int64_t>(b, x);
    append<uint32_t>(b, static_cast<uint32_t>(t.type));
    append<uint64_t>(b, t.offset);
  }
  // The data section starts at the next multiple of the alignment (GGUF spec).
  b.resize(pad_to(b.size(), alignment_), '\0');
  header_written_ = true;
  put(b.data(), b.size());
}

void Writer::end_tensor() {
  const auto& t = tensors_[next_ - 1];
  if (written_ != t.nbytes)
    fail("{}: tensor '{}' ({} {}) received {} bytes, expected {}", path_, t.name,
         brickc::name(t.type), fmt::join(t.ne, "x"), written_, t.nbytes);
  static const std::vector<uint8_t> zeros(1 << 16, 0);
  uint64_t pad = pad_to(t.nbytes, alignment_) - t.nbytes;
  while (pad > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(pad, zeros.size()));
    put(zeros.data(), n);
    pad -= n;
  }
}

void Writer::begin_tensor(std::string_view name) {
  if (finished_) fail("{}: tensor '{}' begun after finish()", path_, name);
  if (!header_written_) write_header();
  if (next_ > 0) end_tensor();
  if (next_ >= tensors_.size() || tensors_[next_].name != name) {
    for (size_t i = 0; i < tensors_.size(); ++i) {
      if (tensors_[i].name != name) continue;
      if (i < next_) fail("{}: tensor '{}' was already written", path_, name);
      fail("{}: tensor '{}' begun out of order: the next declared tensor is '{}'", path_, name,
           tensors_[next_].name);
    }
    fail("{}: tensor '{}' was not declared with add_tensor()", path_, name);
  }
  ++next_;
  written_ = 0;
}

void Writer::write(std::span<const uint8_t> bytes) {
  if (finished_ || next_ == 0) fail("{}: write() outside begin_tensor() ... finish()", path_);
  const auto& t = tensors_[next_ - 1];
  if (bytes.size() > t.nbytes - written_)
    fail("{}: tensor '{}' ({} {}) given {} bytes, more than its {}", path_, t.name,
         brickc::name(t.type), fmt::join(t.ne, "x"), written_ + bytes.size(), t.nbytes);
  put(bytes.data(), bytes.size());
  written_ += bytes.size();
}

void Writer::finish() {
  if (finished_) fail("{}: finish() called twice", path_);
  if (!header_written_) write_header();
  if (next_ < tensors_.size())
    fail("{}: tensor '{}' was declared but not written ({} of {} tensors written)", path_,
         tensors_[next_].name, next_, tensors_.size());
  if (next_ > 0) end_tensor();
  std::FILE* f = f_;
  f_ = nullptr;
  if (std::fflush(f) != 0) {
    int e = errno;
    std::fclose(f);
    fail("{}: writing {} failed: {}", path_, tmp_path_, std::strerror(e));
  }
  if (std::fclose(f) != 0) {
    int e = errno;
    fail("{}: closing {} failed: {}", path_, tmp_path_, std::strerror(e));
  }
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    fail("{}: renaming {} to it failed: {}", path_, tmp_path_, std::strerror(e));
  }
  finished_ = true;
}

}  // namespace brickc::gguf
