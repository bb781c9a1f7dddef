#include "runtime/cuda/model.h"

#include <fmt/format.h>

#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "runtime/cuda/context.h"
#include "runtime/cuda/executor.h"
#include "runtime/decode_graph.h"

namespace brickc::cuda {
namespace {

// With plant_fault, the spec names a brick of the graph built here.
Executor make_executor(Context& ctx, const gguf::File& file, const ModelOptions& o) {
  ir::Graph g = runtime::decode_graph(file, o.n_ctx, o.passes, budget_profile(ctx.info().name), {},
                                       o.cache);
  ExecutorOptions e;
  e.use_graph = o.use_graph;
  e.megakernel = o.megakernel;
  e.task_timeout_s = o.task_timeout_s;
  e.lower.trace = o.trace;
  if (o.plant_fault) e.lower.plant_fault = g.find_brick(*o.plant_fault);
  return Executor(ctx, file, std::move(g), e);
}

// The T-token graph beside `decode`, sharing its weights and cache; all rows' logits when
// every position's logits are wanted.
std::unique_ptr<Executor> make_prefill(Context& ctx, const gguf::File& file, const ModelOptions& o,
                                       const Executor& decode) {
  const runtime::StepShape shape{std::min(o.n_ubatch, decode.max_ctx()), static_cast<bool>(o.each)};
  ir::Graph g =
      runtime::decode_graph(file, o.n_ctx, o.passes, budget_profile(ctx.info().name), shape,
                            o.cache);
  ExecutorOptions e;
  e.use_graph = o.use_graph;
  e.share = &decode;
  if (o.plant_fault) e.lower.plant_fault = g.find_brick(*o.plant_fault);
  return std::make_unique<Executor>(ctx, file, std::move(g), e);
}

class GpuModel final : public Model {
 public:
  GpuModel(const gguf::File& file, const ModelOptions& o)
      : ctx_(o.device),
        n_vocab_(qwen2::read_config(file).n_vocab),
        exec_(make_executor(ctx_, file, o)),
        each_(o.each),
        trace_(o.trace) {
    if (o.n_ubatch < 1) fail("the micro-batch (-ub) must be at least 1 token, found {}", o.n_ubatch);
    // Made now, not at the first prompt, so that no prompt's time to first token pays for
    // compiling the T-token kernels.
    if (o.n_ubatch > 1) prefill_ = make_prefill(ctx_, file, o, exec_);
  }

  int64_t n_ctx() const override { return exec_.max_ctx(); }
  int64_t n_past() const override { return n_past_; }

  // Each entry makes the context current: the decoder may be driven from another thread
  // than the one that opened it (brickc top's generator).
  void prefill(std::span<const int32_t> tokens) override {
    ctx_.make_current();
    runtime::check_tokens(tokens, n_past_, exec_.max_ctx(), n_vocab_);
    last_ = &evaluate(exec_, prefill_.get(), tokens, n_past_, each_);
    // Steps are enqueued; returning after them keeps prefill timings honest.
    last_->finish();
  }
  void decode(int32_t token) override { prefill({&token, 1}); }
  void reset() override {
    ctx_.make_current();
    exec_.clear_cache();
    n_past_ = 0;
  }
  void rewind(int64_t n) override {
    runtime::check_rewind(n, n_past_);
    n_past_ = n;
  }
  std::span<const float> logits() override {
    ctx_.make_current();
    return last_->logits();
  }
  int32_t argmax() override {
    ctx_.make_current();
    // A graph of all logits has no argmax brick: the host picks from the last row.
    return last_->has_argmax() ? last_->argmax() : Decoder::argmax();
  }

  std::string device_label() const override {
    return fmt::format("cuda:{} {} ({})", ctx_.info().ordinal, ctx_.info().name,
                       exec_.megakernel_blocks() ? "megakernel" : "graph");
  }
  size_t device_bytes() const override {
    return exec_.device_bytes() + (prefill_ ? prefill_->device_bytes() : 0);
  }
  const ir::Graph* profiled_graph() const override { return trace_ ? &exec_.graph() : nullptr; }
  std::vector<double> last_brick_us() override { return last_brick_times().us; }
  BrickTimes last_brick_times() override {
    if (!trace_) return {};
    ctx_.make_current();
    const size_t n = exec_.graph().bricks().size();
    BrickTimes t{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0),
                 std::vector<bench::BrickPhases>(n)};
    const std::vector<LaunchSpan> spans = exec_.trace_spans();
    const std::vector<double> handoff = handoffs_us(spans);
    // A brick of several launches: the sums of their times.
    for (size_t i = 0; i < spans.size(); ++i) {
      const size_t b = exec_.plan().launches[i].brick;
      t.us[b] += spans[i].us;
      t.sm_busy[b] += spans[i].sm_active_us;
      t.phases[b].handoff_us += handoff[i];
      t.phases[b].lead_us += spans[i].lead_us;
      t.phases[b].prologue_us += spans[i].prologue_us;
      t.phases[b].tail_us += spans[i].tail_us;
    }
    for (size_t b = 0; b < n; ++b) t.sm_busy[b] = t.us[b] > 0 ? t.sm_busy[b] / t.us[b] : 0.0;
    return t;
  }
  std::vector<bench::LaunchStamps> last_launch_stamps() override {
    if (!trace_) return {};
    ctx_.make_current();
    std::vector<std::vector<uint64_t>> stamps = exec_.trace_stamps();
    std::vector<bench::LaunchStamps> out;
    for (size_t i = 0; i < stamps.size(); ++i) {
      const ptx::Launch& l = exec_.plan().launches[i];
      out.push_back({l.brick, exec_.plan().kernels[l.kernel].name, std::move(stamps[i])});
    }
    return out;
  }

 private:
  Context ctx_;
  int64_t n_vocab_;
  Executor exec_;
  std::unique_ptr<Executor> prefill_;  // the T-token graph (none with n_ubatch = 1)
  Executor* last_ = &exec_;            // the executor whose logits are current
  std::function<void(int64_t, std::span<const float>)> each_;
  bool trace_;
  int64_t n_past_ = 0;
};

}  // namespace

std::string budget_profile(const std::string& device_name) {
  return device_name.find("H200") != std::string::npos ? "h200" : "h100-sxm";
}

std::unique_ptr<Model> open_model(const gguf::File& file, const ModelOptions& o) {
  return std::make_unique<GpuModel>(file, o);
}

}  // namespace brickc::cuda
