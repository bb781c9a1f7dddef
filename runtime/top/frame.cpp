#include "runtime/top/frame.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "ir/cost.h"
#include "runtime/bench/stats.h"

namespace brickc::top {
namespace {

// Steps that "tok/s now" averages: steady, yet a fraction of a second on a GPU.
constexpr size_t kRecentSteps = 16;

// A panel before it is fitted to the screen: head and foot stay, lines scroll.
struct Page {
  std::vector<std::string> head, lines, foot;
  std::optional<size_t> focus;  // a line that must stay visible (the selection)
};

std::string cut(std::string s, int width) {
  if (width <= 0) return {};
  if (s.size() > static_cast<size_t>(width)) s.resize(static_cast<size_t>(width));
  return s;
}

// Every byte outside printable ASCII becomes '?', after "µ" becomes "u" (the library's
// messages use it), so that one byte is one cell.
std::string ascii(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xB5) {
      out += 'u';
      ++i;
    } else {
      out += c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?';
    }
  }
  return out;
}

std::vector<std::string> wrap(const std::string& s, int width, size_t max_lines) {
  std::vector<std::string> out;
  for (size_t at = 0; at < s.size() && out.size() < max_lines; at += static_cast<size_t>(width))
    out.push_back(s.substr(at, static_cast<size_t>(width)));
  return out;
}

int cells(double v, double scale, int width) {
  if (!(scale > 0) || !(v > 0)) return 0;
  return std::clamp(static_cast<int>(std::lround(v / scale * width)), 0, width);
}

// A kind's time as a % of its budget on a scale of `scale_pct`: '#' up to the budget, '!'
// past it, '|' where the budget ends when the time falls short of it.
std::string budget_bar(double pct, double scale_pct, int width) {
  const int fill = cells(pct, scale_pct, width), limit = cells(100, scale_pct, width);
  std::string b = "[";
  for (int j = 0; j < width; ++j)
    b += j < fill ? (j < limit ? '#' : '!') : (j == limit ? '|' : '.');
  return b + "]";
}

// Budget and actual µs on one scale: '#' where both reach, '!' actual past the budget,
// '.' budget left unused.
std::string versus_bar(double us, double budget, double scale, int width) {
  const int a = cells(us, scale, width), b = cells(budget, scale, width);
  std::string s = "[";
  for (int j = 0; j < width; ++j) s += j < std::min(a, b) ? '#' : j < a ? '!' : j < b ? '.' : ' ';
  return s + "]";
}

std::string plain_bar(double v, double scale, int width) {
  return std::string(static_cast<size_t>(cells(v, scale, width)), '#');
}

// The table columns: 3 marker cells, a name, three numbers, a bar, a status; the budget
// column and then the bar give way on narrow terminals.
struct Layout {
  int name = 8;
  bool budget = true;
  int bar = 0;  // cells inside the brackets; 0: no bar
};

Layout layout(int cols, size_t longest_name) {
  Layout l;
  l.budget = cols >= 72;
  const int rest = cols - (3 + 10 + (l.budget ? 10 : 0) + 7 + 5);
  l.name = std::min(static_cast<int>(longest_name), std::max(8, rest - 15));
  l.bar = rest - l.name - 3;
  if (l.bar < 3) l.bar = 0;
  return l;
}

std::string pct_text(double us, std::optional<double> budget) {
  if (!budget || !(*budget > 0)) return "-";
  const double pct = 100 * us / *budget;
  return pct < 99999.5 ? fmt::format("{:.0f}%", pct) : fmt::format("{:.0f}x", pct / 100);
}

struct Cells {
  char select = ' ', mark = ' ';
  std::string name;
  double us = 0;
  std::optional<double> budget;
  std::string bar;  // drawn, brackets included; empty: blank
  std::string status;
};

std::string table_row(const Layout& l, const Cells& c) {
  std::string s =
      fmt::format("{}{} {:<{}} {:>9.1f}", c.select, c.mark, cut(c.name, l.name), l.name, c.us);
  if (l.budget) s += fmt::format(" {:>9}", c.budget ? fmt::format("{:.1f}", *c.budget) : "-");
  s += fmt::format(" {:>6}", pct_text(c.us, c.budget));
  if (l.bar > 0) s += fmt::format(" {:<{}}", c.bar, l.bar + 2);
  return s + fmt::format(" {:<4}", c.status);
}

