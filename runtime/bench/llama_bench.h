// Runs an installed llama.cpp `llama-bench` on a model file and reads its JSON report, so
// that `brickc bench --llama-bench PATH` puts both on one table. Not a llama.cpp binding:
// the binary is a separate process; its stderr passes through to ours.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace brickc::bench {

struct LlamaBenchRequest {
  std::string binary;  // a path, or a bare name looked up in $PATH
  std::string model;
  int n_prompt = 512, n_gen = 128, reps = 5;
  int n_ubatch = 512;     // -ub
  int n_depth = 0;        // > 0: passed as -d (llama-bench before -d existed needs 0)
  int n_gpu_layers = 99;  // 0: llama.cpp on the CPU
  int threads = 0;        // > 0: passed as -t
  bool flash_attn = true;
  std::string cache_k = "f16", cache_v = "f16";  // -ctk, -ctv
};

// One llama-bench test (a pp or a tg row).
struct LlamaBenchTest {
  int n_prompt = 0, n_gen = 0, n_depth = 0;
  double avg_ts = 0, stddev_ts = 0;  // tok/s: mean and sample stddev over repetitions
  std::vector<double> samples_ts;    // per repetition (older llama-bench: absent, empty)
};

struct LlamaBenchResult {
  std::string binary;
  std::vector<std::string> argv;  // the command that ran, binary first
  LlamaBenchTest pp, tg;
  std::string build_commit, model_type, backends, gpu_info, cpu_info;  // "" when absent
  nlohmann::ordered_json raw;  // the whole array it printed, in its order
};

// The argument vector for a request: BINARY -m MODEL -p P -n N -r R -ngl L -fa 0|1 -ub U
// [-d D] [-t T] -o json.
std::vector<std::string> llama_bench_argv(const LlamaBenchRequest& r);

// Reads llama-bench's `-o json` output (an array of test objects; a pp test has n_gen 0, a
// tg test n_prompt 0) and picks the tests with n_prompt / n_gen at depth n_depth (a test
// without n_depth, from a llama-bench before -d, is at depth 0). Errors: not JSON (the
// first 200 characters are shown), not an array of objects, a field missing or of the
// wrong type, no such test.
LlamaBenchResult parse_llama_bench(std::string_view out, int n_prompt, int n_gen,
                                   int n_depth = 0);

// Runs it and parses its stdout. Errors: binary not found or not executable, a non-zero
// exit (with the code) or a signal, unparseable output.
LlamaBenchResult run_llama_bench(const LlamaBenchRequest& r);

// Error unless `binary` resolves to an executable file (so that a bad path fails before a
// long benchmark, not after); the resolved path.
std::string find_llama_bench(const std::string& binary);

}  // namespace brickc::bench
