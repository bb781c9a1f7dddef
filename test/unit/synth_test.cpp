// synth: files are reproducible from the seed alone (not the thread count), hold exactly
// the planned tensors and the qwen2 keys, and their vocabularies are consistent BPE
// vocabularies (every merge joins two tokens into a third).
#include "frontend/synth/synth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "frontend/gguf/reader.h"
#include "frontend/quant/quant.h"
#include "frontend/synth/vocab.h"
#include "ir/error.h"
#include "test/unit/temp_files.h"

namespace brickc::synth {
namespace {

using ::testing::HasSubstr;
using testing::read_file;
using testing::temp_path;

std::string synth_file(Options o, const std::string& name) {
  const std::string path = temp_path(name);
  synthesize(o, path);
  return path;
}

TEST(Synth, SameSeedSameBytesWhateverTheThreadCount) {
  Options o;
  o.model = "test-tiny";
  o.seed = 7;
  o.threads = 1;
  const std::string a = synth_file(o, "a.gguf");
  o.threads = 3;
  const std::string b = synth_file(o, "b.gguf");
  o.seed = 8;
  const std::string c = synth_file(o, "c.gguf");
  const std::string ba = read_file(a), bb = read_file(b), bc = read_file(c);
  EXPECT_GT(ba.size(), 1000000u);
  EXPECT_TRUE(ba == bb) << "thread count changed the file";
  ASSERT_EQ(ba.size(), bc.size());  // same layout, other values
  EXPECT_FALSE(ba == bc) << "seed did not change the file";
  for (const auto& p : {a, b, c}) std::filesystem::remove(p);
}

TEST(Synth, FileHoldsThePlannedTensorsAndKeys) {
  for (const char* model : {"test-tiny", "test-small", "test-fallback"}) {
    Options o;
    o.model = model;
    o.mix = QuantMix::Q4_K_M;
    const std::string path = synth_file(o, fmt::format("{}.gguf", model));
    const Plan plan = make_plan(o);
    auto f = gguf::File::open(path);
    ASSERT_EQ(f->tensors().size(), plan.tensors.size()) << model;
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      EXPECT_EQ(f->tensors()[i].name, plan.tensors[i].name);
      EXPECT_EQ(f->tensors()[i].ne, plan.tensors[i].ne) << plan.tensors[i].name;
      EXPECT_EQ(f->tensors()[i].type, plan.tensors[i].type) << plan.tensors[i].name;
    }
    EXPECT_EQ(f->get_str("general.architecture"), "qwen2");
    EXPECT_EQ(f->get_u32("qwen2.block_count"), plan.config.n_layer);
    EXPECT_EQ(f->get_u32("qwen2.embedding_length"), plan.config.n_embd);
    EXPECT_EQ(f->get_u32("general.file_type"), 15u);
    const auto tokens = f->get_str_array("tokenizer.ggml.tokens");
    EXPECT_EQ(tokens.size(), plan.config.n_vocab);
    EXPECT_EQ(tokens[f->get_u32("tokenizer.ggml.eos_token_id")], "<|im_end|>");
    std::filesystem::remove(path);
  }
}

// The values behind the quantization have the distribution weights.cpp asks for (test-small:
// n_embd 512, n_ff 1536, 4 layers): norm weights near 1; Q/K projections with stddev
// 0.5/sqrt(n_embd); FFN down-projections scaled so the 8 branches add RMS 0.15 in total;
// embedding rows of equal-magnitude values whose magnitudes vary log-normally (sd 0.5);
// output_norm weights of magnitude 3.5/sqrt(n_embd) with random signs; no NaNs anywhere.
TEST(Synth, WeightsHaveThePlannedDistribution) {
  Options o;
  o.model = "test-small";
  o.mix = QuantMix::F16;
  const std::string path = synth_file(o, "f16.gguf");
  auto f = gguf::File::open(path);
  auto values = [&](std::string_view name) {
    const auto& t = f->tensor(name);
    std::vector<float> x(static_cast<size_t>(t.n_elements()));
    quant::dequantize(t.type, t.data, x.data(), t.n_elements());
    for (float v : x) EXPECT_TRUE(std::isfinite(v)) << name;
    return x;
  };
  auto stats = [&](const std::vector<float>& x) {
    double s = 0, s2 = 0;
    for (float v : x) {
      s += v;
      s2 += double{v} * v;
    }
    const double mean = s / x.size();
    return std::pair{mean, std::sqrt(s2 / x.size() - mean * mean)};
  };
  const auto [norm_mean, norm_sd] = stats(values("blk.1.attn_norm.weight"));
  EXPECT_NEAR(norm_mean, 1.0, 0.02);
  EXPECT_LT(norm_sd, 0.2);
  const auto [q_mean, q_sd] = stats(values("blk.2.attn_q.weight"));
  EXPECT_NEAR(q_mean, 0.0, 0.002);
  EXPECT_NEAR(q_sd, 0.5 / std::sqrt(512.0), 0.001);
  const auto [v_mean, v_sd] = stats(values("blk.2.attn_v.weight"));
  EXPECT_NEAR(v_sd, 1.0 / std::sqrt(512.0), 0.002);
  const auto [down_mean, down_sd] = stats(values("blk.3.ffn_down.weight"));
  const double down_want = 0.15 / std::sqrt(8.0) / (0.6 * std::sqrt(1536.0));
  EXPECT_NEAR(down_mean, 0.0, 0.1 * down_want);
  EXPECT_NEAR(down_sd, down_want, 0.03 * down_want);

  for (const char* name : {"token_embd.weight", "output.weight"}) {
    const std::vector<float> e = values(name);
    ASSERT_EQ(e.size() % 512, 0u);
    std::vector<double> log_mag;
    size_t positive = 0;
    for (size_t r = 0; r < e.size(); r += 512) {
      const float mag = std::fabs(e[r]);
      for (size_t i = r; i < r + 512; ++i) {
        ASSERT_NEAR(std::fabs(e[i]), mag, 1e-3 * mag) << name << " row " << r / 512;
        positive += e[i] > 0;
      }
      log_mag.push_back(std::log(mag));
    }
    EXPECT_NEAR(static_cast<double>(positive) / e.size(), 0.5, 0.01) << name;
    double s = 0, s2 = 0;
    for (double l : log_mag) {
      s += l;
      s2 += l * l;
    }
    const double mean = s / log_mag.size();
    EXPECT_NEAR(mean, 0.0, 0.03) << name;
    EXPECT_NEAR(std::sqrt(s2 / log_mag.size() - mean * mean), 0.5, 0.03) << name;
  }

  const std::vector<float> g = values("output_norm.weight");
  const double g_want = 3.5 / std::sqrt(512.0);
  size_t negative = 0;
  for (float v : g) {
    EXPECT_NEAR(std::fabs(v), g_want, 0.1 * g_want);
    negative += v < 0;
  }
  EXPECT_GT(negative, g.size() / 2 - 50);  // 3.5 sigma of Binomial(512, 1/2)
  EXPECT_LT(negative, g.size() / 2 + 50);
  std::filesystem::remove(path);
}

TEST(Synth, UnwritableOutputIsNamed) {
  Options o;
  try {
    synthesize(o, "/nonexistent-dir/m.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent-dir/m.gguf"));
  }
}