std::string table_head(const Layout& l, const std::string& name_label, const std::string& us_label,
                       const std::string& bar_label) {
  std::string s = fmt::format("   {:<{}} {:>9}", name_label, l.name, us_label);
  if (l.budget) s += fmt::format(" {:>9}", "budget");
  s += fmt::format(" {:>6}", "%bgt");
  if (l.bar > 0) s += fmt::format(" {:<{}}", cut(bar_label, l.bar + 2), l.bar + 2);
  return s + " stat";
}

std::string status(std::optional<double> budget, double us) {
  if (!budget) return "-";
  return us > *budget ? "FAIL" : "PASS";
}

size_t longest(const std::vector<std::string>& names, size_t at_least) {
  size_t n = at_least;
  for (const auto& s : names) n = std::max(n, s.size());
  return n;
}

size_t bottleneck(const std::vector<KindRow>& kinds) {
  size_t b = 0;
  for (size_t i = 1; i < kinds.size(); ++i)
    if (kinds[i].us > kinds[b].us) b = i;
  return b;
}

Page pipeline(const Snapshot& s, const View& v, int cols) {
  const bench::ProfileReport& r = *s.profile;
  const std::vector<KindRow> kinds = kind_rows(r);
  std::vector<std::string> names;
  for (const KindRow& k : kinds) names.push_back(k.kind);
  const Layout l = layout(cols, longest(names, 10));
  double scale_pct = 100, scale_us = 0;
  for (const KindRow& k : kinds) {
    if (k.budget_us && *k.budget_us > 0) scale_pct = std::max(scale_pct, 100 * k.us / *k.budget_us);
    scale_us = std::max({scale_us, k.us, k.budget_us.value_or(0.0)});
  }
  Page p;
  p.head.push_back(v.budget_vs_actual
                       ? "pipeline: budget vs actual us per step (b: % of budget)"
                       : "pipeline: us per step against the budget (b: budget vs actual)");
  p.head.push_back(
      table_head(l, "kind", "us/step",
                 v.budget_vs_actual ? "[# both ! over . unused]" : "[% of budget, | = 100%]"));
  const size_t worst = bottleneck(kinds);
  for (size_t i = 0; i < kinds.size(); ++i) {
    const KindRow& k = kinds[i];
    Cells c{i == v.selected ? '>' : ' ', i == worst ? '*' : ' ', k.kind, k.us, k.budget_us, "",
            status(k.budget_us, k.us)};
    if (k.budget_us && *k.budget_us > 0)
      c.bar = v.budget_vs_actual ? versus_bar(k.us, *k.budget_us, scale_us, l.bar)
                                 : budget_bar(100 * k.us / *k.budget_us, scale_pct, l.bar);
    p.lines.push_back(table_row(l, c));
  }
  p.focus = std::min(v.selected, kinds.size() - 1);
  const std::optional<double> roofline =
      r.roofline_us > 0 ? std::optional(r.roofline_us) : std::nullopt;
  p.foot.push_back(table_row(
      l, {' ', ' ', "all bricks", r.step_p50_us, roofline, "", status(roofline, r.step_p50_us)}));
  const KindRow& b = kinds[worst];
  p.foot.push_back(
      fmt::format("* bottleneck: {} {:.1f} us, {:.0f}% of the step{}", b.kind, b.us,
                  r.step_p50_us > 0 ? 100 * b.us / r.step_p50_us : 0.0,
                  b.budget_us ? fmt::format(", {:.2f}x its budget", b.us / *b.budget_us) : ""));
  return p;
}

Page drill(const Snapshot& s, const View& v, int cols) {
  const bench::ProfileReport& r = *s.profile;
  const std::vector<KindRow> kinds = kind_rows(r);
  const KindRow& k = kinds[std::min(v.selected, kinds.size() - 1)];
  std::vector<const bench::BrickRow*> rows;
  std::vector<std::string> names;
  for (const bench::BrickRow& row : r.rows)
    if (row.kind == k.kind) {
      rows.push_back(&row);
      names.push_back(row.layer >= 0 ? fmt::format("L{} %{}", row.layer, row.value)
                                     : "%" + row.value);
    }
  const Layout l = layout(cols, longest(names, 10));
  double scale = 100;
  size_t worst = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i]->budget_us && *rows[i]->budget_us > 0)
      scale = std::max(scale, 100 * rows[i]->us.p50 / *rows[i]->budget_us);
    if (rows[i]->us.p50 > rows[worst]->us.p50) worst = i;
  }
  Page p;
  p.head.push_back(
      fmt::format("drill-down: {} x{}, {:.1f} us per step (Esc: back)", k.kind, k.count, k.us));
  p.head.push_back(table_head(l, "brick", "us p50", "[% of budget, | = 100%]"));
  for (size_t i = 0; i < rows.size(); ++i) {
    const bench::BrickRow& row = *rows[i];
    Cells c{' ', i == worst ? '*' : ' ',           names[i], row.us.p50, row.budget_us,
            "",  status(row.budget_us, row.us.p50)};
    if (row.budget_us && *row.budget_us > 0)
      c.bar = budget_bar(100 * row.us.p50 / *row.budget_us, scale, l.bar);
    p.lines.push_back(table_row(l, c));
  }
  p.foot.push_back(fmt::format("* slowest: {}, p50 {:.1f} us, p99 {:.1f} us", names[worst],
                               rows[worst]->us.p50, rows[worst]->us.p99));
  return p;
}

