#include "decode/env_ms.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace gvt {
namespace {

using std::chrono::milliseconds;

TEST(EnvMs, AcceptsWholeNumbersInRange) {
  ::setenv("GVT_TEST_ENV_MS", "250", 1);
  EXPECT_EQ(env_ms("GVT_TEST_ENV_MS", 1000), milliseconds(250));
  ::setenv("GVT_TEST_ENV_MS", "0", 1);
  EXPECT_EQ(env_ms("GVT_TEST_ENV_MS", 1000), milliseconds(0));
  ::setenv("GVT_TEST_ENV_MS", "1000", 1);
  EXPECT_EQ(env_ms("GVT_TEST_ENV_MS", 1000), milliseconds(1000));
}

// A typo must fall back to the caller's default, never become 0 or a huge pause.
TEST(EnvMs, RejectsWhatIsNotAWholeNumberInRange) {
  for (const char* bad : {"", "abc", "12ms", "1001", "-5", " 7x", "99999999999999999999"}) {
    ::setenv("GVT_TEST_ENV_MS", bad, 1);
    EXPECT_FALSE(env_ms("GVT_TEST_ENV_MS", 1000).has_value()) << "'" << bad << "'";
  }
  ::unsetenv("GVT_TEST_ENV_MS");
  EXPECT_FALSE(env_ms("GVT_TEST_ENV_MS", 1000).has_value());
}

}  // namespace
}  // namespace gvt