void expect_consistent_bpe(const Vocab& v, size_t n_real) {
  std::set<std::string> known(v.tokens.begin(), v.tokens.begin() + n_real);
  EXPECT_EQ(known.size(), n_real) << "duplicate tokens";
  std::set<std::string> seen;
  for (const auto& m : v.merges) {
    const size_t sp = m.find(' ', 1);
    ASSERT_NE(sp, std::string::npos) << m;
    const std::string a = m.substr(0, sp), b = m.substr(sp + 1);
    EXPECT_TRUE(known.count(a) && known.count(b) && known.count(a + b)) << m;
    EXPECT_TRUE(seen.insert(m).second) << "merge listed twice: " << m;
  }
}

TEST(SynthVocab, GeneratedVocabularyIsByteLevelBpe) {
  const Vocab v = generate_vocab(4096);
  ASSERT_EQ(v.tokens.size(), 4096u);
  ASSERT_EQ(v.types.size(), 4096u);
  const auto& bytes = byte_symbols();
  EXPECT_EQ(bytes[' '], "Ġ");
  EXPECT_EQ(bytes['\n'], "Ċ");
  std::set<std::string> first256(v.tokens.begin(), v.tokens.begin() + 256);
  EXPECT_EQ(first256, std::set<std::string>(bytes.begin(), bytes.end()));
  EXPECT_EQ(v.tokens[0], "!");  // the real vocabulary's byte order
  EXPECT_EQ(v.merges.size(), 4096u - 256u - 22u);
  expect_consistent_bpe(v, 4096);
  const auto& special = qwen2_special_tokens();
  for (size_t i = 0; i < special.size(); ++i) {
    const size_t id = 4096 - special.size() + i;
    EXPECT_EQ(v.tokens[id], special[i]);
    EXPECT_EQ(v.types[id], special[i].starts_with("<|") ? kControl : kUserDefined) << special[i];
  }
  EXPECT_EQ(v.bos, 4096 - 22);
  EXPECT_EQ(v.eos, 4096 - 20);
  EXPECT_EQ(v.fim_sep, 4095);
  // Code-like text produced code-like tokens.
  EXPECT_NE(std::find(v.tokens.begin(), v.tokens.end(), "Ġreturn"), v.tokens.end());
  EXPECT_NE(std::find(v.tokens.begin(), v.tokens.end(), "ĠĠĠ"), v.tokens.end());
}

