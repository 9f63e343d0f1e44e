// Monitor: counting violations and keeping the first of each invariant.
#include <rebound/soak/monitor.hpp>

namespace rebound::soak {

bool Monitor::note(const Finding& f) {
  std::lock_guard lock(mutex_);
  ++total_;
  if (!excused(f.invariant)) ++unexpected_;
  return ++counts_[f.invariant] == 1;
}

void Monitor::keep_first(Finding f, std::string subject, std::string context) {
  const double at = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  std::lock_guard lock(mutex_);
  firsts_.push_back(Violation{at, std::move(f), std::move(subject), std::move(context)});
}

std::vector<std::string> Monitor::expected_missing() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> missing;
  for (const auto& name : expected_)
    if (!counts_.count(name)) missing.push_back(name);
  return missing;
}

std::vector<Monitor::Violation> Monitor::firsts() const {
  std::lock_guard lock(mutex_);
  return firsts_;
}

std::map<std::string, std::uint64_t> Monitor::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace rebound::soak
