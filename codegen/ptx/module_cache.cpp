#include "codegen/ptx/module_cache.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "codegen/ptx/kernel_sources.h"

namespace brickc::ptx {
namespace {

namespace fs = std::filesystem;

// Bump when the entry layout or the key's fields change, so stale entries are never read.
constexpr std::string_view kKeyFormat = "brickc-kernel-cache-v1";
constexpr char kMagic[8] = {'B', 'R', 'K', 'C', 'K', 'E', 'R', '1'};

class Fnv1a128 {
 public:
  // Length-prefixed, so that ("ab","c") and ("a","bc") hash differently.
  void field(std::string_view s) {
    u64(s.size());
    bytes(s);
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::string hex() const {
    return fmt::format("{:016x}{:016x}", static_cast<uint64_t>(h_ >> 64),
                       static_cast<uint64_t>(h_));
  }

 private:
  static constexpr unsigned __int128 kPrime =
      (static_cast<unsigned __int128>(1) << 88) + (1u << 8) + 0x3b;
  void bytes(std::string_view s) {
    for (char c : s) byte(static_cast<uint8_t>(c));
  }
  void byte(uint8_t b) {
    h_ ^= b;
    h_ *= kPrime;
  }
  unsigned __int128 h_ =
      (static_cast<unsigned __int128>(0x6c62272e07bb0142ull) << 64) | 0x62b821756295c58dull;
};

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t get_u64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in[at + i])) << (8 * i);
  return v;
}

// Entry: magic, ptx/cubin/log lengths (u64 LE), the three payloads, then an FNV-1a-64 of
// everything before it, so truncation and bit rot both read as a miss.
std::string encode(const Compiled& c) {
  std::string out(kMagic, sizeof kMagic);
  put_u64(out, c.ptx.size());
  put_u64(out, c.cubin.size());
  put_u64(out, c.log.size());
  out += c.ptx;
  out += c.cubin;
  out += c.log;
  put_u64(out, fnv1a64(out));
  return out;
}

std::optional<Compiled> decode(std::string_view in) {
  constexpr size_t kHeader = sizeof kMagic + 3 * 8;
  if (in.size() < kHeader + 8 || std::memcmp(in.data(), kMagic, sizeof kMagic) != 0) return {};
  uint64_t lens[3] = {get_u64(in, 8), get_u64(in, 16), get_u64(in, 24)};
  uint64_t payload = in.size() - kHeader - 8;
  if (lens[0] > payload || lens[1] > payload - lens[0] || lens[2] != payload - lens[0] - lens[1])
    return {};
  std::string_view body = in.substr(0, in.size() - 8);
  if (get_u64(in, in.size() - 8) != fnv1a64(body)) return {};
  Compiled c;
  c.ptx = body.substr(kHeader, lens[0]);
  c.cubin = body.substr(kHeader + lens[0], lens[1]);
  c.log = body.substr(kHeader + lens[0] + lens[1], lens[2]);
  return c;
}

std::optional<std::string> read_whole(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  std::string s{std::istreambuf_iterator<char>(in), {}};
  if (in.bad()) return {};
  return s;
}

void warn_once(const std::string& msg) {
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true))
    fmt::print(stderr, "brickc: warning: kernel cache disabled for this run: {}\n", msg);
}

// Writes to a temporary file in the same directory, then renames it into place, so a
// reader sees either no entry or a whole one. Returns why not on failure.
std::string store(const fs::path& dir, const std::string& key, const Compiled& c) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fmt::format("cannot create {}: {}", dir.string(), ec.message());
  static std::atomic<unsigned> counter{0};
  fs::path tmp = dir / fmt::format("{}.tmp.{}.{}", key, ::getpid(), counter++);
  std::string bytes = encode(c);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      return fmt::format("writing {} failed", tmp.string());
    }
  }
  fs::rename(tmp, dir / key, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return fmt::format("cannot rename {} into place: {}", tmp.string(), ec.message());
  }
  return {};
}

}  // namespace

std::string kernel_cache_dir() {
  auto env = [](const char* n) -> std::string {
    const char* v = std::getenv(n);
    return v ? v : "";
  };
  if (std::string off = env("BRICKC_NO_KERNEL_CACHE"); !off.empty() && off != "0") return {};
  if (std::string d = env("BRICKC_CACHE_DIR"); !d.empty()) return d;
  if (std::string d = env("XDG_CACHE_HOME"); !d.empty()) return d + "/brickc/kernels";
  if (std::string d = env("HOME"); !d.empty()) return d + "/.cache/brickc/kernels";
  return {};
}

std::string kernel_cache_key(std::string_view source, std::string_view name,
                             const CompileOptions& o, std::string_view device_tag) {
  Fnv1a128 h;
  h.field(kKeyFormat);
  h.field(source);
  h.field(name);
  // The headers are part of the input: the source may #include any of them.
  h.u64(kernel_files().size());
  for (const KernelFile& k : kernel_files()) {
    h.field(k.name);
    h.field(k.text);
  }
  h.u64(o.want_cubin);
  std::vector<std::string> opts = nvrtc_options(o, o.want_cubin);
  h.u64(opts.size());
  for (const std::string& s : opts) h.field(s);
  NvrtcVersion v = nvrtc_version();
  h.u64(static_cast<uint64_t>(v.major));
  h.u64(static_cast<uint64_t>(v.minor));
  h.field(device_tag);
  return h.hex();
}

Compiled compile_cached(std::string_view source, std::string_view name, const CompileOptions& o,
                        std::string_view device_tag, bool* hit) {
  if (hit) *hit = false;
  std::string dir = kernel_cache_dir();
  if (dir.empty()) return compile(source, name, o);
  std::string key = kernel_cache_key(source, name, o, device_tag);
  fs::path path = fs::path(dir) / key;
  if (std::optional<std::string> bytes = read_whole(path)) {
    if (std::optional<Compiled> c = decode(*bytes)) {
      if (hit) *hit = true;
      return std::move(*c);
    }
  }
  Compiled c = compile(source, name, o);
  if (std::string why = store(dir, key, c); !why.empty()) warn_once(why);
  return c;
}

}  // namespace brickc::ptx
