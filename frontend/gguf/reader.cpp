#include "frontend/gguf/reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "frontend/gguf/parse.h"
#include "ir/error.h"

namespace brickc::gguf {

struct File::Mapping {
  std::string path;
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  uint64_t data_offset = 0;

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data) munmap(const_cast<uint8_t*>(data), size);
  }
};

namespace {

// gguf-split names parts <prefix>-%05d-of-%05d.gguf, numbered from 1.
struct SplitName {
  std::string prefix;
  uint32_t no = 0;
  uint32_t count = 0;
};

std::optional<SplitName> parse_split_name(const std::string& path) {
  constexpr std::string_view kTail = "-00000-of-00000.gguf";
  if (path.size() < kTail.size()) return std::nullopt;
  std::string_view tail(path.data() + path.size() - kTail.size(), kTail.size());
  uint32_t no = 0, count = 0;
  for (size_t i = 0; i < kTail.size(); ++i) {
    if (kTail[i] != '0') {
      if (tail[i] != kTail[i]) return std::nullopt;
      continue;
    }
    if (tail[i] < '0' || tail[i] > '9') return std::nullopt;
    uint32_t& n = i < 6 ? no : count;
    n = n * 10 + static_cast<uint32_t>(tail[i] - '0');
  }
  return SplitName{path.substr(0, path.size() - kTail.size()), no, count};
}

std::string split_path(const std::string& prefix, uint64_t no, uint64_t count) {
  return fmt::format("{}-{:05d}-of-{:05d}.gguf", prefix, no, count);
}

bool is_int(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
    case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
      return true;
    default:
      return false;
  }
}

template <typename T>
std::optional<T> int_if_fits(const Value& v) {
  if (const auto* u = std::get_if<uint64_t>(&v.v))
    return std::in_range<T>(*u) ? std::optional<T>(static_cast<T>(*u)) : std::nullopt;
  int64_t s = std::get<int64_t>(v.v);
  return std::in_range<T>(s) ? std::optional<T>(static_cast<T>(s)) : std::nullopt;
}

std::string type_text(const Value& v) {
  if (v.type != ValueType::ARRAY) return std::string(name(v.type));
  return fmt::format("array of {}", name(std::get<Array>(v.v).elem));
}

const Value* find_in(const std::vector<std::pair<std::string, Value>>& kv,
                     std::string_view key) {
  for (const auto& [k, v] : kv)
    if (k == key) return &v;
  return nullptr;
}

// An integer-valued metadata entry of a part, as u64; nullopt when absent.
std::optional<uint64_t> part_uint(const std::string& path,
                                  const std::vector<std::pair<std::string, Value>>& kv,
                                  std::string_view key) {
  const Value* v = find_in(kv, key);
  if (!v) return std::nullopt;
  if (!is_int(v->type))
    fail("{}: metadata key '{}' has type {}, expected an integer", path, key, type_text(*v));
  auto x = int_if_fits<uint64_t>(*v);
  if (!x) fail("{}: metadata key '{}' is {}, expected >= 0", path, key, v->to_string());
  return x;
}

}  // namespace

// Builds a File from one path: maps and parses each part, then checks how the parts fit.
class Parser {
 public:
  static std::unique_ptr<File::Mapping> map(const std::string& path, std::string_view role) {
    auto fail_errno = [&](const char* op) {
      int e = errno;
      fail("{}: cannot {} {}: {}", path, op, role, std::strerror(e));
    };
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then rejects it.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) fail_errno("open");
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      fail_errno("stat");
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      fail("{}: {} is not a regular file", path, role);
    }
    if (st.st_size == 0) {
      ::close(fd);
      fail("{}: {} is empty (0 bytes): not a GGUF file", path, role);
    }
    auto m = std::make_unique<File::Mapping>();
    m->path = path;
    m->size = static_cast<uint64_t>(st.st_size);
    void* p = ::mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) fail("{}: cannot map {}: {}", path, role, std::strerror(e));
    m->data = static_cast<const uint8_t*>(p);
    return m;
  }

  static void load(File& f, const std::string& path) {
    auto m = map(path, "the model file");
    ParsedPart p = parse_part(path, m->data, m->size);
    auto count = part_uint(path, p.kv, "split.count");
    auto name = parse_split_name(path);
    if (!count) {
      if (name && name->count > 1)
        fail("{}: the file name says part {} of {}, but the file has no split.count key", path,
             name->no, name->count);
      adopt(f, std::move(m), std::move(p), 0);
      return;
    }
    if (*count == 0) fail("{}: metadata key 'split.count' is 0, expected >= 1", path);
    if (*count == 1) {
      check_part(path, p, 0, 1);
      adopt(f, std::move(m), std::move(p), 0);
      return;
    }
    if (!name)
      fail("{}: split.count is {}, but the name does not end in -NNNNN-of-NNNNN.gguf, so the "
           "other parts cannot be found",
           path, *count);
    if (name->count != *count)
      fail("{}: split.count is {}, but the file name says {} parts", path, *count, name->count);
    if (name->no < 1 || name->no > *count)
      fail("{}: the file name says part {} of {}", path, name->no, *count);

    // Parts are opened in order, the named one is reused; metadata comes from part 1.
    uint64_t n_tensors = 0;
    std::optional<uint64_t> declared;
    for (uint64_t i = 0; i < *count; ++i) {
      std::string pi = split_path(name->prefix, i + 1, *count);
      std::unique_ptr<File::Mapping> mi;
      ParsedPart qi;
      if (i + 1 == name->no) {
        mi = std::move(m);
        qi = std::move(p);
      } else {
        mi = map(pi, fmt::format("split part {} of {} (named by {})", i + 1, *count, path));
        qi = parse_part(pi, mi->data, mi->size);
      }
      check_part(pi, qi, i, *count);
      if (i == 0) {
        declared = part_uint(pi, qi.kv, "split.tensors.count");
        if (!declared)
          fail("{}: metadata key 'split.tensors.count' is missing (expected in part 1 of a "
               "split model)",
               pi);
      }
      n_tensors += qi.tensors.size();
      adopt(f, std::move(mi), std::move(qi), static_cast<uint32_t>(i));
    }
    if (n_tensors != *declared)
      fail("{}: split.tensors.count is {}, but the {} parts hold {} tensors", f.maps_[0]->path,
           *declared, *count, n_tensors);
  }

 private:
  static void check_part(const std::string& path, const ParsedPart& p, uint64_t index,
                         uint64_t count) {
    auto c = part_uint(path, p.kv, "split.count");
    if (!c && count > 1) fail("{}: metadata key 'split.count' is missing (part {} of {})", path,
                              index + 1, count);
    if (c && *c != count)
      fail("{}: split.count is {}, expected {} (the count of part 1)", path, *c, count);
    auto no = part_uint(path, p.kv, "split.no");
    if (!no && count > 1)
      fail("{}: metadata key 'split.no' is missing (part {} of {})", path, index + 1, count);
    if (no && *no != index)
      fail("{}: split.no is {}, expected {} (split.no counts from 0; this is part {} of {})",
           path, *no, index, index + 1, count);
  }

  // The first part gives the metadata, version and alignment; every part adds tensors.
  static void adopt(File& f, std::unique_ptr<File::Mapping> m, ParsedPart p, uint32_t split) {
    m->data_offset = p.data_offset;
    if (split == 0) {
      f.version_ = p.version;
      f.alignment_ = p.alignment;
      f.kv_ = std::move(p.kv);
    }
    for (auto& t : p.tensors) {
      if (const TensorInfo* other = f.find_tensor(t.name))
        fail("{}: tensor '{}' is also in {}", m->path, t.name, f.maps_[other->split]->path);
      t.split = split;
      f.tensors_.push_back(std::move(t));
    }
    f.maps_.push_back(std::move(m));
  }
};

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t x : ne) n *= x;
  return n;
}

