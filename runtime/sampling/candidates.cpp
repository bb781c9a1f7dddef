#include "runtime/sampling/candidates.h"

#include <algorithm>
#include <cmath>

#include "ir/error.h"

namespace brickc::sampling {

namespace {

// A strict total order (ids are unique), so a partially sorted prefix is already the
// prefix of the full sort and every run sorts ties the same way.
bool before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

float max_logit(const Candidates& c) {
  if (c.sorted) return c.items.front().logit;
  float m = -INFINITY;
  for (const auto& x : c.items) m = std::max(m, x.logit);
  return m;
}

}  // namespace

void Candidates::assign(std::span<const float> logits) {
  if (logits.empty()) fail("sampler: got an empty logits vector");
  items.resize(logits.size());
  bool any_finite = false;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (std::isnan(l) || l == INFINITY)
      fail("sampler: logit of token {} is {}: expected a finite value or -inf", i, l);
    any_finite |= l != -INFINITY;
    items[i] = {static_cast<int32_t>(i), l, 0.0f};
  }
  if (!any_finite)
    fail("sampler: all {} logits are -inf: no token can be drawn", logits.size());
  sorted = false;
}

void Candidates::sort_prefix(size_t k) {
  if (sorted) return;
  if (k >= items.size()) {
    std::sort(items.begin(), items.end(), before);
    sorted = true;
  } else {
    // A heap-based partial sort, O(n log k), measured fastest for top-k's small heads;
    // selection then a sort of the head, O(n + k log k), for the large heads top-p may
    // need (a full sort of 152k candidates was 5x slower).
    const auto mid = items.begin() + static_cast<ptrdiff_t>(k);
    if (k <= 128) {
      std::partial_sort(items.begin(), mid, items.end(), before);
    } else {
      std::nth_element(items.begin(), mid, items.end(), before);
      std::sort(items.begin(), mid, before);
    }
  }
}

void Candidates::softmax() {
  const float m = max_logit(*this);
  float sum = 0.0f;
  for (auto& x : items) {
    x.p = std::exp(x.logit - m);
    sum += x.p;
  }
  for (auto& x : items) x.p /= sum;
}

void apply_penalties(Candidates& c, const TokenCounts& counts, float repeat, float freq,
                     float present) {
  for (const auto& [id, count] : counts) {
    if (count <= 0) continue;
    // Right after assign() the item of token id sits at index id; otherwise search.
    Candidate* x = nullptr;
    if (static_cast<size_t>(id) < c.items.size() && c.items[id].id == id) {
      x = &c.items[id];
    } else {
      const auto it = std::find_if(c.items.begin(), c.items.end(),
                                   [id = id](const Candidate& y) { return y.id == id; });
      if (it == c.items.end()) continue;
      x = &*it;
    }
    if (x->logit <= 0.0f) {
      x->logit *= repeat;
    } else {
      x->logit /= repeat;
    }
    x->logit -= static_cast<float>(count) * freq + (count > 0 ? 1.0f : 0.0f) * present;
  }
  // Penalties change the order; a sorted list is no longer sorted.
  c.sorted = false;
}

void top_k(Candidates& c, int32_t k) {
  if (k <= 0) return;
  const size_t n = std::min(static_cast<size_t>(k), c.size());
  c.sort_prefix(n);
  c.items.resize(n);
  c.sorted = true;
}

void top_p(Candidates& c, float p, size_t min_keep) {
  if (p >= 1.0f) return;
  c.softmax();
  // Sorting 150k candidates costs more than the rest of sampling: sort a head and grow
  // it only while it does not reach p (llama.cpp does the same with its own head sizes).
  size_t head = c.size() > 1024 ? 256 : c.size();
  c.sort_prefix(head);
  float cum = 0.0f;
  size_t keep = c.size();
  for (size_t i = 0; i < c.size(); ++i) {
    if (i == head) {
      head = std::min(c.size(), head * 8);
      c.sort_prefix(head);
    }
    cum += c.items[i].p;
    if (cum >= p && i + 1 >= min_keep) {
      keep = i + 1;
      break;
    }
  }
  c.items.resize(keep);
  c.sorted = true;
}

void min_p(Candidates& c, float p, size_t min_keep) {
  if (p <= 0.0f || c.items.empty()) return;
  const float log_p = std::log(p);
  if (!c.sorted) {
    // p_i >= p * p_max  <=>  logit_i >= max_logit + ln p; no softmax needed.
    const float min_logit = max_logit(c) + log_p;
    std::vector<Candidate> kept;
    for (const auto& x : c.items)
      if (x.logit >= min_logit) kept.push_back(x);
    if (!kept.empty() && kept.size() >= min_keep) {
      c.items = std::move(kept);
      return;
    }
    c.sort_prefix(c.size());
  }
  const float min_logit = c.items.front().logit + log_p;
  size_t i = 1;  // the maximum always stays
  while (i < c.size() && !(c.items[i].logit < min_logit && i >= min_keep)) ++i;
  c.items.resize(i);
}

void temperature(Candidates& c, float t) {
  if (t <= 0.0f) {
    size_t best = 0;
    for (size_t i = 1; i < c.size(); ++i)
      if (c.items[i].logit > c.items[best].logit) best = i;
    for (size_t i = 0; i < c.size(); ++i)
      if (i != best) c.items[i].logit = -INFINITY;
    return;
  }
  for (auto& x : c.items) x.logit /= t;
}

size_t draw(Candidates& c, std::mt19937& rng) {
  if (c.items.empty()) fail("sampler: no candidate left to draw from");
  // A single candidate is taken without a draw, so the generator advances exactly when
  // llama.cpp's does.
  if (c.size() == 1) {
    c.items[0].p = 1.0f;
    return 0;
  }
  const float m = max_logit(c);
  double total = 0.0;
  for (auto& x : c.items) {
    x.p = std::exp(x.logit - m);
    total += x.p;
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double target = total * uniform(rng);
  size_t picked = c.size() - 1;
  double run = 0.0;
  for (size_t i = 0; i < c.size(); ++i) {
    run += c.items[i].p;
    if (run >= target) {
      picked = i;
      break;
    }
  }
  for (auto& x : c.items) x.p = static_cast<float>(x.p / total);
  return picked;
}

}  // namespace brickc::sampling
