// read_config and bind_tensors on tiny GGUF files, each broken in one way: the error must
// name the file, the key or tensor, and what was expected and found.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc::qwen2 {
namespace {

using brickc::testing::temp_path;
using brickc::testing::tiny_qwen2;
using brickc::testing::TinyModel;
using brickc::testing::TinyShape;

uint32_t seed() { return std::random_device{}(); }

// Writes the tiny model after `edit`, then loads config and tensors; returns the error
// message ("" if none).
std::string load_error(const std::function<void(TinyModel&)>& edit, const TinyShape& s = {}) {
  TinyModel m = tiny_qwen2(s, seed());
  edit(m);
  const std::string path = temp_path("m.gguf");
  m.write(path);
  try {
    const auto f = gguf::File::open(path);
    bind_tensors(*f, read_config(*f));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << "no file name: " << e.what();
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

TEST(Qwen2Config, ReadsTheKeys) {
  TinyShape s;
  s.tied = false;
  const std::string path = temp_path("m.gguf");
  tiny_qwen2(s, seed()).write(path);
  const auto f = gguf::File::open(path);
  const Config c = read_config(*f);
  EXPECT_EQ(c.n_layer, s.n_layer);
  EXPECT_EQ(c.n_embd, s.n_embd);
  EXPECT_EQ(c.n_ff, s.n_ff);
  EXPECT_EQ(c.n_head, s.n_head);
  EXPECT_EQ(c.n_head_kv, s.n_head_kv);
  EXPECT_EQ(c.head_dim, s.n_embd / s.n_head);
  EXPECT_EQ(c.n_vocab, s.n_vocab);
  EXPECT_EQ(c.n_ctx_train, s.n_ctx);
  EXPECT_EQ(c.rope_theta, s.theta);
  EXPECT_EQ(c.rms_eps, s.eps);
  EXPECT_FALSE(c.tied);
  const Tensors t = bind_tensors(*f, c);
  EXPECT_EQ(t.output->name, "output.weight");
  ASSERT_EQ(t.layers.size(), s.n_layer);
  EXPECT_EQ(t.layers[1].w_down->name, "blk.1.ffn_down.weight");
}

TEST(Qwen2Config, TiedHeadIsTheEmbedding) {
  const std::string path = temp_path("m.gguf");
  tiny_qwen2({}, seed()).write(path);
  const auto f = gguf::File::open(path);
  const Config c = read_config(*f);
  EXPECT_TRUE(c.tied);
  EXPECT_EQ(bind_tensors(*f, c).output, f->find_tensor("token_embd.weight"));
}

TEST(Qwen2Config, DefaultsForOptionalKeys) {
  const std::string path = temp_path("m.gguf");
  TinyModel m = tiny_qwen2({}, seed());
  m.erase_key("qwen2.attention.head_count_kv");
  m.erase_key("qwen2.rope.freq_base");
  // Without head_count_kv, K and V have n_head heads.
  for (auto n : {"attn_k", "attn_v"})
    for (int l = 0; l < 2; ++l) {
      auto* w = m.find("blk." + std::to_string(l) + "." + n + ".weight");
      auto* b = m.find("blk." + std::to_string(l) + "." + n + ".bias");
      w->ne[1] = 64;
      w->values.resize(64 * 64, 0.0f);
      b->ne[0] = 64;
      b->values.resize(64, 0.0f);
    }
  m.write(path);
  const auto f = gguf::File::open(path);
  const Config c = read_config(*f);
  EXPECT_EQ(c.n_head_kv, c.n_head);
  EXPECT_EQ(c.rope_theta, 10000.0f);
  bind_tensors(*f, c);
}

TEST(Qwen2Config, WrongArchitecture) {
  const auto msg = load_error(
      [](TinyModel& m) { m.set_key("general.architecture", gguf::Value::str("llama")); });
  EXPECT_HAS(msg, "general.architecture is 'llama', expected 'qwen2'");
}

TEST(Qwen2Config, MissingRequiredKey) {
  const auto msg =
      load_error([](TinyModel& m) { m.erase_key("qwen2.attention.layer_norm_rms_epsilon"); });
  EXPECT_HAS(msg, "qwen2.attention.layer_norm_rms_epsilon");
}

TEST(Qwen2Config, HeadCountsMustDivide) {
  const auto msg = load_error(
      [](TinyModel& m) { m.set_key("qwen2.attention.head_count_kv", gguf::Value::u32(3)); });
  EXPECT_HAS(
      msg, "qwen2.attention.head_count = 4 is not a multiple of qwen2.attention.head_count_kv = 3");
}

// Found by fuzz_gguf: one changed byte made block_count about 2^31, and sizing the layer
// table by it ran out of memory before any tensor was looked up.
TEST(Qwen2Config, LayerCountBeyondTheTensorsIsRejectedFirst) {
  const auto msg = load_error(
      [](TinyModel& m) { m.set_key("qwen2.block_count", gguf::Value::u32(0x80000000u)); });
  EXPECT_HAS(msg, "qwen2.block_count = 2147483648, but the file's ");
  EXPECT_HAS(msg, " tensors hold at most 2 layers");
}

TEST(Qwen2Config, RopeScalingIsRejected) {
  const auto msg = load_error(
      [](TinyModel& m) { m.set_key("qwen2.rope.scaling.type", gguf::Value::str("yarn")); });
  EXPECT_HAS(msg, "qwen2.rope.scaling.type 'yarn'");
}

TEST(Qwen2Config, VocabularyMismatch) {
  const auto msg = load_error([](TinyModel& m) {
    m.set_key("tokenizer.ggml.tokens", gguf::Value::str_array({"a", "b", "c"}));
  });
  EXPECT_HAS(msg, "token_embd.weight has 40 rows, expected n_vocab = 3");
}

TEST(Qwen2Config, WrongShapeNamesTheTensor) {
  const auto msg = load_error([](TinyModel& m) {
    auto* t = m.find("blk.1.attn_k.weight");
    t->ne[1] = 64;
    t->values.resize(64 * 64, 0.0f);
  });
  EXPECT_HAS(msg, "tensor blk.1.attn_k.weight has shape [64, 64], expected [64, 32]");
}

TEST(Qwen2Config, MissingTensorIsNamed) {
  const auto msg = load_error([](TinyModel& m) { m.erase_tensor("blk.0.ffn_up.weight"); });
  EXPECT_HAS(msg, "missing tensor blk.0.ffn_up.weight (expected shape [64, 96])");
}

TEST(Qwen2Config, UnsupportedTypeIsNamed) {
  TinyShape s;
  s.n_embd = 256;  // Q2_K rows are 256 elements long
  const auto msg =
      load_error([](TinyModel& m) { m.find("blk.0.attn_q.weight")->type = DType::Q2_K; }, s);
  EXPECT_HAS(msg, "unsupported tensor type q2_K in tensor blk.0.attn_q.weight");
}

}  // namespace
}  // namespace brickc::qwen2
