// The Qwen2 CPU model on tiny random GGUF files: against a naive double-precision forward
// pass written here, prefill against token-by-token decode, KV-cache positions across
// calls and batches, thread-count independence, and its input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "frontend/gguf/reader.h"
#include "frontend/quant/quant.h"
#include "ir/error.h"
#include "runtime/cpu/forward.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc::cpu {
namespace {

using brickc::testing::temp_path;
using brickc::testing::tiny_qwen2;
using brickc::testing::TinyShape;

using Mat = std::vector<double>;  // row-major [rows][cols]

Mat load(const gguf::File& f, const std::string& name) {
  const auto& t = f.tensor(name);
  std::vector<float> v(t.n_elements());
  quant::dequantize(t.type, t.data, v.data(), t.n_elements());
  return Mat(v.begin(), v.end());
}

std::vector<double> matvec(const Mat& w, const std::vector<double>& x) {
  const size_t cols = x.size(), rows = w.size() / cols;
  std::vector<double> y(rows, 0.0);
  for (size_t r = 0; r < rows; ++r)
    for (size_t k = 0; k < cols; ++k) y[r] += w[r * cols + k] * x[k];
  return y;
}

std::vector<double> rms(const std::vector<double>& x, const Mat& w, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double s = 1.0 / std::sqrt(ss / x.size() + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * s * w[i];
  return y;
}

// The forward pass of gguf-qwen2.md §3, written as plainly as possible in double: returns
// the logits of every position of `tokens`.
std::vector<std::vector<double>> naive_forward(const gguf::File& f, const TinyShape& s,
                                               const std::vector<int32_t>& tokens) {
  const size_t E = s.n_embd, hd = E / s.n_head, group = s.n_head / s.n_head_kv;
  const Mat embd = load(f, "token_embd.weight"), out_norm = load(f, "output_norm.weight");
  const Mat head = s.tied ? embd : load(f, "output.weight");
  std::vector<std::vector<std::vector<double>>> kc(s.n_layer), vc(s.n_layer);
  std::vector<std::vector<double>> result;
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    std::vector<double> x(embd.begin() + tokens[pos] * E, embd.begin() + (tokens[pos] + 1) * E);
    for (uint32_t l = 0; l < s.n_layer; ++l) {
      auto T = [&](const char* n) { return load(f, "blk." + std::to_string(l) + "." + n); };
      const auto h = rms(x, T("attn_norm.weight"), s.eps);
      auto q = matvec(T("attn_q.weight"), h), k = matvec(T("attn_k.weight"), h),
           v = matvec(T("attn_v.weight"), h);
      const Mat bq = T("attn_q.bias"), bk = T("attn_k.bias"), bv = T("attn_v.bias");
      for (size_t i = 0; i < q.size(); ++i) q[i] += bq[i];
      for (size_t i = 0; i < k.size(); ++i) k[i] += bk[i], v[i] += bv[i];
      auto rope = [&](std::vector<double>& a) {
        for (size_t head0 = 0; head0 < a.size(); head0 += hd)
          for (size_t i = 0; i < hd / 2; ++i) {
            const double th = pos * std::pow(double(s.theta), -2.0 * i / hd);
            const double x0 = a[head0 + i], x1 = a[head0 + i + hd / 2];
            a[head0 + i] = x0 * std::cos(th) - x1 * std::sin(th);
            a[head0 + i + hd / 2] = x0 * std::sin(th) + x1 * std::cos(th);
          }
      };
      rope(q);
      rope(k);
      kc[l].push_back(k);
      vc[l].push_back(v);
      std::vector<double> att(q.size(), 0.0);
      for (size_t h0 = 0; h0 < s.n_head; ++h0) {
        const size_t kvh = h0 / group;
        std::vector<double> w(pos + 1);
        double max = -1e300, sum = 0;
        for (size_t j = 0; j <= pos; ++j) {
          double d = 0;
          for (size_t e = 0; e < hd; ++e) d += q[h0 * hd + e] * kc[l][j][kvh * hd + e];
          w[j] = d / std::sqrt(double(hd));
          max = std::max(max, w[j]);
        }
        for (auto& a : w) sum += (a = std::exp(a - max));
        for (size_t j = 0; j <= pos; ++j)
          for (size_t e = 0; e < hd; ++e) att[h0 * hd + e] += w[j] / sum * vc[l][j][kvh * hd + e];
      }
      const auto o = matvec(T("attn_output.weight"), att);
      for (size_t i = 0; i < E; ++i) x[i] += o[i];
      const auto h2 = rms(x, T("ffn_norm.weight"), s.eps);
      const auto g = matvec(T("ffn_gate.weight"), h2), u = matvec(T("ffn_up.weight"), h2);
      std::vector<double> a(g.size());
      for (size_t i = 0; i < g.size(); ++i) a[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const auto d = matvec(T("ffn_down.weight"), a);
      for (size_t i = 0; i < E; ++i) x[i] += d[i];
    }
    result.push_back(matvec(head, rms(x, out_norm, s.eps)));
  }
  return result;
}

std::vector<int32_t> random_tokens(std::mt19937& rng, size_t n, uint32_t vocab) {
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(vocab) - 1);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = d(rng);
  return t;
}

// Logits rows must agree to `rel` of the row's largest magnitude.
void expect_close(std::span<const float> got, const std::vector<double>& want, double rel,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], rel * scale) << what << " logit " << i;
}

