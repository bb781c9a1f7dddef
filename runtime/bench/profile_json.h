// The per-brick profile in a bench report's JSON ("profile", schema brickc-bench/1) and
// back, so that `compile --annotate` and `brickc score` read what `bench --profile` measured.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/bench/brick_profile.h"

namespace brickc::bench {

nlohmann::ordered_json profile_to_json(const ProfileReport& r);
// Errors name `path` and the field that is missing or of the wrong type.
ProfileReport profile_from_json(const nlohmann::json& j, const std::string& path);

}  // namespace brickc::bench
