// A bench report's per-brick profile through JSON text and back (runtime/bench/profile_json):
// every field survives; missing fields, wrong types and dangling indices are errors that
// name the file and the field.
#include "runtime/bench/profile_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "ir/error.h"

namespace brickc::bench {
namespace {

using ::testing::HasSubstr;

ProfileReport random_report(std::mt19937& rng) {
  std::uniform_real_distribution<double> us(0.1, 500);
  ProfileReport r;
  r.steps = 1 + rng() % 200;
  r.bandwidth_gbs = us(rng);
  const size_t n = 3 + rng() % 20;
  const bool gpu = rng() % 2;  // rows with the SMs' busy share, as the GPU profiles them
  for (size_t i = 0; i < n; ++i) {
    BrickRow b;
    b.brick = i;
    b.kind = i % 2 ? "matvec_add" : "attention";
    b.value = "x" + std::to_string(i);
    b.layer = static_cast<int>(i / 3) - 1;
    b.us.p50 = us(rng);
    b.us.p99 = b.us.p50 * 1.5;
    b.p999_us = b.us.p50 * 2;
    if (rng() % 3) b.budget_us = us(rng);
    b.bytes = rng();
    b.gbs = us(rng);
    b.pct_bandwidth = us(rng) / 10;
    if (gpu) b.sm_busy_pct = us(rng) / 5;
    if (gpu) b.phases = BrickPhases{us(rng) - us(rng), us(rng), us(rng), us(rng)};  // handoffs may be < 0
    r.step_p50_us += b.us.p50;
    r.rows.push_back(b);
  }
  r.roofline_us = us(rng);
  if (gpu) r.sm_busy_pct = us(rng) / 5;
  if (gpu) r.handoff_us = us(rng) - us(rng);
  r.slowest = rng() % n;
  r.slowest_in_layer[0] = rng() % n;
  r.slowest_in_layer[3] = rng() % n;
  return r;
}

TEST(ProfileJson, RoundTripsEveryField) {
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 20; ++trial) {
    const ProfileReport a = random_report(rng);
    const ProfileReport b =
        profile_from_json(nlohmann::json::parse(profile_to_json(a).dump()), "r.json");
    ASSERT_EQ(b.rows.size(), a.rows.size());
    EXPECT_EQ(b.steps, a.steps);
    EXPECT_DOUBLE_EQ(b.step_p50_us, a.step_p50_us);
    EXPECT_DOUBLE_EQ(b.roofline_us, a.roofline_us);
    EXPECT_DOUBLE_EQ(b.bandwidth_gbs, a.bandwidth_gbs);
    EXPECT_EQ(b.slowest, a.slowest);
    EXPECT_EQ(b.slowest_in_layer, a.slowest_in_layer);
    EXPECT_EQ(b.sm_busy_pct, a.sm_busy_pct);
    EXPECT_EQ(b.handoff_us, a.handoff_us);
    for (size_t i = 0; i < a.rows.size(); ++i) {
      const BrickRow &x = a.rows[i], &y = b.rows[i];
      EXPECT_EQ(y.brick, x.brick);
      EXPECT_EQ(y.kind, x.kind);
      EXPECT_EQ(y.value, x.value);
      EXPECT_EQ(y.layer, x.layer);
      EXPECT_DOUBLE_EQ(y.us.p50, x.us.p50);
      EXPECT_DOUBLE_EQ(y.us.p99, x.us.p99);
      EXPECT_DOUBLE_EQ(y.p999_us, x.p999_us);
      EXPECT_EQ(y.budget_us, x.budget_us);
      EXPECT_EQ(y.bytes, x.bytes);
      EXPECT_DOUBLE_EQ(y.gbs, x.gbs);
      EXPECT_DOUBLE_EQ(y.pct_bandwidth, x.pct_bandwidth);
      EXPECT_EQ(y.sm_busy_pct, x.sm_busy_pct);
      ASSERT_EQ(y.phases.has_value(), x.phases.has_value());
      if (x.phases) {
        EXPECT_EQ(y.phases->handoff_us, x.phases->handoff_us);
        EXPECT_EQ(y.phases->lead_us, x.phases->lead_us);
        EXPECT_EQ(y.phases->prologue_us, x.phases->prologue_us);
        EXPECT_EQ(y.phases->tail_us, x.phases->tail_us);
      }
    }
  }
}

std::string error_of(const nlohmann::json& j) {
  try {
    profile_from_json(j, "r.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ProfileJson, BadFieldsAreNamedErrors) {
  std::mt19937 rng(1);
  const nlohmann::json good = nlohmann::json::parse(profile_to_json(random_report(rng)).dump());
  EXPECT_THAT(error_of(nlohmann::json::array()), HasSubstr("r.json: profile: expected an object"));
  nlohmann::json j = good;
  j.erase("steps");
  EXPECT_THAT(error_of(j), HasSubstr("r.json: profile: field steps is missing (expected an integer)"));
  j = good;
  j["bricks"][1]["p50_us"] = "fast";
  EXPECT_THAT(error_of(j), HasSubstr("r.json: profile.bricks[1]: field p50_us: expected a non-negative number, found \"fast\""));
  j = good;
  j["slowest"] = 1000;
  EXPECT_THAT(error_of(j), HasSubstr("'slowest' is 1000"));
  j = good;
  j["slowest_in_layer"]["x"] = 0;
  EXPECT_THAT(error_of(j), HasSubstr("slowest_in_layer['x']"));
  j = good;
  j["slowest_in_layer"]["2"] = -1;
  EXPECT_THAT(error_of(j), HasSubstr("slowest_in_layer['2']"));
  // A brick's phases come whole; only the handoff may be negative.
  j = good;
  j["bricks"][0]["handoff_us"] = -1.5;
  j["bricks"][0]["lead_us"] = 2.0;
  j["bricks"][0]["prologue_us"] = 0.5;
  j["bricks"][0].erase("tail_us");
  EXPECT_THAT(error_of(j), HasSubstr("r.json: profile.bricks[0]: field tail_us is missing"));
  j["bricks"][0]["tail_us"] = -0.1;
  EXPECT_THAT(error_of(j), HasSubstr("profile.bricks[0]: field tail_us: expected a non-negative number"));
  j["bricks"][0]["tail_us"] = 0.1;
  EXPECT_EQ(profile_from_json(j, "r.json").rows[0].phases->handoff_us, -1.5);
  j["bricks"][0]["handoff_us"] = "soon";
  EXPECT_THAT(error_of(j), HasSubstr("profile.bricks[0]: field handoff_us: expected a finite number, found \"soon\""));
}

}  // namespace
}  // namespace brickc::bench
