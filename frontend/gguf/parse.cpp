#include "frontend/gguf/parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "ir/error.h"

namespace brickc::gguf {
namespace {

static_assert(std::endian::native == std::endian::little,
              "GGUF fields are read with memcpy, which assumes a little-endian host");

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
// Smallest possible records. Counts are bounded by the bytes that remain before anything
// is allocated: a key/value is a u64 key length, >= 1 key byte, an i32 type and >= 1
// value byte; a tensor info is a u64 name length, a u32 n_dims, >= 1 i64 dim, an i32
// type and a u64 offset.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
// ggml's GGML_MAX_NAME is 64 and counts the terminating NUL.
constexpr uint64_t kMaxNameBytes = 63;
constexpr uint32_t kMaxDims = 4;
constexpr uint32_t kNumValueTypes = 13;
// Each metadata value is held as a Value (about 50 bytes), so a file that is one huge u8
// array would need ~50x its size in memory. Real models hold < 1M values (vocabulary,
// token types, merges); 16x that keeps a hostile file's worst case under 1 GB.
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 24;
constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();

// A name for messages: quoted, control bytes escaped, very long names cut.
std::string shown(std::string_view s) {
  std::string out = "'";
  size_t n = std::min<size_t>(s.size(), 80);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F || c == '\'' || c == '\\')
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  out += '\'';
  if (n < s.size()) out += fmt::format(" (cut, {} bytes)", s.size());
  return out;
}

// Where in the file a field belongs; turned into text only when an error is raised.
struct Where {
  enum class Kind { kHeader, kKey, kTensor } kind;
  uint64_t index = 0;
  std::string_view name = {};
};

std::string describe(const Where& w) {
  switch (w.kind) {
    case Where::Kind::kHeader:
      return "header";
    case Where::Kind::kKey:
      return w.name.empty() ? fmt::format("metadata key #{}", w.index)
                            : fmt::format("metadata key #{} {}", w.index, shown(w.name));
    case Where::Kind::kTensor:
      return w.name.empty() ? fmt::format("tensor #{}", w.index)
                            : fmt::format("tensor {}", shown(w.name));
  }
  return "?";
}

// A field within a record, e.g. "array element" #5.
struct What {
  const char* text;
  uint64_t index = kNone;
};

std::string describe(const What& w) {
  return w.index == kNone ? std::string(w.text) : fmt::format("{} #{}", w.text, w.index);
}

// Stored size of a value of type t; strings have a u64 length and at least 0 bytes.
uint64_t min_stored_bytes(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    case ValueType::STRING: return 8;
    case ValueType::ARRAY: return 12;
  }
  return 1;
}

class PartParser {
 public:
  PartParser(std::string_view path, const uint8_t* bytes, uint64_t size)
      : path_(path), b_(bytes), size_(size) {}

  ParsedPart run() {
    ParsedPart out;
    read_header(out);
    read_metadata(out);
    read_alignment(out);
    read_tensor_infos(out);
    place_tensors(out);
    return out;
  }

 private:
  template <typename... Args>
  [[noreturn]] void error(const Where& w, fmt::format_string<Args...> f, Args&&... args) {
    fail("{}: {}: {}", path_, describe(w), fmt::format(f, std::forward<Args>(args)...));
  }

  uint64_t left() const { return size_ - pos_; }

  void need(uint64_t n, const Where& w, const What& what) {
    if (n > left())
      error(w, "{} needs {} bytes at offset {}, but only {} bytes are left in the file",
            describe(what), n, pos_, left());
  }

