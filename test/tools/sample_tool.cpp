// Test-only driver for test/ref/test_sampling_vs_llamacpp.py: brickc's Sampler on cases
// given as JSON on stdin, results as JSON on stdout.
//   sample_tool < [{"logits": [...], "params": {...}, "history": [...], "draws": N}...]
// params uses SamplerParams' field names. For each case: the history is accepted, then N
// tokens are sampled from the same logits (none accepted), and the candidates left after
// the first draw are reported: {"tokens": [...], "ids": [...], "p": [...]}.
#include <fmt/format.h>

#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "runtime/sampling/sampler.h"

namespace {

using nlohmann::json;
namespace sm = brickc::sampling;

sm::SamplerParams params_of(const json& j) {
  sm::SamplerParams p;
  p.temp = j.value("temp", p.temp);
  p.top_k = j.value("top_k", p.top_k);
  p.top_p = j.value("top_p", p.top_p);
  p.min_p = j.value("min_p", p.min_p);
  p.min_keep = j.value("min_keep", p.min_keep);
  p.penalty_last_n = j.value("penalty_last_n", p.penalty_last_n);
  p.penalty_repeat = j.value("penalty_repeat", p.penalty_repeat);
  p.penalty_freq = j.value("penalty_freq", p.penalty_freq);
  p.penalty_present = j.value("penalty_present", p.penalty_present);
  p.seed = j.value("seed", p.seed);
  return p;
}

json run_case(const json& c) {
  sm::Sampler s(params_of(c.at("params")));
  for (int32_t t : c.value("history", std::vector<int32_t>{})) s.accept(t);
  const auto logits = c.at("logits").get<std::vector<float>>();
  json out = {{"tokens", json::array()}};
  const int draws = c.value("draws", 1);
  for (int i = 0; i < draws; ++i) {
    out["tokens"].push_back(s.sample(logits));
    if (i == 0) {
      std::vector<int32_t> ids;
      std::vector<float> p;
      for (const auto& x : s.last_candidates().items) {
        ids.push_back(x.id);
        p.push_back(x.p);
      }
      out["ids"] = ids;
      out["p"] = p;
    }
  }
  return out;
}

}  // namespace

int main() {
  try {
    const std::string in{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    json out = json::array();
    for (const auto& c : json::parse(in)) out.push_back(run_case(c));
    std::cout << out.dump() << "\n";
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
