#include "ir/cost.h"

#include <fmt/format.h>

namespace brickc::ir {
namespace {

constexpr uint64_t kPos = 4;           // an i32 step input
constexpr uint64_t kRmsnormFlops = 4;  // per element: square+sum (2), scale, weight
constexpr uint64_t kRopeFlops = 3;     // per element: 6 per rotated pair (4 mul, 2 add)
constexpr uint64_t kSwigluFlops = 5;   // per element: exp, add, divide (sigmoid), 2 mul
constexpr uint64_t kSoftmaxFlops = 5;  // per score: scale, max compare, subtract, exp, sum

class Coster {
 public:
  Coster(const Graph& g, const Brick& b) : g_(g), b_(b) {}

  std::optional<Cost> run() {
    const auto& sig = signature(b_.kind);
    const size_t n_ops = b_.operands.size();
    if (!sig.takes(n_ops) || b_.results.size() != static_cast<size_t>(sig.results))
      return std::nullopt;
    Cost c;
    // Outputs are written whole by every kind except the KV appends, which write one
    // position of each cache instead of the cache value they return.
    for (ValueId r : b_.results) c.bytes_written += bytes(r);
    switch (b_.kind) {
      case BrickKind::Embed:
        c.bytes_read = (kPos + one_row(1)) * tokens_;
        break;
      case BrickKind::Rmsnorm:
        c.bytes_read = op_bytes(0) + op_bytes(1);
        c.flops = kRmsnormFlops * elements(0);
        break;
      case BrickKind::Matvec:
        c.bytes_read = all_operand_bytes();
        c.flops = matvec_flops(0, 1, 2);
        break;
      case BrickKind::LmHead:
        c.bytes_read = all_operand_bytes() - op_bytes(0) + input_rows_read(0);
        c.flops = matvec_flops(0, 1, -1);
        break;
      case BrickKind::Qkv:
        c.bytes_read = all_operand_bytes();
        for (int w = 1; w <= 3; ++w) c.flops += matvec_flops(0, w, n_ops == 7 ? w + 3 : -1);
        break;
      case BrickKind::Rope:
        c.bytes_read = op_bytes(0) + kPos * tokens_;
        c.flops = kRopeFlops * elements(0);
        break;
      case BrickKind::KvAppend:
        c.bytes_read = op_bytes(0) + op_bytes(1) + kPos * tokens_;
        c.bytes_written = (position_bytes(3) + position_bytes(4)) * tokens_;
        break;
      case BrickKind::Attention: {
        const auto& kc = g_.type(b_.operands[1]);
        const uint64_t hd = dim(kc, 0), heads = len(0) / (hd ? hd : 1), L = g_.kv_len, T = tokens_;
        // Each cached position is read once (the query heads sharing a KV head share its
        // loads); token t of T, at position L - T + t, scores L - T + t + 1 positions.
        c.bytes_read = op_bytes(0) + kPos * T + L * (position_bytes(1) + position_bytes(2));
        const uint64_t scores = T <= L ? T * L - T * (T - 1) / 2 : T * L;
        // Per head and score: q·k, softmax, weights·v; one divide per output.
        c.flops = heads * (scores * (4 * hd + kSoftmaxFlops) + T * hd);
        break;
      }
      case BrickKind::Swiglu:
        c.bytes_read = op_bytes(0) + op_bytes(1);
        c.flops = kSwigluFlops * elements(0);
        break;
      case BrickKind::Add:
        c.bytes_read = op_bytes(0) + op_bytes(1);
        c.flops = elements(0);
        break;
      case BrickKind::Argmax:
        c.bytes_read = op_bytes(0);
        c.flops = len(0);
        break;
      case BrickKind::RmsnormMatvec:
        c.bytes_read = all_operand_bytes();
        c.flops = kRmsnormFlops * elements(0) + matvec_flops(0, 2, 3);
        break;
      case BrickKind::RmsnormQkv:
        // x, the norm weight and the matrices in; only q, k, v out (the normalized x
        // stays on chip).
        c.bytes_read = all_operand_bytes();
        c.flops = kRmsnormFlops * elements(0);
        for (int w = 2; w <= 4; ++w) c.flops += matvec_flops(0, w, n_ops == 8 ? w + 3 : -1);
        break;
      case BrickKind::RmsnormGateUpSwiglu:
        c.bytes_read = all_operand_bytes();
        c.flops = kRmsnormFlops * elements(0) + matvec_flops(0, 2, -1) + matvec_flops(0, 3, -1) +
                  kSwigluFlops * rows(2) * out_tokens();
        break;
      case BrickKind::RmsnormLmHead:
        // Only the rows that get logits are normalized and read.
        c.bytes_read = all_operand_bytes() - op_bytes(0) + input_rows_read(0);
        c.flops = kRmsnormFlops * len(0) * out_tokens() + matvec_flops(0, 2, -1);
        break;
      case BrickKind::GateUpSwiglu: {
        c.bytes_read = all_operand_bytes();
        uint64_t n = rows(1);
        c.flops = matvec_flops(0, 1, -1) + matvec_flops(0, 2, -1) + kSwigluFlops * n * out_tokens();
        break;
      }
      case BrickKind::RopeKvAppend:
        c.bytes_read = op_bytes(0) + op_bytes(1) + op_bytes(2) + kPos * tokens_;
        c.bytes_written = bytes(b_.results[0]) + (position_bytes(4) + position_bytes(5)) * tokens_;
        c.flops = kRopeFlops * (elements(0) + elements(1));
        break;
      case BrickKind::MatvecAdd:
        c.bytes_read = all_operand_bytes();
        c.flops = matvec_flops(0, 1, -1) + rows(1) * out_tokens();
        break;
    }
    return c;
  }