  template <typename T>
  T get(const Where& w, const What& what) {
    need(sizeof(T), w, what);
    T x;
    std::memcpy(&x, b_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return x;
  }

  std::string_view get_string(const Where& w, const What& what) {
    uint64_t n = get<uint64_t>(w, what);
    if (n > left())
      error(w, "{} length {} exceeds the {} bytes left in the file", describe(what), n, left());
    std::string_view s(reinterpret_cast<const char*>(b_ + pos_), n);
    pos_ += n;
    return s;
  }

  void read_header(ParsedPart& out) {
    Where h{Where::Kind::kHeader};
    if (size_ < 4 || std::memcmp(b_, kMagic, 4) != 0) {
      std::string text, hex;
      for (uint64_t i = 0; i < std::min<uint64_t>(size_, 4); ++i) {
        text += std::isprint(b_[i]) ? static_cast<char>(b_[i]) : '.';
        hex += fmt::format("{}{:02x}", i ? " " : "", b_[i]);
      }
      if (size_ < 4) error(h, "file is {} bytes, too short to hold the magic 'GGUF'", size_);
      error(h, "magic is '{}' (bytes {}), expected 'GGUF': not a GGUF file", text, hex);
    }
    pos_ = 4;
    uint32_t v = get<uint32_t>(h, {"version"});
    // A version whose low half is 0 is a small version number read with the wrong
    // byte order (llama.cpp's check, since GGUF v3 allows big-endian files).
    if ((v & 0xFFFF) == 0)
      error(h, "version field is 0x{:08x}: file is big-endian or not GGUF", v);
    if (v == 1)
      error(h, "version 1 is not supported (it used 32-bit counts); expected version 2 or 3");
    if (v > 3) error(h, "version {} is newer than this reader; expected version 2 or 3", v);
    out.version = v;
    n_tensors_ = get<uint64_t>(h, {"tensor count"});
    n_kv_ = get<uint64_t>(h, {"metadata count"});
    if (n_kv_ > left() / kMinKvBytes)
      error(h,
            "metadata count {} is implausible: the {} bytes after the header hold at most "
            "{} key/value pairs ({} bytes each at least)",
            n_kv_, left(), left() / kMinKvBytes, kMinKvBytes);
    uint64_t rest = left() - n_kv_ * kMinKvBytes;
    if (n_tensors_ > rest / kMinTensorInfoBytes)
      error(h,
            "tensor count {} is implausible: the {} bytes after the header and {} "
            "key/value pairs hold at most {} tensor infos ({} bytes each at least)",
            n_tensors_, left(), n_kv_, rest / kMinTensorInfoBytes, kMinTensorInfoBytes);
  }

  Value read_scalar(ValueType t, const Where& w, const What& what) {
    switch (t) {
      case ValueType::U8: return Value::u8(get<uint8_t>(w, what));
      case ValueType::I8: return Value::i8(get<int8_t>(w, what));
      case ValueType::U16: return Value::u16(get<uint16_t>(w, what));
      case ValueType::I16: return Value::i16(get<int16_t>(w, what));
      case ValueType::U32: return Value::u32(get<uint32_t>(w, what));
      case ValueType::I32: return Value::i32(get<int32_t>(w, what));
      case ValueType::U64: return Value::u64(get<uint64_t>(w, what));
      case ValueType::I64: return Value::i64(get<int64_t>(w, what));
      case ValueType::F32: return Value::f32(get<float>(w, what));
      case ValueType::F64: return Value::f64(get<double>(w, what));
      case ValueType::BOOL: {
        uint8_t x = get<uint8_t>(w, what);
        if (x > 1) error(w, "{} is a bool stored as {}, expected 0 or 1", describe(what), x);
        return Value::boolean(x != 0);
      }
      case ValueType::STRING: return Value::str(std::string(get_string(w, what)));
      case ValueType::ARRAY: break;
    }
    error(w, "internal: {} of type array read as a scalar", describe(what));
  }

  ValueType get_type(const Where& w, const What& what) {
    uint32_t id = get<uint32_t>(w, what);
    if (id >= kNumValueTypes)
      error(w, "unknown {} id {} (expected 0 to {})", describe(what), id, kNumValueTypes - 1);
    return static_cast<ValueType>(id);
  }

  void count_values(const Where& w, uint64_t n) {
    n_values_ += n;
    if (n_values_ > kMaxMetadataValues)
      error(w, "metadata holds more than {} values (brickc's limit; real models hold < 1M)",
            kMaxMetadataValues);
  }

  Value read_value(const Where& w) {
    ValueType t = get_type(w, {"value type"});
    if (t != ValueType::ARRAY) {
      count_values(w, 1);
      return read_scalar(t, w, {"value"});
    }
    ValueType et = get_type(w, {"array element type"});
    if (et == ValueType::ARRAY) error(w, "nested arrays are not allowed (element type is array)");
    uint64_t n = get<uint64_t>(w, {"array length"});
    uint64_t elem = min_stored_bytes(et);
    if (n > left() / elem)
      error(w,
            "array length {} exceeds the {} bytes left in the file (each {} element takes {}{} "
            "bytes)",
            n, left(), name(et), et == ValueType::STRING ? "at least " : "", elem);
    count_values(w, n);
    std::vector<Value> items;
    items.reserve(n);
    for (uint64_t i = 0; i < n; ++i) items.push_back(read_scalar(et, w, {"array element", i}));
    return Value::array(et, std::move(items));
  }

  void read_metadata(ParsedPart& out) {
    // The count is bounded by the file size, not by memory: reserve little, grow as
    // entries actually parse.
    out.kv.reserve(std::min<uint64_t>(n_kv_, 1024));
    std::unordered_map<std::string_view, uint64_t> seen;
    for (uint64_t i = 0; i < n_kv_; ++i) {
      Where w{Where::Kind::kKey, i};
      std::string_view key = get_string(w, {"key"});
      if (key.empty()) error(w, "key is empty");
      w.name = key;
      if (auto [it, fresh] = seen.emplace(key, i); !fresh)
        error(w, "duplicate key (first defined as metadata key #{})", it->second);
      Value v = read_value(w);
      out.kv.emplace_back(std::string(key), std::move(v));
    }
  }

  void read_alignment(ParsedPart& out) {
    for (uint64_t i = 0; i < out.kv.size(); ++i) {
      const auto& [key, v] = out.kv[i];
      if (key != "general.alignment") continue;
      Where w{Where::Kind::kKey, i, key};
      if (v.type != ValueType::U32) error(w, "type is {}, expected u32", name(v.type));
      uint64_t a = std::get<uint64_t>(v.v);
      if (a == 0 || (a & (a - 1)) != 0)
        error(w, "alignment {} is not a power of two (expected 1, 2, 4, ..., default 32)", a);
      out.alignment = static_cast<uint32_t>(a);
    }
  }

  void read_tensor_infos(ParsedPart& out) {
    out.tensors.reserve(std::min<uint64_t>(n_tensors_, 4096));
    std::unordered_map<std::string_view, uint64_t> seen;
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      Where w{Where::Kind::kTensor, i};
      uint64_t len = get<uint64_t>(w, {"name length"});
      if (len > kMaxNameBytes)
        error(w, "name length {} exceeds ggml's limit of {} bytes", len, kMaxNameBytes);
      need(len, w, {"name"});
      std::string_view nm(reinterpret_cast<const char*>(b_ + pos_), len);
      pos_ += len;
      w.name = nm;
      if (auto [it, fresh] = seen.emplace(nm, i); !fresh)
        error(w, "duplicate tensor name (also tensor #{})", it->second);

      TensorInfo t;
      t.name = std::string(nm);
      uint32_t nd = get<uint32_t>(w, {"n_dims"});
      if (nd < 1 || nd > kMaxDims) error(w, "n_dims is {}, expected 1 to {}", nd, kMaxDims);
      t.ne.resize(nd);
      int64_t n_el = 1;
      for (uint32_t d = 0; d < nd; ++d) {
        int64_t x = get<int64_t>(w, {"ne", d});
        if (x <= 0) error(w, "ne[{}] is {}, expected > 0", d, x);
        if (n_el > std::numeric_limits<int64_t>::max() / x)
          error(w, "element count overflows int64 at ne[{}] = {}", d, x);
        n_el *= x;
        t.ne[d] = x;
      }
      uint32_t type_id = get<uint32_t>(w, {"type"});
      auto dt = dtype_from_ggml(type_id);
      if (!dt) fail("{}: {} has unknown type id {}", path_, describe(w), type_id);
      t.type = *dt;
      auto rb = row_bytes(t.type, static_cast<uint64_t>(t.ne[0]));
      if (!rb)
        error(w, "ne[0] = {} is not a multiple of {}'s block size {}", t.ne[0], name(t.type),
              info(t.type).block_elems);
      uint64_t rows = static_cast<uint64_t>(n_el / t.ne[0]);
      if (*rb != 0 && rows > std::numeric_limits<uint64_t>::max() / *rb)
        error(w, "byte size ({} rows of {} bytes) overflows uint64", rows, *rb);
      t.nbytes = *rb * rows;
      t.offset = get<uint64_t>(w, {"data offset"});
      if (t.offset % out.alignment != 0)
        error(w, "data offset {} is not a multiple of the alignment {}", t.offset, out.alignment);
      out.tensors.push_back(std::move(t));
    }
  }

