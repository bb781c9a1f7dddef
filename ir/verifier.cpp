#include "ir/verifier.h"

#include <fmt/format.h>

#include <cmath>

#include "ir/error.h"

namespace brickc::ir {
namespace {

std::string describe(const Graph& g, ValueId v) {
  return fmt::format("%{} : {}", g.value(v).name, to_string(g.type(v)));
}

// Shapes that every value must have, whatever uses it.
std::string shape_problem(const TensorType& t) {
  const auto& d = t.shape.dims;
  if (d.empty() || d.size() > kMaxRank) return fmt::format("rank must be 1 to {}", kMaxRank);
  int64_t n = 1;
  for (int64_t x : d) {
    if (x < 1) return "dimensions must be positive";
    if (x > kMaxElements / n) return "more than 2^40 elements";
    n *= x;
  }
  if (t.shape.ne0() % info(t.elem).block_elems != 0)
    return fmt::format("ne0 = {} is not a whole number of {} blocks ({} elements each)",
                       t.shape.ne0(), name(t.elem), info(t.elem).block_elems);
  return {};
}

class BrickChecker {
 public:
  BrickChecker(const Graph& g, const Brick& b, std::vector<Diagnostic>& out)
      : g_(g), b_(b), out_(out) {}

  void check() {
    const auto& sig = signature(b_.kind);
    int n_res = static_cast<int>(b_.results.size());
    bool counts_ok = true;
    if (!sig.takes(b_.operands.size())) {
      error("wrong operand count", "expects {} operands ({}), found {}",
            fmt::join(sig.operand_counts, " or "), fmt::join(sig.operand_names, ", "),
            b_.operands.size());
      counts_ok = false;
    }
    if (n_res != sig.results) {
      error("wrong result count", "defines {} result{}, found {}", sig.results,
            sig.results == 1 ? "" : "s", n_res);
      counts_ok = false;
    }
    check_attrs(sig);
    if (b_.layer < -1)
      error("bad layer", "layer {} is neither a layer number nor -1 (none)", b_.layer);
    if (counts_ok && shapes_valid()) check_types();
  }

 private:
  template <typename... Args>
  void error(std::string_view rule, fmt::format_string<Args...> f, Args&&... args) {
    std::string who = b_.results.empty() || b_.results[0].index >= g_.value_count()
                          ? std::string(keyword(b_.kind))
                          : fmt::format("{} %{}", keyword(b_.kind), g_.value(b_.results[0]).name);
    out_.push_back({b_.loc, fmt::format("{}: {}: {}", rule, who,
                                        fmt::format(f, std::forward<Args>(args)...))});
  }

  void check_attrs(const BrickSignature& sig) {
    for (const auto& spec : sig.attrs) {
      const Attr* a = b_.attr(spec.name);
      if (!a)
        error("missing attribute", "needs '{}' ({})", spec.name,
              spec.type == AttrType::Int ? "an integer" : "a number");
      else if (spec.type == AttrType::Int && !std::holds_alternative<int64_t>(*a))
        error("wrong attribute type", "'{}' must be an integer", spec.name);
      else if (spec.type == AttrType::Float &&
               !(b_.float_attr(spec.name) > 0 && std::isfinite(b_.float_attr(spec.name))))
        // Every real attribute so far (eps, theta) is a positive quantity.
        error("bad attribute", "'{}' must be positive and finite, found {}", spec.name,
              b_.float_attr(spec.name));
    }
    if (b_.budget_us && !(*b_.budget_us >= 0 && std::isfinite(*b_.budget_us)))
      error("bad attribute", "budget_us must be a finite number of µs, found {}", *b_.budget_us);
    for (const auto& [k, v] : b_.attrs) {
      bool known = false;
      for (const auto& spec : sig.attrs) known |= spec.name == k;
      if (!known) error("unknown attribute", "{} takes no attribute '{}'", keyword(b_.kind), k);
    }
  }