std::string TensorInfo::shape_string() const { return fmt::format("[{}]", fmt::join(ne, ", ")); }

std::unique_ptr<File> File::open(const std::string& path) {
  std::unique_ptr<File> f(new File);
  f->path_ = path;
  Parser::load(*f, path);
  return f;
}

File::~File() = default;

uint64_t File::total_bytes() const {
  uint64_t n = 0;
  for (const auto& m : maps_) n += m->size;
  return n;
}

const std::string& File::part_path(uint32_t split) const { return maps_.at(split)->path; }
uint64_t File::part_bytes(uint32_t split) const { return maps_.at(split)->size; }
uint64_t File::data_offset(uint32_t split) const { return maps_.at(split)->data_offset; }

const Value* File::find(std::string_view key) const { return find_in(kv_, key); }

std::optional<uint32_t> File::find_u32(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!is_int(v->type))
    fail("{}: metadata key '{}' has type {}, expected an integer that fits u32", path_, key,
         type_text(*v));
  auto x = int_if_fits<uint32_t>(*v);
  if (!x)
    fail("{}: metadata key '{}' is {} ({}), which does not fit u32", path_, key, v->to_string(),
         name(v->type));
  return x;
}

uint32_t File::get_u32(std::string_view key) const {
  auto x = find_u32(key);
  if (!x) fail("{}: metadata key '{}' is missing (expected an integer that fits u32)", path_, key);
  return *x;
}

std::optional<float> File::find_f32(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::F32 && v->type != ValueType::F64)
    fail("{}: metadata key '{}' has type {}, expected f32 or f64", path_, key, type_text(*v));
  return static_cast<float>(std::get<double>(v->v));
}

float File::get_f32(std::string_view key) const {
  auto x = find_f32(key);
  if (!x) fail("{}: metadata key '{}' is missing (expected f32)", path_, key);
  return *x;
}

std::optional<std::string> File::find_str(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::STRING)
    fail("{}: metadata key '{}' has type {}, expected string", path_, key, type_text(*v));
  return std::get<std::string>(v->v);
}

std::string File::get_str(std::string_view key) const {
  auto x = find_str(key);
  if (!x) fail("{}: metadata key '{}' is missing (expected string)", path_, key);
  return *x;
}

std::vector<std::string> File::get_str_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) fail("{}: metadata key '{}' is missing (expected array of string)", path_, key);
  if (v->type != ValueType::ARRAY || std::get<Array>(v->v).elem != ValueType::STRING)
    fail("{}: metadata key '{}' has type {}, expected array of string", path_, key,
         type_text(*v));
  const auto& items = std::get<Array>(v->v).items;
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& x : items) out.push_back(std::get<std::string>(x.v));
  return out;
}

std::vector<int32_t> File::get_i32_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) fail("{}: metadata key '{}' is missing (expected array of i32)", path_, key);
  if (v->type != ValueType::ARRAY || !is_int(std::get<Array>(v->v).elem))
    fail("{}: metadata key '{}' has type {}, expected array of i32", path_, key, type_text(*v));
  const auto& items = std::get<Array>(v->v).items;
  std::vector<int32_t> out;
  out.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    auto x = int_if_fits<int32_t>(items[i]);
    if (!x)
      fail("{}: metadata key '{}' element #{} is {}, which does not fit i32", path_, key, i,
           items[i].to_string());
    out.push_back(*x);
  }
  return out;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorInfo& File::tensor(std::string_view name) const {
  if (const TensorInfo* t = find_tensor(name)) return *t;
  fail("{}: tensor '{}' not found (the file has {} tensors)", path_, name, tensors_.size());
}

}  // namespace brickc::gguf
