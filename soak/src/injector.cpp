// Injector: the schedule's thread and its journal.
#include <rebound/soak/injector.hpp>

#include <cstdio>
#include <set>

namespace rebound::soak {

namespace {
std::string seconds(std::chrono::steady_clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", std::chrono::duration<double>(d).count());
  return buf;
}
}  // namespace

Injector::Injector(Rig& rig, const Schedule& schedule, std::chrono::steady_clock::time_point t0)
    : rig_(rig), actions_(schedule.actions), t0_(t0) {}

Injector::~Injector() { stop(); }

void Injector::start() { thread_ = std::thread([this] { run(); }); }

void Injector::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Injector::wait() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return done_; });
}

void Injector::run() {
  // Repairs owed for faults in effect, so an early stop leaves the rig whole.
  std::set<std::pair<ServerSlot, Op>> owed;
  auto apply = [&](const Action& a) {
    const auto now = std::chrono::steady_clock::now();
    try {
      rig_.apply(a);
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      if (!harness_error_) harness_error_ = describe(a) + ": " + e.what();
      return false;
    }
    if (auto repair = repair_of(a.op)) owed.insert({a.target, *repair});
    else owed.erase({a.target, a.op});
    std::lock_guard lock(mutex_);
    journal_.push_back({now, seconds(now - t0_) + " (planned " + describe(a) + ")"});
    if (is_fault(a.op)) ++injected_[to_string(a.op)];
    return true;
  };
  for (const Action& a : actions_) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_until(lock, t0_ + a.at, [this] { return stopping_; })) break;
    }
    if (!apply(a)) break;
  }
  const auto left = owed;  // apply() edits owed
  const auto late = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0_);
  for (const auto& [target, op] : left) apply(Action{late, op, target, 0});
  std::lock_guard lock(mutex_);
  done_ = true;
  wake_.notify_all();
}

std::map<std::string, std::uint64_t> Injector::injected() const {
  std::lock_guard lock(mutex_);
  return injected_;
}

std::uint64_t Injector::injected_total() const {
  std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& [_, c] : injected_) n += c;
  return n;
}

std::vector<std::string> Injector::between(std::chrono::steady_clock::time_point from,
                                           std::chrono::steady_clock::time_point to) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& e : journal_)
    if (e.at >= from && e.at <= to) out.push_back(e.line);
  return out;
}

std::optional<std::string> Injector::harness_error() const {
  std::lock_guard lock(mutex_);
  return harness_error_;
}

}  // namespace rebound::soak