Page histogram(const Snapshot& s, int cols, int body_rows) {
  const bench::Summary sum = bench::summarize(s.step_us);
  Page p;
  p.head.push_back(
      fmt::format("latency histogram: {} steps, p50 {:.1f} us, p99 {:.1f} us, max {:.1f} us", sum.n,
                  sum.p50, sum.p99, sum.max));
  // Bins span min..p99 so that one outlier does not squeeze every other step into one
  // bin; the last bin also holds the steps above p99, up to the max.
  const int want = std::clamp(body_rows - static_cast<int>(p.head.size()), 1, 20);
  const double hi = sum.p99 > sum.min ? sum.p99 : sum.max;
  const double width = (hi - sum.min) / want;
  const int bins = width > 0 ? want : 1;
  std::vector<size_t> count(static_cast<size_t>(bins));
  for (double us : s.step_us) {
    const double at = width > 0 ? (us - sum.min) / width : 0.0;
    ++count[std::min<size_t>(bins - 1, static_cast<size_t>(at))];
  }
  const size_t most = *std::max_element(count.begin(), count.end());
  const int bar = std::max(0, cols - 31);
  for (int i = 0; i < bins; ++i)
    p.lines.push_back(
        fmt::format("{:>10.1f} - {:>10.1f} {:>6} {}", sum.min + i * width,
                    i + 1 < bins ? sum.min + (i + 1) * width : sum.max, count[i],
                    plain_bar(static_cast<double>(count[i]), static_cast<double>(most), bar)));
  return p;
}

Page gpu(const Snapshot& s, int cols) {
  Page p;
  p.head.push_back("GPU state (NVML)");
  if (!s.gpu) {
    p.lines.push_back("  not read yet");
    return p;
  }
  const GpuReading& g = *s.gpu;
  if (!g.ok()) {
    for (const std::string& line : wrap(g.error, cols - 2, 6)) p.lines.push_back("  " + line);
    return p;
  }
  const double gib = 1024.0 * 1024 * 1024;
  p.lines = {
      fmt::format("  device       {} {}", g.index, g.name),
      fmt::format("  utilization  GPU {} %, memory {} %", g.util_gpu_pct, g.util_mem_pct),
      fmt::format("  memory       {:.1f} of {:.1f} GiB used", g.mem_used / gib, g.mem_total / gib),
      fmt::format("  clocks       SM {} MHz, memory {} MHz", g.sm_mhz, g.mem_mhz),
      g.temperature_c ? fmt::format("  temperature  {} C", *g.temperature_c)
                      : "  temperature  not reported",
      g.power_w ? fmt::format("  power        {:.1f} W", *g.power_w)
                : "  power        not reported",
  };
  return p;
}

Page bandwidth(const Snapshot& s, int cols) {
  const bench::ProfileReport& r = *s.profile;
  const std::vector<KindRow> kinds = kind_rows(r);
  std::vector<std::string> names;
  for (const KindRow& k : kinds) names.push_back(k.kind);
  const size_t name_w =
      std::min<size_t>(longest(names, 4), static_cast<size_t>(std::max(8, cols - 55)));
  auto gbs = [](const KindRow& k) {
    return k.us > 0 ? static_cast<double>(k.bytes) / (k.us * 1e3) : 0.0;
  };
  double scale = 100;
  for (const KindRow& k : kinds) scale = std::max(scale, 100 * gbs(k) / r.bandwidth_gbs);
  const int bar = std::max(0, cols - static_cast<int>(name_w) - 2 - 10 - 10 - 7 - 3);
  Page p;
  p.head.push_back(
      fmt::format("memory bandwidth per brick kind (roofline {:.0f} GB/s)", r.bandwidth_gbs));
  p.head.push_back(
      fmt::format("  {:<{}} {:>9} {:>9} {:>6}", "kind", name_w, "bytes", "GB/s", "%bw"));
  for (const KindRow& k : kinds) {
    const double pct = 100 * gbs(k) / r.bandwidth_gbs;
    std::string line =
        fmt::format("  {:<{}} {:>9} {:>9.1f} {:>5.1f}%", cut(k.kind, static_cast<int>(name_w)),
                    name_w, ir::format_bytes(k.bytes), gbs(k), pct);
    if (bar >= 3) line += " [" + fmt::format("{:<{}}", plain_bar(pct, scale, bar), bar) + "]";
    p.lines.push_back(line);
  }
  return p;
}