  // Layout policy: every tensor must be aligned, lie inside the file and not overlap
  // another. llama.cpp is stricter (offset == running sum of padded sizes, i.e. packed in
  // declaration order); files from llama.cpp, gguf-py and our Writer satisfy both, and
  // the looser rule loses nothing in safety.
  void place_tensors(ParsedPart& out) {
    uint64_t a = out.alignment;
    uint64_t pad = (a - pos_ % a) % a;  // pos_ <= size_, so pos_ + pad cannot wrap
    out.data_offset = pos_ + pad;
    uint64_t data_size = size_ > out.data_offset ? size_ - out.data_offset : 0;
    for (uint64_t i = 0; i < out.tensors.size(); ++i) {
      auto& t = out.tensors[i];
      if (t.offset > data_size || t.nbytes > data_size - t.offset)
        error(Where{Where::Kind::kTensor, i, t.name},
              "data (offset {}, {} bytes) ends past the end of the file: the data section "
              "starts at byte {} and holds {} bytes",
              t.offset, t.nbytes, out.data_offset, data_size);
      t.data = b_ + out.data_offset + t.offset;
    }
    std::vector<size_t> order(out.tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return out.tensors[x].offset < out.tensors[y].offset;
    });
    for (size_t k = 1; k < order.size(); ++k) {
      const auto& p = out.tensors[order[k - 1]];
      const auto& t = out.tensors[order[k]];
      if (p.offset + p.nbytes > t.offset)
        error(Where{Where::Kind::kTensor, order[k], t.name},
              "data [{}, {}) overlaps tensor {} at [{}, {})", t.offset, t.offset + t.nbytes,
              shown(p.name), p.offset, p.offset + p.nbytes);
    }
  }

  std::string_view path_;
  const uint8_t* b_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0, n_kv_ = 0, n_values_ = 0;
};

}  // namespace

ParsedPart parse_part(std::string_view path, const uint8_t* bytes, uint64_t size) {
  return PartParser(path, bytes, size).run();
}

}  // namespace brickc::gguf
