// vkg_logit_kl's arithmetic (tools/logit_kl): KL divergence against values worked out by hand.
#include "tools/logit_kl/logit_kl.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace vkg::tools {
namespace {

TEST(LogitKl, EqualRowsGiveZero) {
  const std::vector<float> r = {1.0f, -2.0f, 0.5f, 3.0f};
  EXPECT_EQ(PositionKl(r, r), 0.0);
  // A constant shift of every logit leaves the distribution unchanged.
  const std::vector<float> shifted = {11.0f, 8.0f, 10.5f, 13.0f};
  EXPECT_NEAR(PositionKl(r, shifted), 0.0, 1e-15);
}

TEST(LogitKl, TwoTokensByHand) {
  // P = softmax(0, 0) = (1/2, 1/2); Q = softmax(log 3, 0) = (3/4, 1/4):
  // KL = 1/2 log(2/3) + 1/2 log(2) = 1/2 log(4/3).
  const std::vector<float> p = {0.0f, 0.0f};
  const std::vector<float> q = {float(std::log(3.0)), 0.0f};
  EXPECT_NEAR(PositionKl(p, q), 0.5 * std::log(4.0 / 3.0), 1e-7);
  // And the other way round: 3/4 log(3/2) + 1/4 log(1/2).
  EXPECT_NEAR(PositionKl(q, p), 0.75 * std::log(1.5) + 0.25 * std::log(0.5), 1e-7);
}

TEST(LogitKl, LargeLogitsDoNotOverflow) {
  const std::vector<float> p = {1000.0f, 999.0f};
  const std::vector<float> q = {-1000.0f, -1001.0f};  // the same distribution
  EXPECT_NEAR(PositionKl(p, q), 0.0, 1e-12);
}

TEST(LogitKl, StatisticsOverPositions) {
  // Three positions of vocabulary 2: equal rows; P = (1/2, 1/2) vs Q = (3/4, 1/4); and
  // P = (3/4, 1/4) vs Q = (1/4, 3/4), whose top tokens disagree.
  const float l3 = float(std::log(3.0));
  const std::vector<float> ref = {0, 0, 0, 0, l3, 0};
  const std::vector<float> test = {0, 0, l3, 0, 0, l3};
  const LogitDivergence d = CompareLogits(ref, test, 2);
  EXPECT_EQ(d.positions, 3u);
  const double k2 = 0.5 * std::log(4.0 / 3.0);
  const double k3 = 0.75 * std::log(3.0) + 0.25 * std::log(1.0 / 3.0);  // P=(3/4,1/4), Q=(1/4,3/4)
  EXPECT_NEAR(d.mean_kl, (k2 + k3) / 3.0, 1e-7);
  EXPECT_NEAR(d.median_kl, k2, 1e-7);
  EXPECT_NEAR(d.max_kl, k3, 1e-7);
  EXPECT_NEAR(d.p99_kl, k3, 1e-7);
  // Position 0: equal rows (argmax 0 both, a tie keeps the lower id); 1: argmax 0 vs 0; 2: 0 vs 1.
  EXPECT_NEAR(d.top1_agreement, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(d.rms_logit_diff, std::sqrt(3.0 * double(l3) * l3 / 6.0), 1e-6);
}

TEST(LogitKl, RejectsMismatchedInputs) {
  const std::vector<float> a = {0, 0, 0, 0}, b = {0, 0};
  try {
    CompareLogits(a, b, 2);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "the two files hold 4 and 2 values: not the same run");
  }
  try {
    CompareLogits(a, a, 3);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "4 values are not a whole number of 3-logit positions");
  }
  const std::vector<float> nan = {0, 0, 0, NAN};
  try {
    CompareLogits(a, nan, 2);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "logit 1 of position 1 is not finite");
  }
}

}  // namespace
}  // namespace vkg::tools