  bool shapes_valid() {
    bool valid = true;
    // Operands were reported where they were declared or defined; only skip the rest.
    for (ValueId o : b_.operands)
      if (!shape_problem(g_.type(o)).empty()) valid = false;
    for (ValueId r : b_.results) {
      auto p = shape_problem(g_.type(r));
      if (!p.empty()) {
        error("bad shape", "result %{} : {}: {}", g_.value(r).name, to_string(g_.type(r)), p);
        valid = false;
      }
    }
    return valid;
  }

  const TensorType& op(int i) const { return g_.type(b_.operands[i]); }
  const TensorType& res(int i) const { return g_.type(b_.results[i]); }
  std::string_view op_name(int i) const { return signature(b_.kind).operand_names[i]; }
  bool has(int i) const { return i < static_cast<int>(b_.operands.size()); }

  // --- operand rules; each reports and returns false when broken ---

  // `tokens` rows: a vector (one row) or [n, tokens].
  bool shaped(int i, int64_t tokens) {
    const auto& d = op(i).shape.dims;
    if (tokens == 1 ? d.size() == 1 : d.size() == 2 && d[1] == tokens) return true;
    error("shape mismatch", "{} {} must be {}", op_name(i), describe(g_, b_.operands[i]),
          tokens == 1 ? std::string("a vector")
                      : fmt::format("[n, {}] (one row per token of the step)", tokens));
    return false;
  }
  bool typed(int i, bool (*allowed)(DType), std::string_view what) {
    if (allowed(op(i).elem)) return true;
    error("wrong type", "{} {} must be {}", op_name(i), describe(g_, b_.operands[i]), what);
    return false;
  }
  static bool is_f32(DType t) { return t == DType::F32; }
  // Weight vectors (norms, biases): f32[n].
  bool f32_vector(int i) { return typed(i, is_f32, "f32") && shaped(i, 1); }
  // Activations: one row per token of the step (Graph::n_tokens).
  bool f32_act(int i) { return typed(i, is_f32, "f32") && shaped(i, g_.n_tokens); }
  bool act_vector(int i) {
    return typed(i, is_activation_type, "f32 or q8_1 (int8 activations)") && shaped(i, g_.n_tokens);
  }

  bool same_length(int i, int j) {
    if (op(i).shape.ne0() == op(j).shape.ne0()) return true;
    error("shape mismatch", "{} {} and {} {} must have the same length", op_name(i),
          describe(g_, b_.operands[i]), op_name(j), describe(g_, b_.operands[j]));
    return false;
  }

  bool length_is(int i, int64_t n, std::string_view why) {
    if (op(i).shape.ne0() == n) return true;
    error("shape mismatch", "{} {} must have {} elements ({})", op_name(i),
          describe(g_, b_.operands[i]), n, why);
    return false;
  }

  // A matrix [k, n] (ggml order): reads a k-vector, gives an n-vector.
  bool weight(int i, int x) {
    const int64_t k = op(x).shape.ne0();
    const auto& t = op(i);
    if (!is_weight_type(t.elem)) {
      error("wrong type", "{} {} must be f32, f16, bf16 or a GGUF weight block format", op_name(i),
            describe(g_, b_.operands[i]));
      return false;
    }
    if (t.shape.dims.size() != 2) {
      error("shape mismatch", "{} {} must be a matrix", op_name(i), describe(g_, b_.operands[i]));
      return false;
    }
    if (t.shape.ne0() != k) {
      error("shape mismatch", "{} {} must have ne0 = {}, the length of {} %{}", op_name(i),
            describe(g_, b_.operands[i]), k, op_name(x), g_.value(b_.operands[x]).name);
      return false;
    }
    return true;
  }

  bool bias(int i, int64_t n) { return f32_vector(i) && length_is(i, n, "one per output row"); }

  // Token ids and positions: one i32 per token of the step.
  bool per_token_i32(int i) {
    const auto& t = op(i);
    if (t.elem == DType::I32 && t.shape == Shape{{g_.n_tokens}}) return true;
    error("wrong type", "{} {} must be i32[{}] (one per token of the step)", op_name(i),
          describe(g_, b_.operands[i]), g_.n_tokens);
    return false;
  }
  bool pos(int i) { return per_token_i32(i); }

