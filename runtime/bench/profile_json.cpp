#include "runtime/bench/profile_json.h"

#include <fmt/format.h>

#include <charconv>

#include "ir/error.h"
#include "runtime/bench/report_fields.h"

namespace brickc::bench {
namespace {

using ojson = nlohmann::ordered_json;

}  // namespace

ojson profile_to_json(const ProfileReport& p) {
  ojson bricks = ojson::array();
  for (const BrickRow& b : p.rows) {
    bricks.push_back({{"brick", b.brick},
                      {"kind", b.kind},
                      {"value", b.value},
                      {"layer", b.layer},
                      {"p50_us", b.us.p50},
                      {"p99_us", b.us.p99},
                      {"p999_us", b.p999_us},
                      {"budget_us", b.budget_us ? ojson(*b.budget_us) : ojson(nullptr)},
                      {"bytes", b.bytes},
                      {"gbs", b.gbs},
                      {"pct_bandwidth", b.pct_bandwidth},
                      {"over_budget", b.over_budget()}});
    if (b.sm_busy_pct) bricks.back()["sm_busy_pct"] = *b.sm_busy_pct;
    if (b.phases) {
      bricks.back()["handoff_us"] = b.phases->handoff_us;
      bricks.back()["lead_us"] = b.phases->lead_us;
      bricks.back()["prologue_us"] = b.phases->prologue_us;
      bricks.back()["tail_us"] = b.phases->tail_us;
    }
  }
  ojson by_layer = ojson::object();
  for (const auto& [layer, row] : p.slowest_in_layer) by_layer[std::to_string(layer)] = row;
  ojson out = {{"steps", p.steps},           {"depth", p.depth},           {"kv_len", p.kv_len},
               {"step_p50_us", p.step_p50_us},
               {"roofline_us", p.roofline_us}, {"bandwidth_gbs", p.bandwidth_gbs},
               {"bricks", bricks},           {"slowest", p.slowest},
               {"slowest_in_layer", by_layer}};
  if (p.sm_busy_pct) out["sm_busy_pct"] = *p.sm_busy_pct;
  if (p.handoff_us) out["handoff_us"] = *p.handoff_us;
  return out;
}

ProfileReport profile_from_json(const nlohmann::json& j, const std::string& path) {
  const std::string where = path + ": profile";
  if (!j.is_object()) fail("{}: expected an object, found {}", where, j.type_name());
  const ReportFields f(j, where);
  ProfileReport r;
  r.steps = f.count("steps");
  if (j.contains("depth")) r.depth = static_cast<int>(f.count("depth"));  // older reports have none
  if (j.contains("kv_len")) r.kv_len = static_cast<int64_t>(f.count("kv_len"));
  r.step_p50_us = f.number("step_p50_us");
  r.roofline_us = f.number("roofline_us");
  r.bandwidth_gbs = f.number("bandwidth_gbs");
  if (j.contains("sm_busy_pct")) r.sm_busy_pct = f.number("sm_busy_pct");
  if (j.contains("handoff_us")) r.handoff_us = f.real("handoff_us");
  const nlohmann::json& bricks = j.contains("bricks") ? j["bricks"] : nlohmann::json();
  if (!bricks.is_array()) fail("{}: field bricks: expected an array", where);
  for (size_t i = 0; i < bricks.size(); ++i) {
    const nlohmann::json& b = bricks[i];
    if (!b.is_object()) fail("{}.bricks[{}]: expected an object", where, i);
    const ReportFields e(b, fmt::format("{}.bricks[{}]", where, i));
    BrickRow row;
    row.brick = e.count("brick");
    row.kind = e.text("kind");
    row.value = e.text("value");
    row.layer = static_cast<int>(e.integer("layer"));
    row.us.p50 = row.us.median = e.number("p50_us");
    row.us.p99 = e.number("p99_us");
    row.p999_us = e.number("p999_us");
    if (b.contains("budget_us") && !b["budget_us"].is_null()) row.budget_us = e.number("budget_us");
    row.bytes = e.count("bytes");
    row.gbs = e.number("gbs");
    row.pct_bandwidth = e.number("pct_bandwidth");
    if (b.contains("sm_busy_pct")) row.sm_busy_pct = e.number("sm_busy_pct");
    if (b.contains("handoff_us"))  // reports before the phases have none
      row.phases = BrickPhases{e.real("handoff_us"), e.number("lead_us"), e.number("prologue_us"),
                               e.number("tail_us")};
    r.rows.push_back(std::move(row));
  }
  r.slowest = f.count("slowest");
  if (!r.rows.empty() && r.slowest >= r.rows.size())
    fail("{}: 'slowest' is {}, but there are {} bricks", where, r.slowest, r.rows.size());
  const nlohmann::json* by_layer = f.section("slowest_in_layer");
  if (!by_layer) fail("{}: field slowest_in_layer is missing (expected an object)", where);
  for (const auto& [key, row] : by_layer->items()) {
    int layer = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), layer);
    if (ec != std::errc{} || end != key.data() + key.size() || !row.is_number_unsigned() ||
        row.get<size_t>() >= r.rows.size())
      fail("{}: slowest_in_layer['{}'] is not a layer number mapped to a brick row", where, key);
    r.slowest_in_layer[layer] = row.get<size_t>();
  }
  return r;
}

}  // namespace brickc::bench
