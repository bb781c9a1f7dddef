// `brickc bench --plot`: the per-brick profile as an SVG chart to read at a glance: per brick
// kind the measured time against its roofline budget, and the step time of every layer.
// Draws a ProfileReport; not the measuring (brick_profile.h).
#pragma once
#include <string>

#include "runtime/bench/brick_profile.h"

namespace brickc::bench {

// A standalone SVG 1.1 document, 900 px wide, as tall as the kinds need. One row per brick
// kind in pipeline order (first appearance in r.rows), summed over all layers: the budget
// as an outline (rect class="budget"), the measured p50 filled (rect class="actual"; red
// over budget, green within, grey without a budget), the most expensive kind marked; then a
// strip of per-layer step times (rect class="layer"), the slowest layer marked. Each rect's
// <title> starts with its kind ("kind: ...") or layer ("layer N: ..."). All text is
// XML-escaped.
std::string profile_svg(const ProfileReport& r, const std::string& title);

}  // namespace brickc::bench
