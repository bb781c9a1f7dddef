#include "runtime/bench/profile_json.h"

#include <fmt/format.h>

#include <charconv>

#include "ir/error.h"

namespace brickc::bench {
namespace {

using ojson = nlohmann::ordered_json;

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) fail("{}: missing field '{}'", where, key);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail("{}: field '{}' has the wrong type ({})", where, key, it->type_name());
  }
}

}  // namespace

ojson profile_to_json(const ProfileReport& p) {
  ojson bricks = ojson::array();
  for (const BrickRow& b : p.rows)
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
  ojson by_layer = ojson::object();
  for (const auto& [layer, row] : p.slowest_in_layer) by_layer[std::to_string(layer)] = row;
  return {{"steps", p.steps},           {"step_p50_us", p.step_p50_us},
          {"roofline_us", p.roofline_us}, {"bandwidth_gbs", p.bandwidth_gbs},
          {"bricks", bricks},           {"slowest", p.slowest},
          {"slowest_in_layer", by_layer}};
}

ProfileReport profile_from_json(const nlohmann::json& j, const std::string& path) {
  const std::string where = path + ": profile";
  if (!j.is_object()) fail("{}: expected an object, found {}", where, j.type_name());
  ProfileReport r;
  r.steps = field<size_t>(j, "steps", where);
  r.step_p50_us = field<double>(j, "step_p50_us", where);
  r.roofline_us = field<double>(j, "roofline_us", where);
  r.bandwidth_gbs = field<double>(j, "bandwidth_gbs", where);
  const auto bricks = field<nlohmann::json>(j, "bricks", where);
  if (!bricks.is_array()) fail("{}: field 'bricks' is not an array", where);
  for (size_t i = 0; i < bricks.size(); ++i) {
    const std::string at = fmt::format("{}.bricks[{}]", where, i);
    const nlohmann::json& b = bricks[i];
    BrickRow row;
    row.brick = field<size_t>(b, "brick", at);
    row.kind = field<std::string>(b, "kind", at);
    row.value = field<std::string>(b, "value", at);
    row.layer = field<int>(b, "layer", at);
    row.us.p50 = row.us.median = field<double>(b, "p50_us", at);
    row.us.p99 = field<double>(b, "p99_us", at);
    row.p999_us = field<double>(b, "p999_us", at);
    if (const auto it = b.find("budget_us"); it != b.end() && !it->is_null())
      row.budget_us = field<double>(b, "budget_us", at);
    row.bytes = field<uint64_t>(b, "bytes", at);
    row.gbs = field<double>(b, "gbs", at);
    row.pct_bandwidth = field<double>(b, "pct_bandwidth", at);
    r.rows.push_back(std::move(row));
  }
  r.slowest = field<size_t>(j, "slowest", where);
  if (!r.rows.empty() && r.slowest >= r.rows.size())
    fail("{}: 'slowest' is {}, but there are {} bricks", where, r.slowest, r.rows.size());
  const auto by_layer = field<nlohmann::json>(j, "slowest_in_layer", where);
  for (const auto& [key, row] : by_layer.items()) {
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