 private:
  uint64_t bytes(ValueId v) const { return g_.type(v).bytes(); }
  uint64_t op_bytes(int i) const { return bytes(b_.operands[i]); }
  uint64_t all_operand_bytes() const {
    uint64_t s = 0;
    for (ValueId o : b_.operands) s += bytes(o);
    return s;
  }
  static uint64_t dim(const TensorType& t, size_t i) {
    return i < t.shape.dims.size() ? static_cast<uint64_t>(t.shape.dims[i]) : 1;
  }
  uint64_t len(int i) const { return dim(g_.type(b_.operands[i]), 0); }
  uint64_t elements(int i) const {
    return static_cast<uint64_t>(g_.type(b_.operands[i]).shape.elements());
  }
  // Tokens the brick's results carry: the graph's, or one for last-row logits.
  uint64_t out_tokens() const {
    const auto& s = g_.type(b_.results[0]).shape;
    return s.ne0() ? static_cast<uint64_t>(s.elements() / s.ne0()) : 1;
  }
  // Bytes of activation operand i that a brick producing out_tokens() rows reads.
  uint64_t input_rows_read(int i) const { return op_bytes(i) / tokens_ * out_tokens(); }
  uint64_t rows(int i) const { return static_cast<uint64_t>(g_.type(b_.operands[i]).shape.rows()); }
  uint64_t one_row(int i) const {
    uint64_t r = rows(i);
    return r ? op_bytes(i) / r : 0;
  }
  // One cache position: head_dim * n_kv_heads elements, i.e. the cache's bytes / max_ctx.
  uint64_t position_bytes(int i) const {
    // A cache per sequence of a batch ([.., max_ctx, n_seq]) holds n_seq * max_ctx positions.
    const auto& t = g_.type(b_.operands[i]);
    uint64_t positions = dim(t, 2) * (t.shape.dims.size() > 3 ? dim(t, 3) : 1);
    return positions ? t.bytes() / positions : 0;
  }
  // 2 flops per weight element and token, plus one add per output for a bias.
  uint64_t matvec_flops(int x, int w, int bias) const {
    uint64_t f = 2 * len(x) * rows(w);
    if (bias >= 0 && bias < static_cast<int>(b_.operands.size())) f += rows(w);
    return f * out_tokens();
  }

  const Graph& g_;
  const Brick& b_;
  const uint64_t tokens_ = static_cast<uint64_t>(g_.n_tokens > 0 ? g_.n_tokens : 1);
};

std::string scaled(uint64_t v, std::string_view unit) {
  static constexpr const char* kPrefix[] = {"", "K", "M", "G", "T", "P", "E"};
  if (v < 1000) return fmt::format("{} {}", v, unit);
  double x = static_cast<double>(v);
  int p = 0;
  while (x >= 999.5 && p < 6) x /= 1000, ++p;
  int decimals = x >= 99.95 ? 0 : x >= 9.995 ? 1 : 2;
  return fmt::format("{:.{}f} {}{}", x, decimals, kPrefix[p], unit);
}

}  // namespace

double Cost::intensity() const {
  return bytes() ? static_cast<double>(flops) / static_cast<double>(bytes()) : 0.0;
}

Cost& Cost::operator+=(const Cost& o) {
  bytes_read += o.bytes_read;
  bytes_written += o.bytes_written;
  flops += o.flops;
  return *this;
}

std::optional<Cost> cost(const Graph& g, const Brick& b) { return Coster(g, b).run(); }

Cost total_cost(const Graph& g) {
  Cost t;
  for (const auto& b : g.bricks())
    if (auto c = cost(g, b)) t += *c;
  return t;
}

std::string format_bytes(uint64_t bytes) { return scaled(bytes, "B"); }
std::string format_flops(uint64_t flops) { return scaled(flops, "FLOP"); }

std::string format_cost(const Cost& c) {
  return fmt::format("{}, {}, {:.2f} FLOP/B", format_bytes(c.bytes()), format_flops(c.flops),
                     c.intensity());
}

}  // namespace brickc::ir
