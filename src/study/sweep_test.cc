#include <gtest/gtest.h>
TEST(Sweep, Placeholder) {}