TEST(SynthVocab, FullSizeGeneratedVocabularyIsPadded) {
  const Vocab v = generate_vocab(151936);
  ASSERT_EQ(v.tokens.size(), 151936u);
  EXPECT_EQ(v.tokens[kMaxGeneratedTokens - 1], "<|file_sep|>");
  EXPECT_EQ(v.tokens[kMaxGeneratedTokens], fmt::format("[PAD{}]", kMaxGeneratedTokens));
  EXPECT_EQ(v.types.back(), kUnused);
  EXPECT_EQ(v.tokens.back(), "[PAD151935]");
  EXPECT_THROW(generate_vocab(300), Error);
}

TEST(SynthVocab, HuggingFaceTokenizerJsonIsReadInIdOrder) {
  const std::string path = temp_path("tokenizer.json");
  std::ofstream(path) << R"({
    "added_tokens": [
      {"id": 6, "content": "<|endoftext|>", "special": true},
      {"id": 7, "content": "<|im_end|>", "special": true},
      {"id": 8, "content": "<tool_call>", "special": false}
    ],
    "model": {"type": "BPE", "vocab": {"a": 1, "b": 0, "ab": 2, "Ġ": 3, "Ġab": 4, "c": 5},
              "merges": ["a b", ["Ġ", "ab"]]}})";
  const Vocab v = load_hf_vocab(path, 12);
  EXPECT_EQ(v.tokens, (std::vector<std::string>{"b", "a", "ab", "Ġ", "Ġab", "c", "<|endoftext|>",
                                                "<|im_end|>", "<tool_call>", "[PAD9]", "[PAD10]",
                                                "[PAD11]"}));
  EXPECT_EQ(v.types, (std::vector<int32_t>{1, 1, 1, 1, 1, 1, 3, 3, 4, 5, 5, 5}));
  EXPECT_EQ(v.merges, (std::vector<std::string>{"a b", "Ġ ab"}));
  EXPECT_EQ(v.bos, 6);
  EXPECT_EQ(v.eos, 7);
  EXPECT_FALSE(v.fim_pre.has_value());
  try {
    load_hf_vocab(path, 8);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("9 tokens do not fit the model's 8 embedding rows"));
  }
  std::ofstream(path) << R"({"model": {"vocab": {"a": 0, "b": 2}, "merges": []}})";
  try {
    load_hf_vocab(path, 8);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("id 1 is missing"));
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace brickc::synth
