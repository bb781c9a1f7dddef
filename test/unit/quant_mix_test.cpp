// synth/quant_mix + tensor_plan: the per-tensor types of every Qwen2.5-Coder size against
// the tallies gguf-qwen2.md §5 derived independently (the 0.5B one matches a real
// llama.cpp load log), and the rules behind them one by one.
#include "frontend/synth/quant_mix.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "frontend/synth/presets.h"
#include "frontend/synth/synth.h"
#include "ir/error.h"

namespace brickc::synth {
namespace {

using ::testing::HasSubstr;

std::vector<TensorSpec> typed(std::string_view model, QuantMix mix) {
  Options o;
  o.model = std::string(model);
  o.mix = mix;
  o.vocab_path = "unused.json";  // full-size n_vocab; make_plan reads no file
  return make_plan(o).tensors;
}

const TensorSpec& find(const std::vector<TensorSpec>& ts, std::string_view name) {
  for (const auto& t : ts)
    if (t.name == name) return t;
  throw std::runtime_error(fmt::format("no tensor {}", name));
}

std::map<DType, int> counts(std::initializer_list<std::pair<DType, int>> l) {
  return std::map<DType, int>(l.begin(), l.end());
}

TEST(QuantMix, Q4KMTalliesMatchTheReferenceForAllSizes) {
  struct Case {
    const char* model;
    std::map<DType, int> expected;
  };
  const Case cases[] = {
      {"qwen2.5-coder-0.5b", counts({{DType::F32, 121}, {DType::Q5_0, 132}, {DType::Q8_0, 13},
                                     {DType::Q4_K, 12}, {DType::Q6_K, 12}})},
      {"qwen2.5-coder-1.5b", counts({{DType::Q4_K, 168}, {DType::Q6_K, 29}, {DType::F32, 141}})},
      {"qwen2.5-coder-3b", counts({{DType::Q4_K, 216}, {DType::Q6_K, 37}, {DType::F32, 181}})},
      {"qwen2.5-coder-7b", counts({{DType::Q4_K, 169}, {DType::Q6_K, 29}, {DType::F32, 141}})},
      {"qwen2.5-coder-14b", counts({{DType::Q4_K, 289}, {DType::Q6_K, 49}, {DType::F32, 241}})},
      {"qwen2.5-coder-32b", counts({{DType::Q4_K, 385}, {DType::Q6_K, 65}, {DType::F32, 321}})},
  };
  for (const auto& c : cases) {
    const auto ts = typed(c.model, QuantMix::Q4_K_M);
    EXPECT_EQ(tally(ts), c.expected) << c.model << ": " << tally_string(ts);
  }
}

TEST(QuantMix, HalfBSizeSplitsAttnVAndFfnDownAsTheLoadLogDoes) {
  const auto ts = typed("qwen2.5-coder-0.5b", QuantMix::Q4_K_M);
  std::map<DType, int> attn_v, ffn_down;
  for (const auto& t : ts) {
    if (t.name.ends_with("attn_v.weight")) ++attn_v[t.type];
    if (t.name.ends_with("ffn_down.weight")) ++ffn_down[t.type];
  }
  // Q6_K does not fit 896-wide rows, so it falls back to Q8_0, and Q4_K to Q5_0.
  EXPECT_EQ(attn_v, counts({{DType::Q8_0, 12}, {DType::Q5_0, 12}}));
  EXPECT_EQ(ffn_down, counts({{DType::Q6_K, 12}, {DType::Q4_K, 12}}));  // 4864 = 19 * 256
  EXPECT_EQ(find(ts, "token_embd.weight").type, DType::Q8_0);
  EXPECT_EQ(find(ts, "blk.0.attn_q.weight").type, DType::Q5_0);
}

TEST(QuantMix, UseMoreBitsPicksFirstAndLastEighthAndEveryThird) {
  // n = 28: n/8 = 3, 7n/8 = 24; in between (i - 3) % 3 == 2.
  std::vector<int> picked;
  for (int i = 0; i < 28; ++i)
    if (use_more_bits(i, 28)) picked.push_back(i);
  EXPECT_EQ(picked, (std::vector<int>{0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27}));
}

TEST(QuantMix, AttnVAndFfnDownFollowTheLayerCounters) {
  const auto ts = typed("qwen2.5-coder-1.5b", QuantMix::Q4_K_M);
  for (int il = 0; il < 28; ++il) {
    const DType want = use_more_bits(il, 28) ? DType::Q6_K : DType::Q4_K;
    EXPECT_EQ(find(ts, fmt::format("blk.{}.attn_v.weight", il)).type, want) << il;
    EXPECT_EQ(find(ts, fmt::format("blk.{}.ffn_down.weight", il)).type, want) << il;
    EXPECT_EQ(find(ts, fmt::format("blk.{}.attn_k.weight", il)).type, DType::Q4_K) << il;
  }
}

TEST(QuantMix, TruncatedModelsCountOnlyTheirOwnLayers) {
  Options o;
  o.model = "qwen2.5-coder-1.5b";
  o.layers = 4;
  const auto ts = make_plan(o).tensors;
  EXPECT_EQ(ts.size(), 2u + 4u * 12u);  // token_embd, output_norm, 12 per layer (tied)
  // n = 4: n/8 = 0, 7n/8 = 3, (i - 0) % 3 == 2 → layers 2 and 3. Counting with the full
  // model's n = 28 would give layers 0, 1, 2 instead.
  const DType want[] = {DType::Q4_K, DType::Q4_K, DType::Q6_K, DType::Q6_K};
  for (int il = 0; il < 4; ++il) {
    EXPECT_EQ(find(ts, fmt::format("blk.{}.attn_v.weight", il)).type, want[il]) << il;
    EXPECT_EQ(find(ts, fmt::format("blk.{}.ffn_down.weight", il)).type, want[il]) << il;
  }
}

TEST(QuantMix, TiedEmbeddingIsTheOutputTensor) {
  const auto tied = typed("qwen2.5-coder-1.5b", QuantMix::Q4_K_M);
  EXPECT_THROW(find(tied, "output.weight"), std::runtime_error);
  EXPECT_EQ(find(tied, "token_embd.weight").type, DType::Q6_K);

  const auto untied = typed("qwen2.5-coder-7b", QuantMix::Q4_K_M);
  EXPECT_EQ(find(untied, "token_embd.weight").type, DType::Q4_K);
  EXPECT_EQ(find(untied, "output.weight").type, DType::Q6_K);
  EXPECT_EQ(find(untied, "output.weight").ne, (std::vector<int64_t>{3584, 152064}));
}

TEST(QuantMix, Q40KeepsOutputAtQ6KWithShapeFallback) {
  EXPECT_EQ(find(typed("qwen2.5-coder-0.5b", QuantMix::Q4_0), "token_embd.weight").type,
            DType::Q8_0);
  EXPECT_EQ(find(typed("qwen2.5-coder-1.5b", QuantMix::Q4_0), "token_embd.weight").type,
            DType::Q6_K);
  const auto ts = typed("qwen2.5-coder-7b", QuantMix::Q4_0);
  EXPECT_EQ(find(ts, "output.weight").type, DType::Q6_K);
  EXPECT_EQ(find(ts, "token_embd.weight").type, DType::Q4_0);
  EXPECT_EQ(tally(ts), counts({{DType::F32, 141}, {DType::Q4_0, 197}, {DType::Q6_K, 1}}));
}

TEST(QuantMix, Q80AndF16AreUniformExceptNormsAndBiases) {
  for (const char* model : {"qwen2.5-coder-0.5b", "qwen2.5-coder-7b"}) {
    for (auto [mix, type] : {std::pair{QuantMix::Q8_0, DType::Q8_0}, {QuantMix::F16, DType::F16},
                             {QuantMix::F32, DType::F32}}) {
      for (const auto& t : typed(model, mix)) {
        const bool vector = t.ne.size() == 1;
        EXPECT_EQ(t.type, vector ? DType::F32 : type) << model << " " << t.name;
      }
    }
  }
}

TEST(QuantMix, Q5KMSplitsAsQ4KMWithQ5KAndItsFallbacks) {
  EXPECT_EQ(tally(typed("qwen2.5-coder-1.5b", QuantMix::Q5_K_M)),
            counts({{DType::Q5_K, 168}, {DType::Q6_K, 29}, {DType::F32, 141}}));
  // 896 columns: Q5_K falls back to Q5_1 and the more-bits Q6_K to Q8_0.
  EXPECT_EQ(tally(typed("qwen2.5-coder-0.5b", QuantMix::Q5_K_M)),
            counts({{DType::F32, 121}, {DType::Q5_1, 132}, {DType::Q8_0, 13},
                    {DType::Q5_K, 12}, {DType::Q6_K, 12}}));
}

TEST(QuantMix, Q6KAndThe32WideMixesAreUniformButTheOutput) {
  // Q6_K: 896-wide rows fall back to Q8_0; ffn_down (4,864 = 19 * 256 columns) keeps Q6_K.
  EXPECT_EQ(tally(typed("qwen2.5-coder-0.5b", QuantMix::Q6_K)),
            counts({{DType::F32, 121}, {DType::Q8_0, 145}, {DType::Q6_K, 24}}));
  for (auto [mix, type] : {std::pair{QuantMix::Q4_1, DType::Q4_1}, {QuantMix::Q5_0, DType::Q5_0},
                           {QuantMix::Q5_1, DType::Q5_1}}) {
    const auto ts = typed("qwen2.5-coder-7b", mix);
    EXPECT_EQ(tally(ts), counts({{DType::F32, 141}, {type, 197}, {DType::Q6_K, 1}})) << name(mix);
    EXPECT_EQ(find(ts, "output.weight").type, DType::Q6_K) << name(mix);
  }
}

TEST(QuantMix, ShapesAreGgmlOrder) {
  const auto ts = typed("qwen2.5-coder-1.5b", QuantMix::Q4_K_M);
  EXPECT_EQ(find(ts, "token_embd.weight").ne, (std::vector<int64_t>{1536, 151936}));
  EXPECT_EQ(find(ts, "blk.0.attn_q.weight").ne, (std::vector<int64_t>{1536, 1536}));
  EXPECT_EQ(find(ts, "blk.0.attn_k.weight").ne, (std::vector<int64_t>{1536, 256}));
  EXPECT_EQ(find(ts, "blk.0.attn_v.bias").ne, (std::vector<int64_t>{256}));
  EXPECT_EQ(find(ts, "blk.0.attn_output.weight").ne, (std::vector<int64_t>{1536, 1536}));
  EXPECT_EQ(find(ts, "blk.0.ffn_up.weight").ne, (std::vector<int64_t>{1536, 8960}));
  EXPECT_EQ(find(ts, "blk.0.ffn_down.weight").ne, (std::vector<int64_t>{8960, 1536}));
}

TEST(QuantMix, FileOrderIsTheQuantizersLayerOrder) {
  const auto ts = typed("qwen2.5-coder-7b", QuantMix::Q4_K_M);
  std::vector<std::string> names;
  for (const auto& t : ts) names.push_back(t.name);
  ASSERT_GE(names.size(), 16u);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 4),
            (std::vector<std::string>{"output.weight", "output_norm.weight", "token_embd.weight",
                                      "blk.0.attn_k.bias"}));
  // Layers in numeric order (blk.2 before blk.10), names sorted within a layer.
  auto pos = [&](std::string_view n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  EXPECT_LT(pos("blk.2.ffn_up.weight"), pos("blk.10.attn_k.bias"));
  EXPECT_LT(pos("blk.0.attn_v.weight"), pos("blk.0.ffn_down.weight"));
}

TEST(QuantMix, UnknownNamesListTheValidOnes) {
  try {
    parse_quant_mix("q3_k");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("q3_k"));
    EXPECT_THAT(e.what(), HasSubstr("q4_k_m, q5_k_m, q6_k, q4_0, q4_1, q5_0, q5_1, q8_0, f16, f32"));
  }
  EXPECT_EQ(parse_quant_mix("Q4_K_M"), QuantMix::Q4_K_M);
  try {
    find_preset("qwen2.5-coder-70b");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("qwen2.5-coder-70b"));
    EXPECT_THAT(e.what(), HasSubstr("qwen2.5-coder-0.5b"));
    EXPECT_THAT(e.what(), HasSubstr("test-tiny"));
  }
}

}  // namespace
}  // namespace brickc::synth
