// Qwen2Model as the generation loop's Decoder (runtime/session.h), optionally passing the
// logits of every evaluated position to a callback (for `brickc run --dump-logits`).
#pragma once
#include "runtime/cpu/forward.h"
#include "runtime/session.h"

namespace brickc::cpu {

class Qwen2Decoder : public runtime::Decoder {
 public:
  explicit Qwen2Decoder(Qwen2Model& model, Qwen2Model::LogitsFn each = {})
      : model_(model), each_(std::move(each)) {}
  int64_t n_ctx() const override { return model_.n_ctx(); }
  int64_t n_past() const override { return model_.n_past(); }
  void prefill(std::span<const int32_t> tokens) override {
    logits_ = model_.prefill(tokens, each_);
  }
  void decode(int32_t token) override {
    const int64_t pos = model_.n_past();
    logits_ = model_.decode(token);
    if (each_) each_(pos, logits_);
  }
  void reset() override { model_.reset(); }
  void rewind(int64_t n) override {
    runtime::check_rewind(n, model_.n_past());
    model_.rewind(n);
  }
  std::span<const float> logits() override { return logits_; }

 private:
  std::span<const float> logits_;
  Qwen2Model& model_;
  Qwen2Model::LogitsFn each_;
};

}  // namespace brickc::cpu
