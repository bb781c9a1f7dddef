#include "runtime/sampling/sampler.h"

#include <cmath>

#include "ir/error.h"

namespace brickc::sampling {

void SamplerParams::validate() const {
  const std::pair<const char*, float> reals[] = {
      {"temp", temp},   {"top_p", top_p},         {"min_p", min_p},
      {"repeat", penalty_repeat}, {"freq", penalty_freq}, {"present", penalty_present}};
  for (const auto& [name, v] : reals)
    if (!std::isfinite(v)) fail("sampler: {} is {}: expected a finite number", name, v);
  if (penalty_repeat <= 0.0f)
    fail("sampler: repeat penalty is {}: expected > 0 (1 turns it off)", penalty_repeat);
  if (penalty_last_n < -1)
    fail("sampler: penalty_last_n is {}: expected -1 (all tokens), 0 (off) or a window size",
         penalty_last_n);
  if (top_p < 0.0f) fail("sampler: top_p is {}: expected a value in [0, 1]", top_p);
  if (min_p < 0.0f) fail("sampler: min_p is {}: expected a value in [0, 1]", min_p);
}

Sampler::Sampler(const SamplerParams& params) : params_(params) {
  params_.validate();
  seed_ = params_.seed == kRandomSeed ? std::random_device{}() : params_.seed;
  rng_.seed(seed_);
}

bool Sampler::penalties_on() const {
  return params_.penalty_last_n != 0 &&
         (params_.penalty_repeat != 1.0f || params_.penalty_freq != 0.0f ||
          params_.penalty_present != 0.0f);
}

void Sampler::accept(int32_t token) {
  if (params_.penalty_last_n == 0) return;
  ++counts_[token];
  window_.push_back(token);
  if (params_.penalty_last_n > 0 &&
      window_.size() > static_cast<size_t>(params_.penalty_last_n)) {
    const int32_t old = window_.front();
    window_.pop_front();
    if (--counts_[old] == 0) counts_.erase(old);
  }
}

void Sampler::reset() {
  window_.clear();
  counts_.clear();
  rng_.seed(seed_);
}

int32_t Sampler::sample(std::span<const float> logits) {
  cur_.assign(logits);
  if (penalties_on())
    apply_penalties(cur_, counts_, params_.penalty_repeat, params_.penalty_freq,
                    params_.penalty_present);
  if (params_.temp <= 0.0f) {
    // The truncating stages never remove the maximum, so greedy is the argmax here.
    size_t best = 0;
    for (size_t i = 1; i < cur_.size(); ++i)
      if (cur_.items[i].logit > cur_.items[best].logit) best = i;
    return cur_.items[best].id;
  }
  top_k(cur_, params_.top_k);
  top_p(cur_, params_.top_p, params_.min_keep);
  min_p(cur_, params_.min_p, params_.min_keep);
  temperature(cur_, params_.temp);
  return cur_.items[draw(cur_, rng_)].id;
}

}  // namespace brickc::sampling
