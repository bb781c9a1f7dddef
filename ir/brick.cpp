#include "ir/brick.h"

#include <array>
#include <cmath>

#include "ir/error.h"

namespace brickc::ir {
namespace {

struct KindEntry {
  BrickKind kind;
  std::string_view keyword;
};

constexpr std::array kKinds = {
    KindEntry{BrickKind::Embed, "embed"},
    KindEntry{BrickKind::Rmsnorm, "rmsnorm"},
    KindEntry{BrickKind::Matvec, "matvec"},
    KindEntry{BrickKind::Qkv, "qkv"},
    KindEntry{BrickKind::Rope, "rope"},
    KindEntry{BrickKind::KvAppend, "kv_append"},
    KindEntry{BrickKind::Attention, "attention"},
    KindEntry{BrickKind::Swiglu, "swiglu"},
    KindEntry{BrickKind::Add, "add"},
    KindEntry{BrickKind::LmHead, "lm_head"},
    KindEntry{BrickKind::Argmax, "argmax"},
    KindEntry{BrickKind::RmsnormMatvec, "rmsnorm_matvec"},
    KindEntry{BrickKind::RmsnormQkv, "rmsnorm_qkv"},
    KindEntry{BrickKind::RmsnormGateUpSwiglu, "rmsnorm_gate_up_swiglu"},
    KindEntry{BrickKind::RmsnormLmHead, "rmsnorm_lm_head"},
    KindEntry{BrickKind::GateUpSwiglu, "gate_up_swiglu"},
    KindEntry{BrickKind::RopeKvAppend, "rope_kv_append"},
    KindEntry{BrickKind::MatvecAdd, "matvec_add"},
};

constexpr std::array kAllKinds = [] {
  std::array<BrickKind, kKinds.size()> a{};
  for (size_t i = 0; i < kKinds.size(); ++i) a[i] = kKinds[i].kind;
  return a;
}();

const AttrSpec kEps{"eps", AttrType::Float};
const AttrSpec kTheta{"theta", AttrType::Float};
const AttrSpec kHeadDim{"head_dim", AttrType::Int};

}  // namespace

std::string_view keyword(BrickKind k) {
  for (const auto& e : kKinds)
    if (e.kind == k) return e.keyword;
  fail("internal: brick kind {} has no keyword", static_cast<int>(k));
}

std::optional<BrickKind> brick_kind_from_keyword(std::string_view s) {
  for (const auto& e : kKinds)
    if (e.keyword == s) return e.kind;
  return std::nullopt;
}

std::span<const BrickKind> all_brick_kinds() { return kAllKinds; }

const BrickSignature& signature(BrickKind k) {
  // Operand order puts the activation first, then weights, then step inputs and state,
  // so that a fused kind reads like its parts written one after another. Biases of qkv
  // come all three or none.
  static const std::map<BrickKind, BrickSignature> kSigs = {
      {BrickKind::Embed, {{2}, 1, {}, {"token", "table"}}},
      {BrickKind::Rmsnorm, {{2}, 1, {kEps}, {"x", "norm weight"}}},
      {BrickKind::Matvec, {{2, 3}, 1, {}, {"x", "weight", "bias"}}},
      {BrickKind::Qkv,
       {{4, 7}, 3, {}, {"x", "q weight", "k weight", "v weight", "q bias", "k bias", "v bias"}}},
      {BrickKind::Rope, {{2}, 1, {kHeadDim, kTheta}, {"x", "pos"}}},
      {BrickKind::KvAppend, {{5, 6}, 2, {}, {"k", "v", "pos", "k cache", "v cache", "seq"}}},
      {BrickKind::Attention, {{4, 5}, 1, {}, {"q", "k cache", "v cache", "pos", "seq"}}},
      {BrickKind::Swiglu, {{2}, 1, {}, {"gate", "up"}}},
      {BrickKind::Add, {{2}, 1, {}, {"a", "b"}}},
      {BrickKind::LmHead, {{2}, 1, {}, {"x", "weight"}}},
      {BrickKind::Argmax, {{1}, 1, {}, {"logits"}}},
      {BrickKind::RmsnormMatvec, {{3, 4}, 1, {kEps}, {"x", "norm weight", "weight", "bias"}}},
      {BrickKind::RmsnormQkv,
       {{5, 8},
        3,
        {kEps},
        {"x", "norm weight", "q weight", "k weight", "v weight", "q bias", "k bias", "v bias"}}},
      {BrickKind::RmsnormGateUpSwiglu,
       {{4}, 1, {kEps}, {"x", "norm weight", "gate weight", "up weight"}}},
      {BrickKind::RmsnormLmHead, {{3}, 1, {kEps}, {"x", "norm weight", "weight"}}},
      {BrickKind::GateUpSwiglu, {{3}, 1, {}, {"x", "gate weight", "up weight"}}},
      {BrickKind::RopeKvAppend,
       {{6, 7}, 3, {kTheta}, {"q", "k", "v", "pos", "k cache", "v cache", "seq"}}},
      {BrickKind::MatvecAdd, {{3}, 1, {}, {"x", "weight", "residual"}}},
  };
  return kSigs.at(k);
}

bool BrickSignature::takes(size_t n_operands) const {
  for (int n : operand_counts)
    if (static_cast<size_t>(n) == n_operands) return true;
  return false;
}

const Attr* Brick::attr(std::string_view name) const {
  auto it = attrs.find(name);
  return it == attrs.end() ? nullptr : &it->second;
}

int64_t Brick::int_attr(std::string_view name) const {
  const Attr* a = attr(name);
  if (!a || !std::holds_alternative<int64_t>(*a))
    fail("{} brick: integer attribute '{}' is missing", keyword(kind), name);
  return std::get<int64_t>(*a);
}

float rope_theta_scale(float base, int64_t head_dim) {
  return std::pow(base, -2.0f / static_cast<float>(head_dim));
}

float Brick::float_attr(std::string_view name) const {
  const Attr* a = attr(name);
  if (!a) fail("{} brick: attribute '{}' is missing", keyword(kind), name);
  if (const auto* i = std::get_if<int64_t>(a)) return static_cast<float>(*i);
  return std::get<float>(*a);
}

std::optional<size_t> updated_operand(const Brick& b, size_t r) {
  if (b.kind == BrickKind::KvAppend || (b.kind == BrickKind::RopeKvAppend && r > 0)) return 3 + r;
  return std::nullopt;
}

}  // namespace brickc::ir
