#include "runtime/bench/profile_svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <vector>

namespace brickc::bench {
namespace {

constexpr double kWidth = 900, kMargin = 16, kSpan = kWidth - 2 * kMargin;
constexpr double kRowHeight = 36, kBarHeight = 14, kStripHeight = 90;
// Over or within budget is also in each label's %, for readers who cannot tell red from green.
constexpr const char* kOver = "#d62728";
constexpr const char* kWithin = "#2ca02c";
constexpr const char* kNoBudget = "#8c8c8c";
constexpr const char* kLayer = "#4e79a7";
constexpr const char* kSlowestLayer = "#e15759";

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string text(double x, double y, std::string_view body, std::string_view attrs = "") {
  return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\"{}{}>{}</text>\n", x, y,
                     attrs.empty() ? "" : " ", attrs, xml_escape(body));
}

std::string rect(std::string_view cls, double x, double y, double w, double h,
                 std::string_view paint, std::string_view tip) {
  return fmt::format(
      "<rect class=\"{}\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" {}>"
      "<title>{}</title></rect>\n",
      cls, x, y, w, h, paint, xml_escape(tip));
}

struct KindSum {
  std::string kind;
  size_t count = 0;
  double actual = 0, budget = 0;
  bool has_budget = false;
};

std::vector<KindSum> by_kind(const ProfileReport& r) {
  std::vector<KindSum> kinds;
  std::map<std::string, size_t> index;
  for (const BrickRow& row : r.rows) {
    auto [it, fresh] = index.try_emplace(row.kind, kinds.size());
    if (fresh) kinds.push_back({row.kind});
    KindSum& k = kinds[it->second];
    ++k.count;
    k.actual += row.us.p50;
    if (row.budget_us) {
      k.has_budget = true;
      k.budget += *row.budget_us;
    }
  }
  return kinds;
}

std::string kind_rows(const std::vector<KindSum>& kinds, double y) {
  double longest = 0;
  size_t bottleneck = 0;
  for (size_t i = 0; i < kinds.size(); ++i) {
    longest = std::max({longest, kinds[i].actual, kinds[i].budget});
    if (kinds[i].actual > kinds[bottleneck].actual) bottleneck = i;
  }
  const double px_per_us = longest > 0 ? kSpan / longest : 0;
  std::string out;
  for (size_t i = 0; i < kinds.size(); ++i, y += kRowHeight) {
    const KindSum& k = kinds[i];
    const bool over = k.has_budget && k.actual > k.budget;
    std::string label = k.has_budget
                            ? fmt::format("{}  {:.1f} µs / {:.1f} µs ({:.0f} %)", k.kind, k.actual,
                                          k.budget, k.budget > 0 ? 100 * k.actual / k.budget : 0.0)
                            : fmt::format("{}  {:.1f} µs (no budget)", k.kind, k.actual);
    if (i == bottleneck) label += "  ◀ bottleneck: most time of the step";
    out += text(kMargin, y + 13, label, i == bottleneck ? "font-weight=\"bold\"" : "");
    const char* fill = !k.has_budget ? kNoBudget : over ? kOver : kWithin;
    out += rect("actual", kMargin, y + 18, k.actual * px_per_us, kBarHeight,
                fmt::format("fill=\"{}\"", fill),
                fmt::format("{}: {:.1f} µs over {} bricks", k.kind, k.actual, k.count));
    // The outline goes on top so that a bar past its budget still shows where the budget ends.
    if (k.has_budget)
      out += rect("budget", kMargin, y + 18, k.budget * px_per_us, kBarHeight,
                  "fill=\"none\" stroke=\"#222\" stroke-width=\"1.5\"",
                  fmt::format("{}: budget {:.1f} µs", k.kind, k.budget));
  }
  return out;
}

// Bars per layer (sum of its bricks' p50) on a common baseline; returns the panel's height.
double layer_strip(const ProfileReport& r, double y, std::string& out) {
  std::map<int, double> layers;
  double outside = 0;
  for (const BrickRow& row : r.rows) (row.layer >= 0 ? layers[row.layer] : outside) += row.us.p50;
  if (layers.empty()) return 0;
  auto slowest = layers.begin();
  for (auto it = layers.begin(); it != layers.end(); ++it)
    if (it->second > slowest->second) slowest = it;
  out += text(kMargin, y + 13,
              fmt::format("per-layer step time (sum of the layer's bricks' p50): slowest layer {}, "
                          "{:.1f} µs; outside the layers {:.1f} µs",
                          slowest->first, slowest->second, outside),
              "font-weight=\"bold\"");
  const double slot = kSpan / static_cast<double>(layers.size());
  // Index labels need about 22 px each: label every k-th layer when slots are narrower.
  const int label_every = static_cast<int>(std::ceil(22 / slot));
  const double base = y + 36 + kStripHeight;
  double x = kMargin;
  int n = 0;
  for (auto it = layers.begin(); it != layers.end(); ++it, x += slot, ++n) {
    const auto& [layer, us] = *it;
    const double h = slowest->second > 0 ? kStripHeight * us / slowest->second : 0;
    const bool is_slowest = it == slowest;
    out += rect("layer", x + 0.1 * slot, base - h, 0.8 * slot, h,
                fmt::format("fill=\"{}\"", is_slowest ? kSlowestLayer : kLayer),
                fmt::format("layer {}: {:.1f} µs", layer, us));
    if (is_slowest)
      out += text(x + slot / 2, base - h - 4, "slowest", "text-anchor=\"middle\" font-size=\"10\"");
    if (n % label_every == 0 || is_slowest)
      out += text(x + slot / 2, base + 12, std::to_string(layer),
                  "text-anchor=\"middle\" font-size=\"10\"");
  }
  return 36 + kStripHeight + 20;
}

}  // namespace

