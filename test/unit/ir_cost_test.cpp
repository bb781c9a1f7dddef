// Brick costs for Qwen2.5-Coder-1.5B shapes, each checked against the formula worked out by
// hand in the comments (row bytes: q4_K 144 B per 256, q6_K 210 B per 256).
#include <gtest/gtest.h>

#include "ir/cost.h"
#include "ir/printer.h"
#include "test/unit/ir_test_graphs.h"

namespace brickc::ir {
namespace {

TensorType mat(DType t, int64_t in, int64_t out) { return {t, Shape{{in, out}}}; }

Cost cost_of(const Graph& g, ValueId result) {
  for (const auto& b : g.bricks())
    for (ValueId r : b.results)
      if (r == result) return *cost(g, b);
  ADD_FAILURE() << "no brick defines the value";
  return {};
}

class IrCost : public ::testing::Test {
 protected:
  Graph g;
  Builder b{g};
  ValueId x = b.input("x", f32(1536));
  ValueId pos = b.input("pos", vec(DType::I32, 1));
  TensorType cache_t{DType::F16, Shape{{128, 2, 4096}}};
  Builder::Caches cache{b.state("kc", cache_t), b.state("vc", cache_t)};
};

TEST_F(IrCost, MatvecQ4K) {
  auto w = b.weight("w", mat(DType::Q4_K, 1536, 1536));
  Cost c = cost_of(g, b.matvec("y", x, w));
  // weight: 1536 rows * (1536/256 * 144 = 864 B) = 1,327,104 B; x: 1536 * 4 = 6144 B.
  EXPECT_EQ(c.bytes_read, 1327104u + 6144u);
  EXPECT_EQ(c.bytes_written, 6144u);
  EXPECT_EQ(c.flops, 2u * 1536 * 1536);  // 4,718,592
  EXPECT_DOUBLE_EQ(c.intensity(), 4718592.0 / (1333248.0 + 6144.0));
  EXPECT_EQ(format_cost(c), "1.34 MB, 4.72 MFLOP, 3.52 FLOP/B");
}

TEST_F(IrCost, QkvWithBiasesAndMixedQuants) {
  auto wq = b.weight("wq", mat(DType::Q4_K, 1536, 1536));
  auto wk = b.weight("wk", mat(DType::Q4_K, 1536, 256));
  auto wv = b.weight("wv", mat(DType::Q6_K, 1536, 256));
  auto bq = b.weight("bq", f32(1536)), bk = b.weight("bk", f32(256)), bv = b.weight("bv", f32(256));
  auto r = b.qkv({"q", "k", "v"}, x, {wq, wk, wv}, {{bq, bk, bv}});
  Cost c = cost_of(g, r.q);
  // wq 1,327,104 + wk 256*864 = 221,184 + wv 256 * (6*210 = 1260) = 322,560
  // + biases 4*(1536+256+256) = 8192 + x 6144 (read once for all three) = 1,885,184.
  EXPECT_EQ(c.bytes_read, 1885184u);
  EXPECT_EQ(c.bytes_written, 4u * 2048);
  EXPECT_EQ(c.flops, 2u * 1536 * 2048 + 2048);  // one add per bias element
}

TEST_F(IrCost, EmbedReadsOneRow) {
  auto table = b.weight("t", mat(DType::Q6_K, 1536, 151936));
  auto tok = b.input("tok", vec(DType::I32, 1));
  Cost c = cost_of(g, b.embed("e", tok, table));
  EXPECT_EQ(c.bytes_read, 4u + 1260u);  // token id + one q6_K row of 1536
  EXPECT_EQ(c.bytes_written, 6144u);
  EXPECT_EQ(c.flops, 0u);
}

TEST_F(IrCost, RmsnormRopeAddSwigluArgmax) {
  auto nw = b.weight("nw", f32(1536));
  Cost n = cost_of(g, b.rmsnorm("n", x, nw, 1e-6f));
  EXPECT_EQ(n, (Cost{12288, 6144, 4 * 1536}));
  Cost r = cost_of(g, b.rope("r", x, pos, 128, 1e6f));
  EXPECT_EQ(r, (Cost{6144 + 4, 6144, 3 * 1536}));  // 6 flops per rotated pair
  Cost a = cost_of(g, b.add("a", x, x));
  EXPECT_EQ(a, (Cost{12288, 6144, 1536}));
  auto g8960 = b.input("g", f32(8960));
  Cost s = cost_of(g, b.swiglu("s", g8960, g8960));
  EXPECT_EQ(s, (Cost{2 * 35840, 35840, 5 * 8960}));
  auto logits = b.input("l", f32(151936));
  Cost m = cost_of(g, b.argmax("m", logits));
  EXPECT_EQ(m, (Cost{607744, 4, 151936}));
}

TEST_F(IrCost, KvAppendWritesOnePosition) {
  auto k = b.input("k", f32(256));
  auto c = b.kv_append({"kc2", "vc2"}, k, k, pos, cache);
  // reads k, v (1024 B each) + pos; writes 256 f16 into each cache.
  EXPECT_EQ(cost_of(g, c.k), (Cost{2052, 1024, 0}));
}

TEST_F(IrCost, AttentionAtKvLen) {
  g.kv_len = 1000;
  Cost c = cost_of(g, b.attention("att", x, cache, pos));
  // 12 heads of 128 sharing 2 kv heads; per position both caches give 2*128*2 B = 512 B.
  EXPECT_EQ(c.bytes_read, 6144u + 4 + 1000u * 1024);
  EXPECT_EQ(c.bytes_written, 6144u);
  // per head: L*(2*128 for q.k + 2*128 for p.v + 5 softmax) + 128 divides
  //         = 1000*517 + 128 = 517,128; times 12 heads = 6,205,536.
  EXPECT_EQ(c.flops, 6205536u);
}

TEST_F(IrCost, CompositesReadEachInputOnceAndSkipIntermediates) {
  auto nw = b.weight("nw", f32(1536));
  auto wg = b.weight("wg", mat(DType::Q4_K, 1536, 8960));
  auto wu = b.weight("wu", mat(DType::Q4_K, 1536, 8960));
  auto wd = b.weight("wd", mat(DType::Q6_K, 8960, 1536));
  auto wq = b.weight("wq", mat(DType::Q4_K, 1536, 1536));

  Cost gu = cost_of(g, b.gate_up_swiglu("gu", x, wg, wu));
  // each of gate/up: 8960 rows * 864 B = 7,741,440 B.
  EXPECT_EQ(gu, (Cost{6144 + 2 * 7741440, 35840, 2 * 2 * 1536 * 8960 + 5 * 8960}));
  // ... which is the three parts minus the gate/up vectors written and read back.
  Cost parts = cost_of(g, b.matvec("g1", x, wg));
  parts += cost_of(g, b.matvec("u1", x, wu));
  parts += cost_of(g, b.swiglu("s1", *g.find("g1"), *g.find("u1")));
  EXPECT_EQ(parts.bytes_read - gu.bytes_read, 6144u + 2 * 35840);  // x again, gate, up
  EXPECT_EQ(parts.bytes_written - gu.bytes_written, 2u * 35840);
  EXPECT_EQ(parts.flops, gu.flops);

  auto act = b.input("act", f32(8960));
  Cost ma = cost_of(g, b.matvec_add("ma", act, wd, x));
  // wd: 1536 rows * (35 * 210 = 7350 B) = 11,289,600 B.
  EXPECT_EQ(ma, (Cost{35840 + 11289600 + 6144, 6144, 2 * 8960 * 1536 + 1536}));

  Cost nm = cost_of(g, b.rmsnorm_matvec("nm", x, nw, wq, 1e-6f));
  EXPECT_EQ(nm, (Cost{6144 + 6144 + 1327104, 6144, 4 * 1536 + 2 * 1536 * 1536}));

  auto k = b.input("k", f32(256));
  auto rk = b.rope_kv_append({"qr", "kc3", "vc3"}, x, k, k, pos, cache, 1e6f);
  // reads q, k, v, pos; writes roped q and one position of each cache.
  EXPECT_EQ(cost_of(g, rk.q), (Cost{6144 + 1024 + 1024 + 4, 6144 + 512 + 512, 3 * (1536 + 256)}));
}

// A norm fused into its reader costs what the two bricks cost, less the normalized x
// written by the norm and read back by the reader.
TEST_F(IrCost, RmsnormCompositesSkipTheNormalizedVector) {
  auto nw = b.weight("nw", f32(1536));
  auto wq = b.weight("wq", mat(DType::Q4_K, 1536, 1536));
  auto wk = b.weight("wk", mat(DType::Q4_K, 1536, 256));
  auto wv = b.weight("wv", mat(DType::Q6_K, 1536, 256));
  auto bq = b.weight("bq", f32(1536)), bk = b.weight("bk", f32(256)), bv = b.weight("bv", f32(256));
  auto wg = b.weight("wg", mat(DType::Q4_K, 1536, 8960));
  auto wu = b.weight("wu", mat(DType::Q4_K, 1536, 8960));
  auto wo = b.weight("wo", mat(DType::Q6_K, 1536, 4096));
  const uint64_t h_bytes = 1536 * 4;
  auto h = b.rmsnorm("h", x, nw, 1e-6f);
  const Brick norm = g.bricks().back();
  auto check = [&](BrickKind fused_kind, ValueId result) {
    const Brick* reader = nullptr;
    for (const auto& br : g.bricks())
      if (br.results[0] == result) reader = &br;
    ASSERT_NE(reader, nullptr);
    std::vector<ValueId> ops{x, nw};
    ops.insert(ops.end(), reader->operands.begin() + 1, reader->operands.end());
    const Brick fused{fused_kind, ops, reader->results, norm.attrs};
    Cost parts = *cost(g, norm);
    parts += *cost(g, *reader);
    const Cost c = *cost(g, fused);
    EXPECT_EQ(parts.bytes_read - c.bytes_read, h_bytes) << keyword(fused_kind);
    EXPECT_EQ(parts.bytes_written - c.bytes_written, h_bytes) << keyword(fused_kind);
    EXPECT_EQ(parts.flops, c.flops) << keyword(fused_kind);
  };
  check(BrickKind::RmsnormQkv, b.qkv({"q", "k", "v"}, h, {wq, wk, wv}, {{bq, bk, bv}}).q);
  check(BrickKind::RmsnormGateUpSwiglu, b.gate_up_swiglu("a", h, wg, wu));
  check(BrickKind::RmsnormLmHead, b.lm_head("logits", h, wo));
  // By hand for the head: x, norm weight, 4096 rows * (6 * 210 B); 4096 logits out.
  const Brick head{BrickKind::RmsnormLmHead, {x, nw, wo}, {*g.find("logits")}, norm.attrs};
  EXPECT_EQ(*cost(g, head),
            (Cost{6144 + 6144 + 4096 * 1260, 4096 * 4, 4 * 1536 + 2 * 1536 * 4096}));
}

TEST(IrCostFormat, Units) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(1000), "1.00 KB");
  EXPECT_EQ(format_bytes(1327104), "1.33 MB");
  EXPECT_EQ(format_bytes(999500), "1.00 MB");
  EXPECT_EQ(format_bytes(12345678), "12.3 MB");
  EXPECT_EQ(format_bytes(123456789), "123 MB");
  EXPECT_EQ(format_flops(4718592), "4.72 MFLOP");
  EXPECT_EQ(format_flops(3'100'000'000), "3.10 GFLOP");
}

TEST(IrCostGraph, PrintedBricksShowTheirCostAndTheTotalAddsUp) {
  auto g = testing::qwen2_step();
  Cost sum;
  for (const auto& b : g.bricks()) sum += *cost(g, b);
  EXPECT_EQ(total_cost(g), sum);
  std::string text = print(g);
  // layer 0's q/k/v projection: as in QkvWithBiasesAndMixedQuants, 1.89 MB read + 8 KB written.
  EXPECT_NE(text.find("qkv %h.0, %w.attn_q.0, %w.attn_k.0, %w.attn_v.0, %b.attn_q.0, %b.attn_k.0, "
                      "%b.attn_v.0 : f32[1536], f32[256], f32[256]  // 1.89 MB, 6.29 MFLOP"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("// total: " + format_cost(sum)), std::string::npos);
  // Every weight is read once per step, except the tied embedding (one row for embed, whole
  // for lm_head), so the weight bytes read are the sum of the declared weights plus a row.
  uint64_t weights = 0;
  for (uint32_t i = 0; i < g.value_count(); ++i)
    if (g.value(ValueId{i}).kind == ValueKind::Weight) weights += g.value(ValueId{i}).type.bytes();
  EXPECT_GT(sum.bytes_read, weights);
  EXPECT_LT(sum.bytes_read, weights + weights / 50);  // activations and KV are ~1% here
}

}  // namespace
}  // namespace brickc::ir

namespace brickc::ir {
namespace {

// A T-token step (T = 4, the step's tokens at positions 0..3 of kv_len 4): matrices are read
// once, activations T times, and attention scores causally, 1 + 2 + 3 + 4 = 10 scores per head.
class IrCostTokens : public ::testing::Test {
 protected:
  IrCostTokens() {
    g.n_tokens = 4;
    g.kv_len = 4;
  }
  Graph g;
  Builder b{g};
  ValueId x = b.input("x", TensorType{DType::F32, Shape{{1536, 4}}});
  ValueId pos = b.input("pos", vec(DType::I32, 4));
  TensorType cache_t{DType::F16, Shape{{128, 2, 4096}}};
  Builder::Caches cache{b.state("kc", cache_t), b.state("vc", cache_t)};
};

TEST_F(IrCostTokens, MatvecReadsTheWeightOnce) {
  auto w = b.weight("w", mat(DType::Q4_K, 1536, 1536));
  Cost c = cost_of(g, b.matvec("y", x, w));
  // weight 1,327,104 B once; x and y 4 rows of 1536 * 4 = 6144 B each.
  EXPECT_EQ(c.bytes_read, 1327104u + 4 * 6144u);
  EXPECT_EQ(c.bytes_written, 4 * 6144u);
  EXPECT_EQ(c.flops, 4u * 2 * 1536 * 1536);
}

TEST_F(IrCostTokens, LastRowLogitsReadOneRow) {
  auto w = b.weight("w", mat(DType::Q6_K, 1536, 151936));
  Cost c = cost_of(g, b.lm_head("l", x, w, /*last_row=*/true));
  // q6_K rows of 6 * 210 = 1260 B, 151936 of them; x: the last row, 6144 B.
  EXPECT_EQ(c.bytes_read, 151936u * 1260 + 6144u);
  EXPECT_EQ(c.bytes_written, 151936u * 4);
  EXPECT_EQ(c.flops, 2u * 1536 * 151936);
}

TEST_F(IrCostTokens, AttentionScoresCausally) {
  auto k = b.input("k", TensorType{DType::F32, Shape{{256, 4}}});
  auto kv = b.kv_append({"kc2", "vc2"}, k, k, pos, cache);
  Cost c = cost_of(g, b.attention("a", x, kv, pos));
  // 12 heads of 128; positions read once: 4 * 2 caches * (256 * 2 B) = 4096 B; q 4 * 6144,
  // pos 4 * 4. Scores 10 per head: 12 * (10 * (4 * 128 + 5) + 4 * 128) flops.
  EXPECT_EQ(c.bytes_read, 4u * 6144 + 16 + 4096);
  EXPECT_EQ(c.flops, 12u * (10 * (4 * 128 + 5) + 4 * 128));
}

}  // namespace
}  // namespace brickc::ir
