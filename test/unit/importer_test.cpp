// The Qwen2 importer on small GGUF files: one decode step per file, with the file's layer
// count, tied or untied LM head, and every weight typed and shaped as its tensor is.
#include <gtest/gtest.h>

#include <random>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/importer.h"
#include "frontend/synth/synth.h"
#include "ir/error.h"
#include "ir/verifier.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc::qwen2 {
namespace {

using brickc::testing::temp_path;
using brickc::testing::tiny_qwen2;
using brickc::testing::TinyShape;

int count(const ir::Graph& g, ir::BrickKind k) {
  int n = 0;
  for (const auto& b : g.bricks()) n += b.kind == k;
  return n;
}

int layers_of(const ir::Graph& g) {
  int n = 0;
  for (const auto& b : g.bricks()) n = std::max(n, b.layer + 1);
  return n;
}

// Every weight value is bound to a tensor of the file with the same type and shape, and
// every tensor of the file is bound.
void expect_bound_as_in_file(const ir::Graph& g, const gguf::File& f) {
  size_t bound = 0;
  for (uint32_t i = 0; i < g.value_count(); ++i) {
    const ir::Value& v = g.value(ir::ValueId{i});
    if (v.kind != ir::ValueKind::Weight) continue;
    const gguf::TensorInfo* t = f.find_tensor(v.tensor);
    ASSERT_NE(t, nullptr) << "%" << v.name << " binds to missing tensor " << v.tensor;
    EXPECT_EQ(v.type.elem, t->type) << v.tensor;
    EXPECT_EQ(v.type.shape.dims, t->ne) << v.tensor;
    ++bound;
  }
  EXPECT_EQ(bound, f.tensors().size());
}

ir::ValueId lm_head_weight(const ir::Graph& g) {
  for (const auto& b : g.bricks())
    if (b.kind == ir::BrickKind::LmHead) return b.operands[1];
  ADD_FAILURE() << "no lm_head";
  return {};
}

TEST(Importer, LayerCountTiedAndTypes) {
  for (uint32_t layers : {1u, 3u}) {
    TinyShape s;
    s.n_layer = layers;
    const std::string path = temp_path("m.gguf");
    tiny_qwen2(s, std::random_device{}()).write(path);
    auto f = gguf::File::open(path);
    ir::Graph g = import_qwen2(*f);
    EXPECT_TRUE(ir::verify(g).empty()) << ir::format(ir::verify(g), path);
    EXPECT_EQ(layers_of(g), static_cast<int>(layers));
    EXPECT_EQ(count(g, ir::BrickKind::KvAppend), static_cast<int>(layers));
    EXPECT_EQ(count(g, ir::BrickKind::Attention), static_cast<int>(layers));
    EXPECT_EQ(count(g, ir::BrickKind::Matvec), 7 * static_cast<int>(layers));
    EXPECT_EQ(count(g, ir::BrickKind::Embed), 1);
    EXPECT_EQ(count(g, ir::BrickKind::Argmax), 1);
    EXPECT_EQ(g.value(lm_head_weight(g)).tensor, "token_embd.weight");
    expect_bound_as_in_file(g, *f);
    ASSERT_EQ(g.outputs.size(), 2u);
    EXPECT_EQ(g.value(g.outputs[0]).name, "next");
  }
}

TEST(Importer, UntiedHeadReadsOutputWeight) {
  TinyShape s;
  s.tied = false;
  s.embd = DType::F16;
  const std::string path = temp_path("m.gguf");
  tiny_qwen2(s, std::random_device{}()).write(path);
  auto f = gguf::File::open(path);
  ir::Graph g = import_qwen2(*f);
  EXPECT_TRUE(ir::verify(g).empty());
  EXPECT_EQ(g.value(lm_head_weight(g)).tensor, "output.weight");
  expect_bound_as_in_file(g, *f);
}

// The llama.cpp Q4_K_M mix (q4_K, q6_K in chosen layers, f32 norms) as brickc synth writes it.
TEST(Importer, SynthQuantMixMatchesFile) {
  for (auto mix : {synth::QuantMix::Q4_K_M, synth::QuantMix::Q8_0}) {
    synth::Options o;
    o.model = "test-small";  // untied
    o.mix = mix;
    o.vocab_size = 512;
    o.threads = 1;
    const std::string path = temp_path("synth.gguf");
    synth::synthesize(o, path);
    auto f = gguf::File::open(path);
    ir::Graph g = import_qwen2(*f, {.max_ctx = 512, .kv_len = 100});
    EXPECT_TRUE(ir::verify(g).empty());
    EXPECT_EQ(layers_of(g), 4);
    EXPECT_EQ(g.kv_len, 100);
    EXPECT_EQ(g.value(lm_head_weight(g)).tensor, "output.weight");
    expect_bound_as_in_file(g, *f);
  }
}

TEST(Importer, RejectsKvLenBeyondCache) {
  const std::string path = temp_path("m.gguf");
  tiny_qwen2(TinyShape{}, 1).write(path);
  auto f = gguf::File::open(path);
  try {
    import_qwen2(*f, {.max_ctx = 64, .kv_len = 65});
    FAIL() << "kv_len 65 > max_ctx 64 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kv_len 65 is outside 1..64"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace brickc::qwen2