  // KV cache [head_dim, n_kv_heads, max_ctx], or [head_dim, n_kv_heads, max_ctx, n_seq]:
  // one cache of max_ctx positions per sequence of a batch.
  bool cache(int i) {
    const auto& t = op(i);
    if (!is_cache_type(t.elem)) {
      error("wrong type", "{} {} must be f16, f32 or q8_0", op_name(i), describe(g_, b_.operands[i]));
      return false;
    }
    if (t.shape.dims.size() != 3 && t.shape.dims.size() != 4) {
      error("shape mismatch", "{} {} must be [head_dim, n_kv_heads, max_ctx] or [head_dim, "
            "n_kv_heads, max_ctx, n_seq]", op_name(i), describe(g_, b_.operands[i]));
      return false;
    }
    return true;
  }

  // A step over several sequences names each token's sequence (operand `s`) exactly when
  // its caches have a sequence dimension (the cache operand at `kc`).
  bool seq_operand(int s, int kc) {
    const bool batched = op(kc).shape.dims.size() == 4;
    if (batched && !has(s)) {
      error("wrong operand count", "{} has one cache per sequence ({}), so it needs the seq "
            "operand (i32[{}], each token's sequence)", keyword(b_.kind),
            describe(g_, b_.operands[kc]), g_.n_tokens);
      return false;
    }
    if (!batched && has(s)) {
      error("wrong operand count", "{} has a seq operand but {} holds one sequence (no n_seq "
            "dimension)", keyword(b_.kind), describe(g_, b_.operands[kc]));
      return false;
    }
    return !batched || per_token_i32(s);
  }

  bool caches(int k, int v) {
    if (!cache(k) || !cache(v)) return false;
    // K and V may be held in different types (--cache-type-k q8_0 --cache-type-v f16).
    if (op(k).shape == op(v).shape) return true;
    error("shape mismatch", "{} {} and {} {} must have the same shape", op_name(k),
          describe(g_, b_.operands[k]), op_name(v), describe(g_, b_.operands[v]));
    return false;
  }

  bool head_split(int i, int64_t head_dim) {
    if (head_dim >= 2 && head_dim % 2 == 0 && op(i).shape.ne0() % head_dim == 0) return true;
    error("shape mismatch", "{} {} is not a whole number of heads of {} (an even head_dim)",
          op_name(i), describe(g_, b_.operands[i]), head_dim);
    return false;
  }

  // --- result rules ---

  void result_is(int r, const TensorType& want) {
    if (res(r) == want) return;
    error("result type", "result %{} must be {}, found {}", g_.value(b_.results[r]).name,
          to_string(want), to_string(res(r)));
  }
  // Bricks that may quantize their output for an int8 matvec: f32 or q8_1, given length.
  void act_result_is(int r, int64_t n) {
    const auto& t = res(r);
    const Shape want = rows(DType::F32, n, g_.n_tokens).shape;
    if (is_activation_type(t.elem) && t.shape == want) return;
    error("result type", "result %{} must be f32{} or q8_1{}, found {}",
          g_.value(b_.results[r]).name, to_string(want), to_string(want), to_string(t));
  }
  void f32_result_is(int r, int64_t n) { result_is(r, rows(DType::F32, n, g_.n_tokens)); }
  // Logits: every token's row, or the last token's alone (what generation needs).
  void logits_result_is(int r, int64_t n) {
    if (g_.n_tokens > 1 && res(r) == f32(n)) return;
    f32_result_is(r, n);
  }
  void cache_results(int first_result, int k_cache) {
    result_is(first_result, op(k_cache));
    result_is(first_result + 1, op(k_cache + 1));
  }

  int64_t len(int i) const { return op(i).shape.ne0(); }
  int64_t out_rows(int i) const { return op(i).shape.dims[1]; }

