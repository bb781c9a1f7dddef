#include "codegen/ptx/nvrtc.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <link.h>

#include <algorithm>
#include <charconv>

#include "codegen/ptx/kernel_sources.h"
#include "codegen/ptx/nvrtc_abi.h"
#include "ir/error.h"

namespace brickc::ptx {
namespace {

struct NvrtcApi {
#define BRICKC_NVRTC_MEMBER(name, ret, ...) ret (*name)(__VA_ARGS__) = nullptr;
  BRICKC_NVRTC_ENTRY_POINTS(BRICKC_NVRTC_MEMBER)
#undef BRICKC_NVRTC_MEMBER
};

struct Loaded {
  NvrtcApi api{};
  NvrtcVersion version;
  std::string error;  // empty when loaded
};

Loaded load() {
  Loaded l;
  // CUDA 13 toolkits ship libnvrtc.so.13, CUDA 12 ones .so.12.
  void* lib = nullptr;
  std::string tried;
  for (const char* n : {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"}) {
    if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
    const char* e = dlerror();
    tried += fmt::format("{}{}", tried.empty() ? "" : "; ", e ? e : n);
  }
  if (!lib) {
    l.error = fmt::format("NVRTC not found ({})", tried);
    return l;
  }
  if (link_map* m = nullptr; dlinfo(lib, RTLD_DI_LINKMAP, &m) == 0 && m) l.version.library = m->l_name;
  NvrtcApi& a = l.api;
#define BRICKC_NVRTC_RESOLVE(name, ...)                                          \
  a.name = reinterpret_cast<decltype(a.name)>(dlsym(lib, #name));                \
  if (!a.name) {                                                                 \
    l.error = fmt::format("symbol {} missing from NVRTC ({})", #name, l.version.library); \
    return l;                                                                    \
  }
  BRICKC_NVRTC_ENTRY_POINTS(BRICKC_NVRTC_RESOLVE)
#undef BRICKC_NVRTC_RESOLVE
  if (nvrtcResult r = a.nvrtcVersion(&l.version.major, &l.version.minor); r != NVRTC_SUCCESS)
    l.error = fmt::format("nvrtcVersion failed: {}", a.nvrtcGetErrorString(r));
  return l;
}

const Loaded& loaded() {
  static const Loaded l = load();
  if (!l.error.empty()) fail("{}", l.error);  // names NVRTC and what went wrong
  return l;
}

const NvrtcApi& api() { return loaded().api; }

void check(nvrtcResult r, std::string_view call, std::string_view name) {
  if (r != NVRTC_SUCCESS)
    fail("NVRTC call {} failed for {}: {}", call, name, api().nvrtcGetErrorString(r));
}

// "sm_90a" -> "compute_90a": the virtual architecture whose PTX the real one runs.
std::string virtual_arch(std::string_view arch) {
  if (!arch.starts_with("sm_") || arch.size() < 5)
    fail("CUDA architecture '{}' is not of the form sm_XX (e.g. sm_90)", arch);
  return fmt::format("compute_{}", arch.substr(3));
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// The source lines around the first "<file>(<line>): error" of an NVRTC log, numbered,
// taken from the generated source or the embedded header the location names.
std::string error_context(std::string_view log, std::string_view source, std::string_view name) {
  for (std::string_view l : split_lines(log)) {
    size_t at = l.find("): ");
    if (at == std::string_view::npos) continue;
    std::string_view what = l.substr(at + 3);
    if (!what.starts_with("error") && !what.starts_with("catastrophic error")) continue;
    size_t open = l.rfind('(', at);
    if (open == std::string_view::npos || open == 0) continue;
    int line = 0;
    std::string_view digits = l.substr(open + 1, at - open - 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), line);
    if (ec != std::errc() || p != digits.data() + digits.size() || line < 1) continue;
    std::string_view file = l.substr(0, open);
    std::string_view text;
    if (file == name) {
      text = source;
    } else {
      std::string_view base = file.substr(file.rfind('/') + 1);
      for (const KernelFile& k : kernel_files())
        if (k.name == base) text = k.text;
      if (text.empty()) return {};
    }
    std::vector<std::string_view> lines = split_lines(text);
    size_t first = static_cast<size_t>(std::max(1, line - 3));
    size_t last = std::min(lines.size(), static_cast<size_t>(line) + 3);
    std::string out = fmt::format("{}:\n", file);
    for (size_t i = first; i <= last; ++i)
      out += fmt::format("{} {:5} | {}\n", i == static_cast<size_t>(line) ? '>' : ' ', i,
                         lines[i - 1]);
    return out;
  }
  return {};
}

std::string trim_log(std::string log) {
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n' || log.back() == ' '))
    log.pop_back();
  return log;
}

}  // namespace

NvrtcVersion nvrtc_version() { return loaded().version; }

std::vector<std::string> nvrtc_options(const CompileOptions& o, bool for_cubin) {
  std::string arch = virtual_arch(o.arch);
  if (for_cubin) arch = o.arch;
  std::vector<std::string> opts = {"-std=c++17", "--gpu-architecture=" + arch, "-default-device"};
  opts.insert(opts.end(), o.extra.begin(), o.extra.end());
  return opts;
}

Compiled compile(std::string_view source, std::string_view name, const CompileOptions& o) {
  // One compile for a real architecture yields both its PTX and its cubin. The options
  // (and the architecture's form) are checked before NVRTC is needed.
  std::vector<std::string> opts = nvrtc_options(o, o.want_cubin);
  const NvrtcApi& a = api();
  std::vector<const char*> opt_ptrs;
  for (const std::string& s : opts) opt_ptrs.push_back(s.c_str());

  std::vector<std::string> header_texts, header_names;
  for (const KernelFile& k : kernel_files()) {
    header_texts.emplace_back(k.text);
    header_names.emplace_back(k.name);
  }
  std::vector<const char*> text_ptrs, name_ptrs;
  for (size_t i = 0; i < header_texts.size(); ++i) {
    text_ptrs.push_back(header_texts[i].c_str());
    name_ptrs.push_back(header_names[i].c_str());
  }

  const std::string src(source), prog_name(name);
  nvrtcProgram prog = nullptr;
  check(a.nvrtcCreateProgram(&prog, src.c_str(), prog_name.c_str(), static_cast<int>(text_ptrs.size()),
                 text_ptrs.data(), name_ptrs.data()),
        "nvrtcCreateProgram", name);
  struct Destroy {
    const NvrtcApi& a;
    nvrtcProgram* p;
    ~Destroy() { a.nvrtcDestroyProgram(p); }
  } destroy{a, &prog};

  nvrtcResult r = a.nvrtcCompileProgram(prog, static_cast<int>(opt_ptrs.size()), opt_ptrs.data());
  Compiled out;
  size_t n = 0;
  check(a.nvrtcGetProgramLogSize(prog, &n), "nvrtcGetProgramLogSize", name);
  out.log.resize(n);
  if (n) check(a.nvrtcGetProgramLog(prog, out.log.data()), "nvrtcGetProgramLog", name);
  out.log = trim_log(std::move(out.log));
  if (r != NVRTC_SUCCESS) {
    std::string context = error_context(out.log, source, name);
    if (out.log.empty()) out.log = a.nvrtcGetErrorString(r);
    fail("NVRTC failed to compile {}:\n{}\n{}", name, out.log, context);
  }

  check(a.nvrtcGetPTXSize(prog, &n), "nvrtcGetPTXSize", name);
  out.ptx.resize(n);
  if (n) check(a.nvrtcGetPTX(prog, out.ptx.data()), "nvrtcGetPTX", name);
  if (!out.ptx.empty() && out.ptx.back() == '\0') out.ptx.pop_back();
  if (o.want_cubin) {
    check(a.nvrtcGetCUBINSize(prog, &n), "nvrtcGetCUBINSize", name);
    out.cubin.resize(n);
    if (n) check(a.nvrtcGetCUBIN(prog, out.cubin.data()), "nvrtcGetCUBIN", name);
  }
  return out;
}

}  // namespace brickc::ptx
