// TermRecord: see term_record.hpp.
#include "term_record.hpp"

#include <algorithm>
#include <sstream>

namespace rebound::testing {

using rebound::lease::ElectionEvent;
using rebound::lease::ElectionEventKind;

std::function<void(const ElectionEvent&)> TermRecord::hook(std::function<void(const ElectionEvent&)> next) {
  return [this, next = std::move(next)](const ElectionEvent& e) {
    add(e);
    if (next) next(e);
  };
}

void TermRecord::add(const ElectionEvent& e) {
  std::lock_guard lock(mutex_);
  auto open = std::find_if(terms_.rbegin(), terms_.rend(),
                           [&](const Term& t) { return t.open && t.identity == e.identity; });
  switch (e.kind) {
    case ElectionEventKind::acquired:
      terms_.push_back(Term{e.identity, e.time, e.valid_until, e.valid_until, 0, true});
      break;
    case ElectionEventKind::renewed:
      renewals_.emplace_back(e.identity, e.time);
      if (open != terms_.rend()) {
        open->bound = e.valid_until;
        ++open->renewals;
      }
      break;
    case ElectionEventKind::lost:
    case ElectionEventKind::released:
    case ElectionEventKind::release_failed:
    case ElectionEventKind::stopped:
      if (open != terms_.rend()) {
        open->end = std::min(e.time, open->bound);
        open->open = false;
      }
      break;
    default: break;
  }
}

std::vector<TermRecord::Term> TermRecord::terms() const {
  std::lock_guard lock(mutex_);
  auto out = terms_;
  const auto now = Clock::now();
  for (auto& t : out)
    if (t.open) t.end = std::min(now, t.bound);
  return out;
}

std::vector<TermRecord::Term> TermRecord::terms_of(const std::string& identity) const {
  auto all = terms();
  std::erase_if(all, [&](const Term& t) { return t.identity != identity; });
  return all;
}

int TermRecord::renewals_since(const std::string& identity, Clock::time_point t) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(renewals_.begin(), renewals_.end(),
                                        [&](const auto& r) { return r.first == identity && r.second > t; }));
}

std::string TermRecord::overlaps() const {
  const auto all = terms();
  std::ostringstream out;
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      const auto& a = all[i];
      const auto& b = all[j];
      if (a.identity != b.identity && a.start < b.end && b.start < a.end)
        out << a.identity << "'s term and " << b.identity << "'s term overlap; ";
    }
  const std::string found = out.str();
  return found.empty() ? found : found + "\n" + describe();
}

std::string TermRecord::describe() const {
  const auto all = terms();
  if (all.empty()) return "no terms\n";
  const auto origin = all.front().start;
  const auto ms = [&](Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - origin).count();
  };
  std::ostringstream out;
  for (const auto& t : all)
    out << t.identity << ": " << ms(t.start) << " .. " << ms(t.end) << " ms (" << t.renewals << " renewals"
        << (t.open ? ", open" : "") << ")\n";
  return out.str();
}

}  // namespace rebound::testing