  // The rules a composite shares with its parts, given where its weights start.
  // rmsnorm_*: x and the norm weight, both f32 (the norm needs x unquantized).
  bool norm_input() { return f32_act(0) && f32_vector(1) && same_length(0, 1); }
  // q, k, v weights at w0..w0+2, then optionally their three biases.
  void qkv_rules(int w0) {
    for (int w = w0; w < w0 + 3; ++w)
      if (!weight(w, 0)) return;
    if (has(w0 + 3))
      for (int w = w0; w < w0 + 3; ++w)
        if (!bias(w + 3, out_rows(w))) return;
    for (int r = 0; r < 3; ++r) f32_result_is(r, out_rows(w0 + r));
  }
  // gate and up weights at w0, w0 + 1.
  void gate_up_rules(int w0) {
    if (!weight(w0, 0) || !weight(w0 + 1, 0)) return;
    if (op(w0).shape != op(w0 + 1).shape) {
      error("shape mismatch", "gate weight {} and up weight {} must have the same shape",
            describe(g_, b_.operands[w0]), describe(g_, b_.operands[w0 + 1]));
      return;
    }
    act_result_is(0, out_rows(w0));
  }

  void check_types() {
    switch (b_.kind) {
      case BrickKind::Embed: {
        if (!per_token_i32(0) || !weight(1, 1)) return;
        f32_result_is(0, len(1));
        return;
      }
      case BrickKind::Rmsnorm:
        if (f32_act(0) && f32_vector(1) && same_length(0, 1)) act_result_is(0, len(0));
        return;
      case BrickKind::Matvec:
        if (!act_vector(0) || !weight(1, 0)) return;
        if (has(2) && !bias(2, out_rows(1))) return;
        f32_result_is(0, out_rows(1));
        return;
      case BrickKind::LmHead:
        if (act_vector(0) && weight(1, 0)) logits_result_is(0, out_rows(1));
        return;
      case BrickKind::Qkv:
        if (act_vector(0)) qkv_rules(1);
        return;
      case BrickKind::Rope: {
        const Attr* hd = b_.attr("head_dim");
        if (!f32_act(0) || !pos(1) || !hd || !std::holds_alternative<int64_t>(*hd)) return;
        if (head_split(0, std::get<int64_t>(*hd))) result_is(0, op(0));
        return;
      }
      case BrickKind::KvAppend:
        if (kv_operands(0, 1, 2, 3) && state_caches(3) && seq_operand(5, 3)) cache_results(0, 3);
        return;
      case BrickKind::Attention: {
        if (!f32_act(0) || !caches(1, 2) || !pos(3) || !appended_caches(1) || !seq_operand(4, 1))
          return;
        const auto& c = op(1).shape.dims;
        if (!head_split(0, c[0])) return;
        int64_t heads = len(0) / c[0];
        if (heads % c[1] != 0) {
          error("shape mismatch", "{} query heads cannot share {} kv heads evenly", heads, c[1]);
          return;
        }
        if (g_.kv_len < g_.n_tokens) {
          error("shape mismatch", "graph kv_len = {} is less than its n_tokens = {} (the step's "
                "tokens are cached positions too)", g_.kv_len, g_.n_tokens);
          return;
        }
        if (g_.kv_len > c[2]) {
          error("shape mismatch", "graph kv_len = {} exceeds the cache length {} of {}", g_.kv_len,
                c[2], describe(g_, b_.operands[1]));
          return;
        }
        act_result_is(0, len(0));
        return;
      }
      case BrickKind::Swiglu:
        if (f32_act(0) && f32_act(1) && same_length(0, 1)) act_result_is(0, len(0));
        return;
      case BrickKind::Add:
        if (f32_act(0) && f32_act(1) && same_length(0, 1)) result_is(0, op(0));
        return;
      case BrickKind::Argmax:
        // The next token after the step's last: over the last token's logits alone.
        if (typed(0, is_f32, "f32") && shaped(0, 1)) result_is(0, vec(DType::I32, 1));
        return;
      case BrickKind::RmsnormMatvec:
        if (!norm_input() || !weight(2, 0)) return;
        if (has(3) && !bias(3, out_rows(2))) return;
        f32_result_is(0, out_rows(2));
        return;
      case BrickKind::RmsnormQkv:
        if (norm_input()) qkv_rules(2);
        return;
      case BrickKind::RmsnormGateUpSwiglu:
        if (norm_input()) gate_up_rules(2);
        return;
      case BrickKind::RmsnormLmHead:
        if (norm_input() && weight(2, 0)) logits_result_is(0, out_rows(2));
        return;
      case BrickKind::GateUpSwiglu:
        if (act_vector(0)) gate_up_rules(1);
        return;
      case BrickKind::RopeKvAppend: {
        if (!f32_act(0) || !kv_operands(1, 2, 3, 4) || !state_caches(4) || !seq_operand(6, 4))
          return;
        if (!head_split(0, op(4).shape.dims[0])) return;
        result_is(0, op(0));
        cache_results(1, 4);
        return;
      }
      case BrickKind::MatvecAdd:
        if (!act_vector(0) || !weight(1, 0) || !f32_act(2) ||
            !length_is(2, out_rows(1), "one per output row of the weight"))
          return;
        f32_result_is(0, out_rows(1));
        return;
    }
  }