Page assertions(const Snapshot& s, int cols) {
  Page p;
  const runtime::VerifyStats& v = s.verify;
  if (s.verify_every <= 0) {
    p.head.push_back("assertions: brick checks off (--verify-every 0)");
  } else if (!s.verify_unavailable.empty()) {
    p.head.push_back("assertions: no brick checks: " + s.verify_unavailable);
  } else {
    p.head.push_back(fmt::format("assertions: {} verified steps (1 in {}), {} checks, {} failed",
                                 v.steps, s.verify_every, v.checks, v.failures));
  }
  const int name_w = std::clamp(cols - 45, 8, 22);
  p.head.push_back(fmt::format("  {:<{}} {:>7} {:>6} {:>6} {:>6} {:>8} {}", "kind", name_w,
                               "checks", "failed", "worst", "finite", "budget", "stat"));
  std::vector<std::string> order;
  if (s.profile)
    for (const KindRow& k : kind_rows(*s.profile)) order.push_back(k.kind);
  for (const auto& [kind, counts] : v.by_kind)
    if (std::find(order.begin(), order.end(), kind) == order.end()) order.push_back(kind);
  std::map<std::string, KindRow> timed;
  if (s.profile)
    for (KindRow& k : kind_rows(*s.profile)) timed[k.kind] = k;
  for (const std::string& kind : order) {
    const auto c = v.by_kind.find(kind);
    const auto nf = s.non_finite.find(kind);
    const auto t = timed.find(kind);
    const int64_t checks = c != v.by_kind.end() ? c->second.checks : 0;
    const int64_t failed = c != v.by_kind.end() ? c->second.failures : 0;
    const int64_t nan = nf != s.non_finite.end() ? nf->second : 0;
    const std::string budget = t == timed.end() || !t->second.budget_us ? "-"
                               : t->second.over
                                   ? fmt::format("{}/{} over", t->second.over, t->second.count)
                                   : "ok";
    p.lines.push_back(fmt::format("  {:<{}} {:>7} {:>6} {:>6} {:>6} {:>8} {}", cut(kind, name_w),
                                  name_w, checks, failed,
                                  checks ? fmt::format("{:.2f}x", c->second.worst_ratio) : "-",
                                  checks ? (nan ? fmt::format("{}", nan) : "yes") : "-", budget,
                                  !checks         ? "-"
                                  : failed || nan ? "FAIL"
                                                  : "PASS"));
  }
  for (const runtime::BrickResult& r : v.failed)
    for (const std::string& line : wrap("failed: " + runtime::describe(r), cols - 2, 3))
      p.lines.push_back("  " + line);
  return p;
}

std::vector<std::string> header(const Snapshot& s) {
  std::vector<std::string> h;
  h.push_back(fmt::format("brickc top | {} | {} | step {}{}", s.model, s.device, s.steps,
                          s.running         ? ""
                          : s.error.empty() ? " | stopped"
                                            : " | FAILED"));
  if (!s.profile) {
    h.push_back("tok/s now -   (waiting for the first timed steps)");
    return h;
  }
  const bench::ProfileReport& r = *s.profile;
  const size_t n = std::min(kRecentSteps, s.step_us.size());
  double recent = 0;
  for (size_t i = s.step_us.size() - n; i < s.step_us.size(); ++i) recent += s.step_us[i];
  std::set<int> layers;
  double layer_us = 0;
  for (const bench::BrickRow& row : r.rows)
    if (row.layer >= 0) {
      layers.insert(row.layer);
      layer_us += row.us.p50;
    }
  h.push_back(
      fmt::format("tok/s now {:.1f} (budget {}) | us/layer {:.1f} | step {:.1f} us, budget {:.1f}",
                  recent > 0 ? 1e6 * static_cast<double>(n) / recent : 0.0,
                  r.roofline_us > 0 ? fmt::format("{:.1f}", 1e6 / r.roofline_us) : "-",
                  layers.empty() ? 0.0 : layer_us / static_cast<double>(layers.size()),
                  r.step_p50_us, r.roofline_us));
  return h;
}

