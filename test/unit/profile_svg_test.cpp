// The profile chart (runtime/bench/profile_svg): on a synthetic profile with random times,
// one bar per kind in pipeline order, bar widths proportional to the per-kind sums the test
// adds up itself, over-budget kinds red, per-layer bars proportional to the layer sums, and
// every label XML-escaped.
#include "runtime/bench/profile_svg.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <regex>

namespace bb = brickc::bench;

namespace {

struct Bar {
  std::string cls;
  double width = 0, height = 0;
  std::string paint, title;
};

std::vector<Bar> bars(const std::string& svg) {
  static const std::regex re(
      R"re(<rect class="(\w+)" x="[-0-9.]+" y="[-0-9.]+" width="([-0-9.]+)" )re"
      R"re(height="([-0-9.]+)" ([^>]*)><title>([^<]*)</title></rect>)re");
  std::vector<Bar> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
       ++it)
    out.push_back({(*it)[1], std::stod((*it)[2]), std::stod((*it)[3]), (*it)[4], (*it)[5]});
  return out;
}

std::string before_colon(const std::string& title) { return title.substr(0, title.find(": ")); }

TEST(ProfileSvg, BarsFollowTheSumsAndColoursFollowTheBudgets) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> us(1.0, 60.0), jitter(0.9, 1.1);
  const int n_layer = std::uniform_int_distribution<int>(2, 40)(rng);
  const std::string odd = "we<ird>&\"kind";  // no budget, and a name to escape
  const std::vector<std::string> layer_kinds = {"rmsnorm_matvec", "rope_kv_append", "attention",
                                                "matvec_add",     "gate_up_swiglu", odd};
  // Per kind, budgets near the times, over or within at random, some by a few percent.
  std::map<std::string, double> budget_factor;
  for (const char* k : {"embed", "rmsnorm_matvec", "rope_kv_append", "attention", "matvec_add",
                        "gate_up_swiglu", "lm_head"})
    budget_factor[k] = std::uniform_real_distribution<double>(0.7, 1.4)(rng);

  bb::ProfileReport r;
  r.steps = 64;
  r.bandwidth_gbs = 3350;
  auto add = [&](const std::string& kind, int layer) {
    bb::BrickRow row;
    row.brick = r.rows.size();
    row.kind = kind;
    row.value = "v" + std::to_string(row.brick);
    row.layer = layer;
    row.us.p50 = us(rng);
    if (kind != odd) row.budget_us = row.us.p50 * budget_factor.at(kind) * jitter(rng);
    r.step_p50_us += row.us.p50;
    r.roofline_us += row.budget_us.value_or(0);
    r.rows.push_back(row);
  };
  add("embed", -1);
  for (int l = 0; l < n_layer; ++l)
    for (const auto& k : layer_kinds) add(k, l);
  add("lm_head", -1);
  for (size_t i = 0; i < r.rows.size(); ++i)
    if (r.rows[i].us.p50 > r.rows[r.slowest].us.p50) r.slowest = i;

  // The test's own sums.
  const std::vector<std::string> order = {"embed",     "rmsnorm_matvec", "rope_kv_append",
                                          "attention", "matvec_add",     "gate_up_swiglu",
                                          odd,         "lm_head"};
  std::map<std::string, double> actual, budget;
  std::map<int, double> per_layer;
  for (const auto& row : r.rows) {
    actual[row.kind] += row.us.p50;
    if (row.budget_us) budget[row.kind] += *row.budget_us;
    if (row.layer >= 0) per_layer[row.layer] += row.us.p50;
  }

  const std::string title = "1.5b <q4_k_m> & \"h100\"";
  const std::string svg = bb::profile_svg(r, title);
  ASSERT_EQ(svg.rfind("<?xml", 0), 0u);
  ASSERT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_NE(svg.find("1.5b &lt;q4_k_m&gt; &amp; &quot;h100&quot;"), std::string::npos);
  EXPECT_EQ(svg.find(title), std::string::npos);
  EXPECT_EQ(svg.find("<ird>"), std::string::npos);
  const std::string odd_escaped = "we&lt;ird&gt;&amp;&quot;kind";

  const std::vector<Bar> all = bars(svg);
  std::vector<Bar> act, bud, lay;
  for (const Bar& b : all) (b.cls == "actual" ? act : b.cls == "budget" ? bud : lay).push_back(b);

  // One actual bar per kind, in pipeline order; a budget outline for every kind but odd.
  ASSERT_EQ(act.size(), order.size());
  for (size_t i = 0; i < order.size(); ++i)
    EXPECT_EQ(before_colon(act[i].title), order[i] == odd ? odd_escaped : order[i]);
  ASSERT_EQ(bud.size(), order.size() - 1);

  double widest = 0, largest = 0;
  for (const Bar& b : all)
    if (b.cls != "layer") widest = std::max(widest, b.width);
  for (const auto& k : order) largest = std::max({largest, actual[k], budget[k]});
  EXPECT_GT(widest, 600);  // the longest bar spans most of the 900 px chart
  EXPECT_LT(widest, 900);
  const double px_per_us = widest / largest;
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string& k = order[i];
    EXPECT_NEAR(act[i].width, actual[k] * px_per_us, 0.5) << k;
    if (k == odd) {
      EXPECT_EQ(act[i].paint.find("#d62728"), std::string::npos);
      EXPECT_EQ(act[i].paint.find("#2ca02c"), std::string::npos);
      EXPECT_NE(svg.find(odd_escaped + "  " + fmt::format("{:.1f}", actual[k]) + " µs (no budget)"),
                std::string::npos);
      continue;
    }
    const bool over = actual[k] > budget[k];
    EXPECT_NE(act[i].paint.find(over ? "#d62728" : "#2ca02c"), std::string::npos)
        << k << (over ? " is over budget" : " is within budget") << ": " << act[i].paint;
  }
  for (const Bar& b : bud) EXPECT_NEAR(b.width, budget[before_colon(b.title)] * px_per_us, 0.5);

  // The bottleneck is the kind with the most time.
  const auto most = std::max_element(actual.begin(), actual.end(),
                                     [](auto& a, auto& b) { return a.second < b.second; });
  const std::string most_name = most->first == odd ? odd_escaped : most->first;
  std::smatch marked;
  ASSERT_TRUE(std::regex_search(svg, marked, std::regex(">([^<>]*)◀ bottleneck")));
  EXPECT_EQ(marked[1].str().rfind(most_name + "  ", 0), 0u) << marked[1];
  EXPECT_EQ(svg.find("◀ bottleneck", marked.position(0) + marked.length(0)), std::string::npos);

  // Layer bars: one per layer, heights proportional to the layer sums, the slowest named.
  ASSERT_EQ(lay.size(), static_cast<size_t>(n_layer));
  const auto slowest = std::max_element(per_layer.begin(), per_layer.end(),
                                        [](auto& a, auto& b) { return a.second < b.second; });
  const double px_per_layer_us = lay[slowest->first].height / slowest->second;
  for (int l = 0; l < n_layer; ++l) {
    EXPECT_EQ(lay[l].title, fmt::format("layer {}: {:.1f} µs", l, per_layer[l]));
    EXPECT_NEAR(lay[l].height, per_layer[l] * px_per_layer_us, 0.5) << "layer " << l;
  }
  EXPECT_NE(svg.find(fmt::format("slowest layer {}, {:.1f} µs", slowest->first, slowest->second)),
            std::string::npos);
}

}  // namespace