  // One token per step: the append writes into the caches as they were before the step.
  bool state_caches(int kc) {
    for (int i = kc; i <= kc + 1; ++i) {
      if (g_.value(b_.operands[i]).kind == ValueKind::State) continue;
      error("cache use", "{} %{} must be a state value (the cache before this step)", op_name(i),
            g_.value(b_.operands[i]).name);
      return false;
    }
    return true;
  }

  // Attention must see this step's k and v: it reads the caches one append returned.
  bool appended_caches(int kc) {
    std::optional<size_t> from[2];
    for (int i = 0; i < 2; ++i) {
      ValueId c = b_.operands[kc + i];
      from[i] = g_.producer(c);
      const Brick* p = from[i] ? &g_.bricks()[*from[i]] : nullptr;
      // kv_append returns (k, v) caches; rope_kv_append returns (q, k, v).
      size_t first = p && p->kind == BrickKind::RopeKvAppend ? 1 : 0;
      bool appended = p && (p->kind == BrickKind::KvAppend || p->kind == BrickKind::RopeKvAppend) &&
                      p->results.size() == first + 2 && p->results[first + i] == c;
      if (!appended) {
        error("cache use",
              "{} %{} must be the {} cache returned by kv_append or rope_kv_append "
              "(the cache including this step's position)",
              op_name(kc + i), g_.value(c).name, i == 0 ? "k" : "v");
        return false;
      }
    }
    if (from[0] == from[1]) return true;
    error("cache use", "k cache %{} and v cache %{} come from different appends",
          g_.value(b_.operands[kc]).name, g_.value(b_.operands[kc + 1]).name);
    return false;
  }

  // k, v vectors of head_dim * n_kv_heads written at `pos` into the two caches.
  bool kv_operands(int k, int v, int p, int kc) {
    if (!f32_act(k) || !f32_act(v) || !same_length(k, v) || !pos(p) || !caches(kc, kc + 1))
      return false;
    const auto& c = op(kc).shape.dims;
    return length_is(k, c[0] * c[1], "head_dim * n_kv_heads of the cache");
  }

