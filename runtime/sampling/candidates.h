// The candidate list a sampler chain works on and the stages that narrow it (penalties,
// top-k, top-p, min-p, temperature) and draw from it. Each stage follows llama.cpp's
// src/llama-sampler.cpp: where it sorts, where it takes a softmax and in what order it
// sums, so that a seeded chain picks the same token. Not the chain itself (sampler.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace brickc::sampling {

struct Candidate {
  int32_t id;
  float logit;
  float p;  // valid only after softmax() or draw()
};

struct Candidates {
  std::vector<Candidate> items;
  // Descending by logit (ties: lower id first). Stages that need order sort on demand;
  // the others keep the order they find, as llama.cpp's do.
  bool sorted = false;

  // One candidate per logit, id = index, in id order. Error on a NaN or +inf logit (they
  // have no place in a distribution and would break sorting); -inf is a masked token.
  void assign(std::span<const float> logits);
  size_t size() const { return items.size(); }
  // Sorts the first `k` (all when k >= size) into place; the rest are left unordered.
  void sort_prefix(size_t k);
  // p = softmax(logit) over the current items, summed in their current order (float).
  void softmax();
};

// How often each token occurs in the penalty window.
using TokenCounts = std::unordered_map<int32_t, int32_t>;

// For each counted token: a logit <= 0 is multiplied by `repeat`, a positive one divided
// by it; then count*freq + (count > 0)*present is subtracted.
void apply_penalties(Candidates& c, const TokenCounts& counts, float repeat, float freq,
                     float present);
// Keeps the k highest (k <= 0: all). Leaves the list sorted.
void top_k(Candidates& c, int32_t k);
// Keeps the smallest sorted prefix whose probability mass reaches p, and at least
// min_keep items. p >= 1: no-op. Leaves the list sorted.
void top_p(Candidates& c, float p, size_t min_keep);
// Keeps tokens with probability >= p * max probability, compared in logit space
// (logit >= max_logit + ln p); keeps at least min_keep. p <= 0: no-op.
void min_p(Candidates& c, float p, size_t min_keep);
// Divides every logit by t. t <= 0: greedy, every logit but the first maximum becomes -inf.
void temperature(Candidates& c, float t);
// Softmax, then one uniform double u in [0,1) from `rng`: the first index whose running
// sum of p reaches u * total. Returns the index into c.items (not the token id).
size_t draw(Candidates& c, std::mt19937& rng);

}  // namespace brickc::sampling
