// Candidate: see candidate.hpp.
#include "demo/candidate.hpp"

namespace rebound::cli::demo {

void Candidate::on_event(Timeline& tl, const lease::ElectionEvent& e) {
  using K = lease::ElectionEventKind;
  // Failures show their kind; the full message (with request and
  // connection) is one --verbose away.
  const std::string detail = e.error_kind.empty() ? e.message
                             : verbose_   ? e.error_kind + ": " + e.message
                                          : e.error_kind;
  Mark mark = Mark::info;
  {
    std::lock_guard lock(mutex);
    switch (e.kind) {
      case K::acquired:
        ++acquisitions;
        leading = true;
        terms.push_back({tl.now(), -1});
        last_renewal = tl.now();
        mark = Mark::leading;
        break;
      case K::renewed:
        ++renewals;
        last_renewal = tl.now();
        mark = Mark::good;
        break;
      case K::failed:
      case K::conflict:
      case K::release_failed:
        ++failures;
        mark = Mark::bad;
        break;
      case K::lost:
        ++losses;
        [[fallthrough]];
      case K::released:
      case K::stopped:
        if (leading) {
          leading = false;
          terms.back().second = tl.now();
          mark = Mark::stepped_down;
        }
        break;
      case K::held_by_other:
        ++found_held;
        break;
      case K::new_leader:
        break;
    }
  }
  changed.notify_all();
  std::string text = detail;
  if (!e.holder.empty() && e.kind != K::failed) text = "holder " + e.holder + (text.empty() ? "" : "; " + text);
  if (e.took.count() > 0) text += " (" + std::to_string(e.took.count()) + " ms)";
  tl.add(name, lease::to_string(e.kind), text, mark);
}

}  // namespace rebound::cli::demo