  const Graph& g_;
  const Brick& b_;
  std::vector<Diagnostic>& out_;
};

void check_declarations(const Graph& g, std::vector<Diagnostic>& out) {
  for (uint32_t i = 0; i < g.value_count(); ++i) {
    const Value& v = g.value(ValueId{i});
    if (v.kind == ValueKind::Result) continue;
    auto p = shape_problem(v.type);
    if (!p.empty()) {
      out.push_back({v.loc, fmt::format("bad shape: %{} : {}: {}", v.name, to_string(v.type), p)});
      continue;
    }
    if (v.kind == ValueKind::Weight && !is_weight_type(v.type.elem))
      out.push_back({v.loc, fmt::format("wrong type: weight %{} : {}: weights are f32, f16, bf16 "
                                        "or a GGUF weight block format",
                                        v.name, to_string(v.type))});
    if (v.kind == ValueKind::State &&
        (!is_cache_type(v.type.elem) ||
         (v.type.shape.dims.size() != 3 && v.type.shape.dims.size() != 4)))
      out.push_back({v.loc, fmt::format("wrong type: state %{} : {}: a KV cache is "
                                        "f16, f32 or q8_0 [head_dim, n_kv_heads, max_ctx] or "
                                        "[head_dim, n_kv_heads, max_ctx, n_seq]",
                                        v.name, to_string(v.type))});
  }
}

// SSA: every operand is declared or defined by an earlier brick; every result is defined
// once. Returns false where ids are out of range (nothing else can be checked then).
bool check_order(const Graph& g, std::vector<Diagnostic>& out) {
  const size_t n = g.value_count();
  std::vector<const Brick*> def(n, nullptr);
  bool ids_ok = true;
  for (const auto& b : g.bricks()) {
    for (ValueId v : b.operands) ids_ok &= v.index < n;
    for (ValueId v : b.results) {
      if (v.index >= n) {
        ids_ok = false;
        continue;
      }
      if (!def[v.index]) def[v.index] = &b;
    }
  }
  for (ValueId v : g.outputs) ids_ok &= v.index < n;
  if (!ids_ok) {
    out.push_back({{}, "internal: a brick refers to a value id outside the graph"});
    return false;
  }

  std::vector<bool> defined(n, false);
  for (uint32_t i = 0; i < n; ++i) defined[i] = g.value(ValueId{i}).kind != ValueKind::Result;
  auto where = [](const Loc& l) {
    return l ? fmt::format(" at {}:{}", l.line, l.col) : std::string();
  };
  for (const auto& b : g.bricks()) {
    auto who = fmt::format("{}{}", keyword(b.kind),
                           b.results.empty() ? "" : " %" + g.value(b.results[0]).name);
    for (ValueId v : b.operands) {
      if (defined[v.index]) continue;
      const Value& val = g.value(v);
      if (def[v.index])
        out.push_back({b.loc, fmt::format("use before definition: {}: %{} is defined later{}", who,
                                          val.name, where(def[v.index]->loc))});
      else
        out.push_back(
            {b.loc, fmt::format("undefined value: {}: %{} is never defined", who, val.name)});
    }
    for (ValueId v : b.results) {
      const Value& val = g.value(v);
      if (defined[v.index]) {
        auto first = val.kind != ValueKind::Result ? val.loc : def[v.index]->loc;
        out.push_back({b.loc, fmt::format("redefinition: {}: %{} is already defined{}", who,
                                          val.name, where(first))});
      }
      defined[v.index] = true;
    }
  }
  for (ValueId v : g.outputs)
    if (!defined[v.index])
      out.push_back({g.value(v).loc,
                     fmt::format("undefined value: output %{} is never defined", g.value(v).name)});
  return true;
}

// A step appends its positions to each cache once, so each state value is appended once.
void check_single_append(const Graph& g, std::vector<Diagnostic>& out) {
  std::vector<const Brick*> appended_by(g.value_count(), nullptr);
  for (const auto& b : g.bricks()) {
    if ((b.kind != BrickKind::KvAppend && b.kind != BrickKind::RopeKvAppend) || b.results.empty())
      continue;
    size_t first = b.kind == BrickKind::KvAppend ? 3 : 4;
    for (size_t i = first; i < first + 2 && i < b.operands.size(); ++i) {
      ValueId c = b.operands[i];
      if (g.value(c).kind != ValueKind::State) continue;
      if (const Brick* prior = appended_by[c.index])
        out.push_back(
            {b.loc, fmt::format("cache use: {} %{}: state %{} is already appended to "
                                "by {} %{}; a step appends to each cache once",
                                keyword(b.kind), g.value(b.results[0]).name, g.value(c).name,
                                keyword(prior->kind), g.value(prior->results[0]).name)});
      else
        appended_by[c.index] = &b;
    }
  }
}

}  // namespace

std::vector<Diagnostic> verify(const Graph& g) {
  std::vector<Diagnostic> out;
  if (g.kv_len < 1)
    out.push_back({{}, fmt::format("graph kv_len must be at least 1, found {}", g.kv_len)});
  if (g.n_tokens < 1)
    out.push_back({{}, fmt::format("graph n_tokens must be at least 1, found {}", g.n_tokens)});
  check_declarations(g, out);
  if (!check_order(g, out)) return out;
  for (const auto& b : g.bricks()) BrickChecker(g, b, out).check();
  check_single_append(g, out);
  return out;
}

void verify_or_fail(const Graph& g, std::string_view source) {
  auto ds = verify(g);
  if (!ds.empty()) throw Error(format(ds, source));
}

}  // namespace brickc::ir
