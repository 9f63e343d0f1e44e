// bench's latency histogram: exact where a bucket is one microsecond wide,
// within 1/128 above, exact extremes, and percentiles by rank as the
// sorted list of every latency gave them.
#include "latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

using rebound::cli::LatencyHistogram;

TEST(LatencyHistogram, BucketsCoverEveryValueInOrderWithoutGapsOrOverlaps) {
  std::size_t previous = 0;
  for (std::uint64_t v = 0; v <= UINT32_MAX; v = v < 4096 ? v + 1 : v + v / 97 + 1) {
    const auto us = static_cast<std::uint32_t>(v);
    const auto b = LatencyHistogram::bucket_of(us);
    ASSERT_GE(b, previous) << us;
    ASSERT_LE(LatencyHistogram::bucket_floor(b), us) << us;
    ASSERT_LT(us - LatencyHistogram::bucket_floor(b), LatencyHistogram::bucket_width(b)) << us;
    if (us >= 128) {
      ASSERT_LE(LatencyHistogram::bucket_width(b) * 64.0, us) << "wider than 1/64 of the value: " << us;
    }
    previous = b;
  }
  EXPECT_EQ(LatencyHistogram::bucket_of(127), 127u);
  EXPECT_EQ(LatencyHistogram::bucket_of(UINT32_MAX), LatencyHistogram::bucket_of(UINT32_MAX - 1));
}

TEST(LatencyHistogram, PercentilesMatchTheSortedListWithinABucketAndTheExtremesExactly) {
  std::mt19937 rng(7);
  std::lognormal_distribution<double> latency(6.0, 1.0);  // ~400 us median, a long tail
  std::vector<std::uint32_t> all;
  LatencyHistogram a, b;
  for (int i = 0; i < 100000; ++i) {
    const auto us = static_cast<std::uint32_t>(latency(rng));
    all.push_back(us);
    (i % 2 ? a : b).add(us);  // two threads' histograms, merged
  }
  a.merge(b);
  std::sort(all.begin(), all.end());
  ASSERT_EQ(a.count(), all.size());
  EXPECT_EQ(a.min_us(), all.front());
  EXPECT_EQ(a.max_us(), all.back());
  for (double p : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const auto exact = all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
    const auto got = a.percentile_us(p);
    EXPECT_NEAR(got, exact, std::max(1.0, exact / 64.0)) << "p" << p;
  }
}

TEST(LatencyHistogram, AnEmptyHistogramReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min_us(), 0u);
  EXPECT_EQ(h.max_us(), 0u);
  EXPECT_EQ(h.percentile_us(0.5), 0u);
}
