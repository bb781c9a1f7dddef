#include "passes/registry.h"

#include <array>

#include "ir/error.h"

namespace brickc::passes {
namespace {

constexpr std::array kPasses = {
    PassInfo{"canonicalize", "remove bricks whose results nothing reads", canonicalize},
    PassInfo{"merge-qkv", "merge the q, k and v matvecs of one input into qkv", merge_qkv},
    PassInfo{"fuse-gate-up-swiglu", "gate and up matvecs + swiglu -> gate_up_swiglu",
             fuse_gate_up_swiglu},
    PassInfo{"fuse-rope-kv-append", "rope(q), rope(k) + kv_append -> rope_kv_append",
             fuse_rope_kv_append},
    PassInfo{"fuse-matvec-add", "matvec + residual add -> matvec_add", fuse_matvec_add},
    PassInfo{"fuse-rmsnorm-matvec",
             "rmsnorm read by one matvec, qkv, gate_up_swiglu or lm_head -> rmsnorm_<reader>",
             fuse_rmsnorm_matvec},
    PassInfo{"quantize-activations", "vectors read only by int8 matvecs become q8_1",
             quantize_activations},
    PassInfo{"plan-memory", "assign activation buffers, report the arena size",
             plan_memory_pass},
    PassInfo{"assign-budgets", "roofline budget per brick for the device profile",
             assign_budgets},
};

}  // namespace

std::span<const PassInfo> registered_passes() { return kPasses; }

const PassInfo* find_pass(std::string_view name) {
  for (const auto& p : kPasses)
    if (p.name == name) return &p;
  return nullptr;
}

std::string pass_names() {
  std::string s;
  for (const auto& p : kPasses) s += fmt::format("{}{}", s.empty() ? "" : ", ", p.name);
  return s;
}

const std::vector<std::string_view>& default_pipeline() {
  static const std::vector<std::string_view> kDefault = {
      "canonicalize",        "merge-qkv",           "fuse-gate-up-swiglu",
      "fuse-rope-kv-append", "fuse-matvec-add",     "fuse-rmsnorm-matvec",
      "quantize-activations", "canonicalize",       "plan-memory",
      "assign-budgets"};
  return kDefault;
}

std::vector<const PassInfo*> parse_pipeline(std::string_view list) {
  std::vector<const PassInfo*> out;
  while (true) {
    auto comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty()) {
      const PassInfo* p = find_pass(name);
      if (!p) fail("unknown pass '{}' (valid passes: {})", name, pass_names());
      out.push_back(p);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace brickc::passes
