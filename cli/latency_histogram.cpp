// LatencyHistogram: see latency_histogram.hpp.
#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>

namespace rebound::cli {

std::size_t LatencyHistogram::bucket_of(std::uint32_t us) noexcept {
  if (us < 2 * sub_count) return us;  // one bucket per microsecond
  // The top sub_bits + 1 bits: a leading 1 and the bucket within the power.
  const int shift = std::bit_width(us) - (sub_bits + 1);
  return sub_count * static_cast<std::size_t>(shift + 1) + ((us >> shift) - sub_count);
}

std::uint32_t LatencyHistogram::bucket_floor(std::size_t b) noexcept {
  if (b < 2 * sub_count) return static_cast<std::uint32_t>(b);
  const auto shift = static_cast<int>(b / sub_count) - 1;
  return static_cast<std::uint32_t>(sub_count + b % sub_count) << shift;
}

std::uint32_t LatencyHistogram::bucket_width(std::size_t b) noexcept {
  return b < 2 * sub_count ? 1u : 1u << (b / sub_count - 1);
}

void LatencyHistogram::add(std::uint32_t us) noexcept {
  ++counts_[bucket_of(us)];
  ++count_;
  min_ = std::min(min_, us);
  max_ = std::max(max_, us);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t b = 0; b < bucket_count; ++b) counts_[b] += other.counts_[b];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint32_t LatencyHistogram::percentile_us(double p) const noexcept {
  if (count_ == 0) return 0;
  const auto rank = std::min(count_ - 1, static_cast<std::uint64_t>(std::clamp(p, 0.0, 1.0) * count_));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < bucket_count; ++b) {
    seen += counts_[b];
    if (seen > rank) {
      const std::uint32_t mid = bucket_floor(b) + bucket_width(b) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace rebound::cli
