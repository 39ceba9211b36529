// te/autotune/features.h — a fixed-length, named, versioned feature vector of a lowered
// loop program, the cost model's input. Layer 2: uses only the lowered IR.
#pragma once
#include <string>
#include <vector>
#include "te/lower.h"

namespace te::autotune {

// Bumped whenever a feature is added, removed or its meaning changes; saved models and
// cached features carry it and are refused when it differs.
constexpr int kFeatureVersion = 1;

// The name of every entry, in order (fixed length).
const std::vector<std::string>& feature_names();
// Features of one lowered function. Always feature_names().size() long.
std::vector<float> extract_features(const LoweredFunc& func, const Target& target);

}  // namespace te::autotune