std::string profile_svg(const ProfileReport& r, const std::string& title) {
  std::string body = text(kMargin, 28, title, "font-size=\"18\" font-weight=\"bold\"");
  body +=
      text(kMargin, 50,
           fmt::format("step {:.1f} µs (sum of the bricks' p50) against a roofline of {:.1f} µs "
                       "({:.2f}x); {} steps; {:.0f} GB/s",
                       r.step_p50_us, r.roofline_us,
                       r.roofline_us > 0 ? r.step_p50_us / r.roofline_us : 0.0, r.steps,
                       r.bandwidth_gbs));
  if (r.slowest < r.rows.size()) {
    const BrickRow& s = r.rows[r.slowest];
    body += text(kMargin, 68,
                 fmt::format("slowest brick: {} %{} ({}), {:.1f} µs", s.kind, s.value,
                             s.layer >= 0 ? fmt::format("layer {}", s.layer) : "outside the layers",
                             s.us.p50));
  }
  const char* legend = "font-size=\"11\" fill=\"#555\"";
  body += text(kMargin, 88,
               "per brick kind, summed over all layers: filled bar = measured p50 (red: over "
               "budget, green: within,",
               legend);
  body += text(kMargin, 102, "grey: no budget); outline = roofline budget; % = measured / budget",
               legend);
  const std::vector<KindSum> kinds = by_kind(r);
  double y = 114;
  body += kind_rows(kinds, y);
  y += static_cast<double>(kinds.size()) * kRowHeight + 16;
  y += layer_strip(r, y, body);
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0:.0f}\" "
      "height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" xml:space=\"preserve\" "
      "font-family=\"DejaVu Sans Mono, Menlo, "
      "Consolas, monospace\" font-size=\"12\">\n"
      "<rect x=\"0\" y=\"0\" width=\"{0:.0f}\" height=\"{1:.0f}\" fill=\"white\"/>\n"
      "{2}</svg>\n",
      kWidth, y + 8, body);
}

}  // namespace brickc::bench