std::vector<std::vector<float>> prefill_all(Qwen2Model& m, const std::vector<int32_t>& tokens) {
  std::vector<std::vector<float>> rows;
  m.prefill(tokens,
            [&](int64_t, std::span<const float> l) { rows.emplace_back(l.begin(), l.end()); });
  return rows;
}

class CpuForward : public ::testing::Test {
 protected:
  std::mt19937 rng{std::random_device{}()};
};

TEST_F(CpuForward, MatchesNaiveDoubleForward) {
  for (bool tied : {true, false}) {
    TinyShape s;
    s.tied = tied;
    const std::string path = temp_path(tied ? "tied.gguf" : "untied.gguf");
    tiny_qwen2(s, rng()).write(path);
    const auto f = gguf::File::open(path);
    const auto tokens = random_tokens(rng, 12, s.n_vocab);
    const auto want = naive_forward(*f, s, tokens);
    Qwen2Model m(*f, {2, 64});
    const auto got = prefill_all(m, tokens);
    ASSERT_EQ(got.size(), tokens.size());
    for (size_t p = 0; p < tokens.size(); ++p)
      expect_close(got[p], want[p], 1e-4, "position " + std::to_string(p));
  }
}

TEST_F(CpuForward, PrefillEqualsTokenByTokenDecode) {
  TinyShape s;
  s.attn = DType::Q4_K;  // K-quant rows need 256 columns
  s.n_embd = 256;
  s.n_head = 4;
  s.n_ff = 256;
  s.ffn = DType::Q6_K;
  s.ffn_down = DType::Q5_0;
  const std::string path = temp_path("m.gguf");
  tiny_qwen2(s, rng()).write(path);
  const auto f = gguf::File::open(path);
  // More tokens than one batch, so that the KV cache carries over between batches.
  const auto tokens = random_tokens(rng, Qwen2Model::kBatch + 9, s.n_vocab);
  for (auto act : {Activations::kF32, Activations::kLlamaCpu}) {
    Qwen2Model batched(*f, {2, 128, act}), single(*f, {1, 128, act});
    const auto rows = prefill_all(batched, tokens);
    ASSERT_EQ(rows.size(), tokens.size());
    EXPECT_EQ(batched.n_past(), static_cast<int64_t>(tokens.size()));
    for (size_t p = 0; p < tokens.size(); ++p) {
      const auto l = single.decode(tokens[p]);
      const std::vector<double> want(l.begin(), l.end());
      expect_close(rows[p], want, 1e-4, "position " + std::to_string(p));
    }
    // A prefill without the per-position callback returns the last position's logits.
    batched.reset();
    const auto last = batched.prefill(tokens);
    expect_close(last, std::vector<double>(rows.back().begin(), rows.back().end()), 1e-4, "last");
  }
}

TEST_F(CpuForward, PositionsContinueAcrossCallsAndReset) {
  TinyShape s;
  const std::string path = temp_path("m.gguf");
  tiny_qwen2(s, rng()).write(path);
  const auto f = gguf::File::open(path);
  const auto tokens = random_tokens(rng, 10, s.n_vocab);
  Qwen2Model m(*f, {1, 32});
  const auto whole = prefill_all(m, tokens);
  m.reset();
  EXPECT_EQ(m.n_past(), 0);
  const std::vector<int32_t> head(tokens.begin(), tokens.begin() + 6),
      tail(tokens.begin() + 6, tokens.end());
  m.prefill(head);
  const auto rest = prefill_all(m, tail);
  ASSERT_EQ(rest.size(), 4u);
  for (size_t i = 0; i < rest.size(); ++i)
    expect_close(rest[i], std::vector<double>(whole[6 + i].begin(), whole[6 + i].end()), 1e-5,
                 "position " + std::to_string(6 + i));
}

TEST_F(CpuForward, ThreadCountDoesNotChangeLogits) {
  TinyShape s;
  const std::string path = temp_path("m.gguf");
  tiny_qwen2(s, rng()).write(path);
  const auto f = gguf::File::open(path);
  const auto tokens = random_tokens(rng, 20, s.n_vocab);
  Qwen2Model one(*f, {1, 32}), two(*f, {2, 32}), three(*f, {3, 32});
  const auto a = prefill_all(one, tokens);
  EXPECT_EQ(a, prefill_all(two, tokens));
  EXPECT_EQ(a, prefill_all(three, tokens));
}

TEST_F(CpuForward, RejectsBadTokensAndContextOverflow) {
  TinyShape s;
  const std::string path = temp_path("m.gguf");
  tiny_qwen2(s, rng()).write(path);
  const auto f = gguf::File::open(path);
  Qwen2Model m(*f, {1, 8});
  try {
    m.decode(static_cast<int32_t>(s.n_vocab));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("token id 40"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("40 tokens"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.decode(-1), Error);
  EXPECT_EQ(m.n_past(), 0);
  m.prefill(std::vector<int32_t>(6, 1));
  try {
    m.prefill(std::vector<int32_t>(3, 1));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 tokens at position 6"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("context length is 8"), std::string::npos) << e.what();
  }
  try {
    Qwen2Model too_long(*f, {1, s.n_ctx + 1});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context_length is 256"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace brickc::cpu
