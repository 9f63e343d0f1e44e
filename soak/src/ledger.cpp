// Ledger: the per-id record and the in-flight table.
#include <rebound/soak/ledger.hpp>

#include <algorithm>

namespace rebound::soak {

std::uint64_t Ledger::next_id() {
  std::lock_guard lock(mutex_);
  entries_.emplace_back();
  return entries_.size();
}

void Ledger::start(std::shared_ptr<Flight> flight) {
  std::lock_guard lock(mutex_);
  Entry& e = entries_.at(flight->spec.id - 1);
  e.kind = flight->spec.kind;
  e.client = static_cast<std::uint8_t>(flight->client);
  flying_[flight->spec.id] = std::move(flight);
}

int Ledger::complete(std::uint64_t id, bool ok, int attempts, progress reached) {
  std::lock_guard lock(mutex_);
  const bool was_flying = flying_.erase(id) > 0;
  Entry& e = entries_.at(id - 1);
  if (!was_flying) return 2;  // completed before: this is a second completion
  e.state = ok ? Entry::State::succeeded : Entry::State::failed;
  e.attempts = static_cast<std::uint8_t>(std::min(attempts, 255));
  e.reached = reached;
  return 1;
}

std::optional<Entry> Ledger::add_run(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (id == 0 || id > entries_.size()) return std::nullopt;
  Entry& e = entries_[id - 1];
  if (e.runs < 255) ++e.runs;
  return e;
}

std::optional<Entry> Ledger::entry(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  if (id == 0 || id > entries_.size()) return std::nullopt;
  return entries_[id - 1];
}

std::vector<Entry> Ledger::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::vector<std::shared_ptr<Flight>> Ledger::overdue(Clock::time_point now, std::chrono::milliseconds grace) const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Flight>> late;
  for (const auto& [id, f] : flying_)
    if (now > f->deadline + grace) late.push_back(f);
  return late;
}

std::size_t Ledger::in_flight() const {
  std::lock_guard lock(mutex_);
  return flying_.size();
}

std::shared_ptr<Flight> Ledger::flight(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = flying_.find(id);
  return it == flying_.end() ? nullptr : it->second;
}

}  // namespace rebound::soak