std::string footer(int cols) {
  const std::string full =
      "Enter drill  b budget/actual  h histogram  g gpu  m bandwidth  a assertions  Esc back  q "
      "quit";
  return static_cast<int>(full.size()) <= cols ? full : "Enter b h g m a Esc q:quit";
}

Page page(const Snapshot& s, const View& v, int cols, int body_rows) {
  const bool timed = s.profile.has_value();
  switch (v.panel) {
    case Panel::kGpu:
      return gpu(s, cols);
    case Panel::kAssertions:
      return assertions(s, cols);
    default:
      break;
  }
  if (!timed) return Page{{"waiting for timed steps (warm-up)"}, {}, {}, {}};
  if (s.profile->rows.empty()) return Page{{"the graph has no bricks"}, {}, {}, {}};
  switch (v.panel) {
    case Panel::kDrill:
      return drill(s, v, cols);
    case Panel::kHistogram:
      return histogram(s, cols, body_rows);
    case Panel::kBandwidth:
      return bandwidth(s, cols);
    default:
      return pipeline(s, v, cols);
  }
}

// What stays on every frame: the header, a failed generator's error, the footer.
struct Frame {
  std::vector<std::string> top, bottom;
  int body_rows = 0;
};

Frame frame(const Snapshot& s, int cols, int rows) {
  Frame f;
  f.top = header(s);
  if (!s.error.empty()) f.bottom = wrap("generator stopped: " + ascii(s.error), cols, 3);
  f.bottom.push_back(footer(cols));
  f.body_rows = rows - static_cast<int>(f.top.size() + f.bottom.size());
  return f;
}

// The lines of `p` that fit in `body_rows`: the head first, then the foot, then as many
// list lines as remain, starting at the scroll position or around the focus.
std::vector<std::string> fit(const Page& p, size_t scroll, int body_rows, size_t* max_first) {
  std::vector<std::string> out;
  size_t room = static_cast<size_t>(std::max(0, body_rows));
  const size_t head = std::min(p.head.size(), room);
  room -= head;
  const size_t foot = std::min(p.foot.size(), room);
  room -= foot;
  const size_t last_first = p.lines.size() > room ? p.lines.size() - room : 0;
  if (max_first) *max_first = last_first;
  size_t first = std::min(scroll, last_first);
  if (p.focus && room > 0)
    first = std::min(last_first, *p.focus >= room / 2 ? *p.focus - room / 2 : 0);
  out.insert(out.end(), p.head.begin(), p.head.begin() + static_cast<long>(head));
  for (size_t i = first; i < p.lines.size() && i < first + room; ++i) out.push_back(p.lines[i]);
  out.insert(out.end(), p.foot.begin(), p.foot.begin() + static_cast<long>(foot));
  return out;
}

}  // namespace

std::vector<KindRow> kind_rows(const bench::ProfileReport& r) {
  std::vector<KindRow> out;
  std::map<std::string, size_t> at;
  for (const bench::BrickRow& row : r.rows) {
    const auto [it, fresh] = at.try_emplace(row.kind, out.size());
    if (fresh) {
      out.emplace_back();
      out.back().kind = row.kind;
    }
    KindRow& k = out[it->second];
    ++k.count;
    k.us += row.us.p50;
    k.bytes += row.bytes;
    if (row.budget_us) k.budget_us = k.budget_us.value_or(0.0) + *row.budget_us;
    k.over += row.over_budget();
  }
  return out;
}

std::vector<std::string> render(const Snapshot& s, const View& v, int cols, int rows) {
  if (cols <= 0 || rows <= 0) return {};
  if (cols < kMinCols || rows < kMinRows)
    return {
        cut(fmt::format("terminal too small: {}x{}, need {}x{}", cols, rows, kMinCols, kMinRows),
            cols)};
  const Frame f = frame(s, cols, rows);
  std::vector<std::string> out = f.top;
  for (std::string& line : fit(page(s, v, cols, f.body_rows), v.scroll, f.body_rows, nullptr))
    out.push_back(std::move(line));
  out.insert(out.end(), f.bottom.begin(), f.bottom.end());
  for (std::string& line : out) {
    line = cut(ascii(line), cols);
    line.erase(line.find_last_not_of(' ') + 1);  // padding of the last column
  }
  return out;
}

size_t max_scroll(const Snapshot& s, const View& v, int cols, int rows) {
  if (cols < kMinCols || rows < kMinRows) return 0;
  const Frame f = frame(s, cols, rows);
  size_t last_first = 0;
  fit(page(s, v, cols, f.body_rows), 0, f.body_rows, &last_first);
  return last_first;
}

}  // namespace brickc::top
