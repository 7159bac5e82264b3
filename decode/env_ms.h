// A duration in milliseconds from the environment: the knobs for tests and tuning
// (GVT_PROGRESS_MS, GVT_TEST_DRAIN_PAUSE_MS). Unset, empty, not a whole number or out
// of [0, max] gives nothing, so a typo falls back to the default instead of
// becoming 0.
#pragma once

#include <chrono>
#include <cstdlib>
#include <optional>

namespace gvt {

inline std::optional<std::chrono::milliseconds> env_ms(const char* name, long max) {
  const char* e = std::getenv(name);
  if (!e || !*e) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(e, &end, 10);
  if (!end || *end != '\0' || v < 0 || v > max) return std::nullopt;
  return std::chrono::milliseconds(v);
}

}  // namespace gvt
