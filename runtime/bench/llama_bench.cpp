#include "runtime/bench/llama_bench.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ir/error.h"

extern char** environ;

namespace brickc::bench {
namespace {

using json = nlohmann::ordered_json;

std::string preview(std::string_view s) {
  std::string p(s.substr(0, 200));
  return p.empty() ? "(nothing)" : "'" + p + (s.size() > 200 ? "...'" : "'");
}

// Error unless `path` is an executable regular file.
void check_executable(const std::string& path, const std::string& given) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    fail("llama-bench '{}' not found: {}", given, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("llama-bench '{}' is not a regular file", given);
  if (::access(path.c_str(), X_OK) != 0) fail("llama-bench '{}' is not executable", given);
}

const json& field(const json& e, const char* key, size_t index) {
  auto it = e.find(key);
  if (it == e.end()) fail("llama-bench output: test {} has no '{}'", index, key);
  return *it;
}

int int_field(const json& e, const char* key, size_t index) {
  const json& v = field(e, key, index);
  if (!v.is_number_integer())
    fail("llama-bench output: test {}: '{}' is {}, expected an integer", index, key, v.dump());
  return v.get<int>();
}

double number_field(const json& e, const char* key, size_t index) {
  const json& v = field(e, key, index);
  if (!v.is_number())
    fail("llama-bench output: test {}: '{}' is {}, expected a number", index, key, v.dump());
  return v.get<double>();
}

std::string string_field(const json& e, const char* key) {
  auto it = e.find(key);
  return it != e.end() && it->is_string() ? it->get<std::string>() : "";
}

LlamaBenchTest read_test(const json& e, size_t index) {
  LlamaBenchTest t;
  t.n_prompt = int_field(e, "n_prompt", index);
  t.n_gen = int_field(e, "n_gen", index);
  if (e.contains("n_depth")) t.n_depth = int_field(e, "n_depth", index);
  t.avg_ts = number_field(e, "avg_ts", index);
  t.stddev_ts = number_field(e, "stddev_ts", index);
  if (auto it = e.find("samples_ts"); it != e.end()) {
    if (!it->is_array()) fail("llama-bench output: test {}: 'samples_ts' is not an array", index);
    for (const json& v : *it) {
      if (!v.is_number()) fail("llama-bench output: test {}: 'samples_ts' holds {}", index, v.dump());
      t.samples_ts.push_back(v.get<double>());
    }
  }
  return t;
}

}  // namespace

std::vector<std::string> llama_bench_argv(const LlamaBenchRequest& r) {
  std::vector<std::string> a = {r.binary,
                                "-m", r.model,
                                "-p", std::to_string(r.n_prompt),
                                "-n", std::to_string(r.n_gen),
                                "-r", std::to_string(r.reps),
                                "-ngl", std::to_string(r.n_gpu_layers),
                                "-fa", r.flash_attn ? "1" : "0",
                                "-ub", std::to_string(r.n_ubatch)};
  if (r.n_depth > 0) a.insert(a.end(), {"-d", std::to_string(r.n_depth)});
  if (r.threads > 0) a.insert(a.end(), {"-t", std::to_string(r.threads)});
  if (r.cache_k != "f16") a.insert(a.end(), {"-ctk", r.cache_k});
  if (r.cache_v != "f16") a.insert(a.end(), {"-ctv", r.cache_v});
  a.insert(a.end(), {"-o", "json"});
  return a;
}

LlamaBenchResult parse_llama_bench(std::string_view out, int n_prompt, int n_gen,
                                   int n_depth) {
  json doc = json::parse(out.begin(), out.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    fail("llama-bench output is not JSON (expected the array of `-o json`); it begins with {}",
         preview(out));
  if (!doc.is_array()) fail("llama-bench output is JSON but not an array: {}", preview(out));
  LlamaBenchResult r;
  bool have_pp = false, have_tg = false;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& e = doc[i];
    if (!e.is_object()) fail("llama-bench output: test {} is not an object", i);
    LlamaBenchTest t = read_test(e, i);
    // Tests after another prefilled context (-d) measure something else.
    if (t.n_depth != n_depth) continue;
    if (!have_pp && t.n_prompt == n_prompt && t.n_gen == 0) {
      r.pp = std::move(t);
      have_pp = true;
    } else if (!have_tg && t.n_prompt == 0 && t.n_gen == n_gen) {
      r.tg = std::move(t);
      have_tg = true;
    } else {
      continue;
    }
    r.build_commit = string_field(e, "build_commit");
    r.model_type = string_field(e, "model_type");
    r.backends = string_field(e, "backends");
    r.gpu_info = string_field(e, "gpu_info");
    r.cpu_info = string_field(e, "cpu_info");
  }
  const std::string at = n_depth > 0 ? fmt::format(" @ d{}", n_depth) : "";
  const std::string depth = n_depth > 0 ? fmt::format(", n_depth {}", n_depth) : "";
  if (!have_pp)
    fail("llama-bench output has no pp{}{} test (n_prompt {}, n_gen 0{})", n_prompt, at, n_prompt,
         depth);
  if (!have_tg)
    fail("llama-bench output has no tg{}{} test (n_prompt 0, n_gen {}{})", n_gen, at, n_gen, depth);
  r.raw = std::move(doc);
  return r;
}

std::string find_llama_bench(const std::string& binary) {
  if (binary.empty()) fail("--llama-bench: empty path");
  if (binary.find('/') != std::string::npos) {
    check_executable(binary, binary);
    return binary;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "";
  while (true) {
    const size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + binary;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  fail("llama-bench '{}' not found in $PATH", binary);
}

LlamaBenchResult run_llama_bench(const LlamaBenchRequest& req) {
  LlamaBenchRequest r = req;
  r.binary = find_llama_bench(req.binary);
  const std::vector<std::string> args = llama_bench_argv(r);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("llama-bench: pipe failed: {}", std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, r.binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    fail("llama-bench '{}' could not be started: {}", req.binary, std::strerror(rc));
  }

  std::string out;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("llama-bench: waitpid failed: {}", std::strerror(errno));
  }
  if (WIFSIGNALED(status))
    fail("llama-bench '{}' was killed by signal {} ({})", req.binary, WTERMSIG(status),
         strsignal(WTERMSIG(status)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("llama-bench '{}' exited with code {} (its messages are above)", req.binary,
         WEXITSTATUS(status));

  LlamaBenchResult res = parse_llama_bench(out, r.n_prompt, r.n_gen, r.n_depth);
  res.binary = r.binary;
  res.argv = args;
  return res;
}

}  // namespace brickc::bench
