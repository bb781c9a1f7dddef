// runtime/bench/llama_bench: a fake llama-bench (a shell script) prints a report in the
// format of llama-bench's `-o json` (fields as its README documents them) with fresh random
// numbers; the parsed tests must give those numbers back, and the command line must be the
// one the anchors were measured with. Failing, garbage-printing and missing binaries give
// clear errors.
#include "runtime/bench/llama_bench.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ir/error.h"
#include "test/unit/temp_files.h"

namespace bb = brickc::bench;
using brickc::testing::read_file;
using brickc::testing::temp_path;
using json = nlohmann::ordered_json;

namespace {

// One entry as llama-bench prints it (tools/llama-bench/README.md, "JSON").
json entry(int n_prompt, int n_gen, const std::vector<double>& samples_ts, int n_depth = 0) {
  double sum = 0;
  for (double t : samples_ts) sum += t;
  const double avg = sum / samples_ts.size();
  double ss = 0;
  for (double t : samples_ts) ss += (t - avg) * (t - avg);
  const double sd = std::sqrt(ss / (samples_ts.size() - 1));
  std::vector<int64_t> samples_ns;
  for (double t : samples_ts) samples_ns.push_back(static_cast<int64_t>((n_prompt + n_gen) / t * 1e9));
  return {{"build_commit", "8cf427ff"}, {"build_number", 5163},
          {"cpu_info", "AMD Ryzen 7 7800X3D 8-Core Processor"},
          {"gpu_info", "NVIDIA H100 80GB HBM3"}, {"backends", "CUDA"},
          {"model_filename", "m.gguf"}, {"model_type", "qwen2 1.5B Q4_K - Medium"},
          {"model_size", 979838976}, {"model_n_params", 1543714304},
          {"n_batch", 2048}, {"n_ubatch", 512}, {"n_threads", 16},
          {"cpu_mask", "0x0"}, {"cpu_strict", false}, {"poll", 50},
          {"type_k", "f16"}, {"type_v", "f16"}, {"n_gpu_layers", 99},
          {"split_mode", "layer"}, {"main_gpu", 0}, {"no_kv_offload", false},
          {"flash_attn", true}, {"tensor_split", "0.00"}, {"use_mmap", true},
          {"embeddings", false}, {"n_prompt", n_prompt}, {"n_gen", n_gen}, {"n_depth", n_depth},
          {"test_time", "2025-04-24T11:58:50Z"}, {"avg_ns", 72135640}, {"stddev_ns", 1453752},
          {"avg_ts", avg}, {"stddev_ts", sd}, {"samples_ns", samples_ns},
          {"samples_ts", samples_ts}};
}

std::vector<double> random_rates(std::mt19937& gen, double center, int n) {
  std::normal_distribution<double> d(center, center * 0.02);
  std::vector<double> v(n);
  for (double& x : v) x = d(gen);
  return v;
}

// An executable script in the test's scratch space.
std::string script(const std::string& name, const std::string& body) {
  const std::string path = temp_path(name);
  {
    std::ofstream out(path, std::ios::trunc);
    out << "#!/bin/sh\n" << body;
  }
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string error_of(const bb::LlamaBenchRequest& r) {
  try {
    bb::run_llama_bench(r);
  } catch (const brickc::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(LlamaBench, RunsTheBinaryAndReadsItsReport) {
  std::random_device rd;
  std::mt19937 gen(rd());
  const auto pp = random_rates(gen, 26000, 3), tg = random_rates(gen, 536, 3);
  const json report = json::array({entry(16, 0, pp), entry(0, 8, tg)});
  const std::string json_path = temp_path("report.json");
  std::ofstream(json_path) << report.dump(2) << "\n";
  const std::string args_path = temp_path("args.txt");
  const std::string bin = script(
      "llama-bench", "printf '%s\\n' \"$@\" > '" + args_path + "'\necho 'loading...' >&2\ncat '" +
                         json_path + "'\n");

  bb::LlamaBenchRequest q;
  q.binary = bin;
  q.model = "/models/m.gguf";
  q.n_prompt = 16;
  q.n_gen = 8;
  q.reps = 3;
  const bb::LlamaBenchResult r = bb::run_llama_bench(q);
  EXPECT_EQ(read_file(args_path),
            "-m\n/models/m.gguf\n-p\n16\n-n\n8\n-r\n3\n-ngl\n99\n-fa\n1\n-ub\n512\n-o\njson"
            "\n");
  EXPECT_EQ(r.binary, bin);
  EXPECT_EQ(r.pp.n_prompt, 16);
  EXPECT_EQ(r.pp.n_gen, 0);
  EXPECT_EQ(r.tg.n_prompt, 0);
  EXPECT_EQ(r.tg.n_gen, 8);
  EXPECT_DOUBLE_EQ(r.pp.avg_ts, report[0]["avg_ts"].get<double>());
  EXPECT_DOUBLE_EQ(r.tg.stddev_ts, report[1]["stddev_ts"].get<double>());
  ASSERT_EQ(r.tg.samples_ts.size(), tg.size());
  for (size_t i = 0; i < tg.size(); ++i) EXPECT_DOUBLE_EQ(r.tg.samples_ts[i], tg[i]);
  EXPECT_EQ(r.build_commit, "8cf427ff");
  EXPECT_EQ(r.backends, "CUDA");
  EXPECT_EQ(r.gpu_info, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(r.raw, report);

  // On the CPU: no layers offloaded, threads given.
  q.n_gpu_layers = 0;
  q.threads = 4;
  bb::run_llama_bench(q);
  EXPECT_EQ(read_file(args_path),
            "-m\n/models/m.gguf\n-p\n16\n-n\n8\n-r\n3\n-ngl\n0\n-fa\n1\n-ub\n512\n-t\n4\n-o\n"
            "json\n");

  // -ub and -d pass through; the tests at that depth are the ones read.
  const auto pp_deep = random_rates(gen, 9000, 3), tg_deep = random_rates(gen, 400, 3);
  const json deep = json::array({entry(16, 0, pp), entry(0, 8, tg), entry(16, 0, pp_deep, 1024),
                                 entry(0, 8, tg_deep, 1024)});
  std::ofstream(json_path, std::ios::trunc) << deep.dump(2) << "\n";
  q.n_ubatch = 128;
  q.n_depth = 1024;
  const bb::LlamaBenchResult d = bb::run_llama_bench(q);
  EXPECT_EQ(read_file(args_path),
            "-m\n/models/m.gguf\n-p\n16\n-n\n8\n-r\n3\n-ngl\n0\n-fa\n1\n-ub\n128\n-d\n1024\n"
            "-t\n4\n-o\njson\n");
  EXPECT_EQ(d.pp.n_depth, 1024);
  EXPECT_DOUBLE_EQ(d.pp.avg_ts, deep[2]["avg_ts"].get<double>());
  EXPECT_DOUBLE_EQ(d.tg.avg_ts, deep[3]["avg_ts"].get<double>());
}

TEST(LlamaBench, FailingAndGarbageBinaries) {
  bb::LlamaBenchRequest q;
  q.model = "m.gguf";
  q.binary = script("fails", "echo 'error: failed to load model' >&2\nexit 3\n");
  EXPECT_NE(error_of(q).find("exited with code 3"), std::string::npos) << error_of(q);

  q.binary = script("garbage", "echo 'Segmentation fault? no: plain text'\n");
  const std::string e = error_of(q);
  EXPECT_NE(e.find("not JSON"), std::string::npos) << e;
  EXPECT_NE(e.find("'Segmentation fault? no: plain text"), std::string::npos) << e;

  q.binary = script("killed", "kill -9 $$\n");
  EXPECT_NE(error_of(q).find("killed by signal 9"), std::string::npos) << error_of(q);
}

TEST(LlamaBench, MissingOrNotExecutable) {
  bb::LlamaBenchRequest q;
  q.binary = temp_path("no-such-llama-bench");
  EXPECT_NE(error_of(q).find("not found"), std::string::npos) << error_of(q);
  EXPECT_THROW(bb::find_llama_bench(q.binary), brickc::Error);

  q.binary = temp_path("plain-file");
  std::ofstream(q.binary) << "not a program\n";
  ::chmod(q.binary.c_str(), 0644);
  EXPECT_NE(error_of(q).find("is not executable"), std::string::npos) << error_of(q);

  q.binary = "brickc-no-such-binary-in-path";
  EXPECT_NE(error_of(q).find("not found in $PATH"), std::string::npos) << error_of(q);
  // A bare name is looked up in $PATH.
  EXPECT_NE(bb::find_llama_bench("sh").find("/sh"), std::string::npos);
}

TEST(LlamaBench, ParseErrors) {
  auto error = [](const std::string& out) {
    try {
      bb::parse_llama_bench(out, 512, 128);
    } catch (const brickc::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  std::mt19937 gen(1);
  const json pp = entry(512, 0, random_rates(gen, 100, 2));
  const json tg = entry(0, 128, random_rates(gen, 10, 2));
  EXPECT_EQ(error(""), "llama-bench output is not JSON (expected the array of `-o json`); it "
                       "begins with (nothing)");
  EXPECT_NE(error(std::string(300, 'x')).find(std::string(200, 'x') + "...'"), std::string::npos);
  EXPECT_NE(error("{}").find("not an array"), std::string::npos);
  EXPECT_NE(error(json::array({pp}).dump()).find("no tg128 test"), std::string::npos);
  EXPECT_NE(error(json::array({tg}).dump()).find("no pp512 test"), std::string::npos);
  json bad = tg;
  bad.erase("avg_ts");
  EXPECT_NE(error(json::array({pp, bad}).dump()).find("test 1 has no 'avg_ts'"), std::string::npos);
  bad = tg;
  bad["n_gen"] = "128";
  EXPECT_NE(error(json::array({pp, bad}).dump()).find("'n_gen' is \"128\", expected an integer"),
            std::string::npos);
  // Other tests (other sizes, depths) are skipped; older reports without samples_ts parse.
  json old = tg;
  old.erase("samples_ts");
  json deep = tg;
  deep["n_depth"] = 4096;
  deep["avg_ts"] = 1.0;
  const auto r = bb::parse_llama_bench(
      json::array({entry(0, 64, {1, 2}), deep, pp, old}).dump(), 512, 128);
  EXPECT_EQ(r.tg.avg_ts, tg["avg_ts"].get<double>());
  EXPECT_EQ(r.tg.n_gen, 128);
  EXPECT_TRUE(r.tg.samples_ts.empty());
  // Asked for a depth: only tests at that depth count, and their absence is named.
  try {
    bb::parse_llama_bench(json::array({pp, tg}).dump(), 512, 128, 4096);
    FAIL() << "tests at depth 0 were taken for depth 4096";
  } catch (const brickc::Error& e) {
    EXPECT_STREQ(e.what(), "llama-bench output has no pp512 @ d4096 test (n_prompt 512, n_gen 0, "
                           "n_depth 4096)");
  }
  json deep_pp = pp;
  deep_pp["n_depth"] = 4096;
  const auto d = bb::parse_llama_bench(json::array({pp, tg, deep_pp, deep}).dump(), 512, 128, 4096);
  EXPECT_EQ(d.tg.avg_ts, 1.0);
  EXPECT_EQ(d.pp.n_depth, 4096);
}

}  // namespace
