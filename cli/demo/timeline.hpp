// The demo's record of what happened: timestamped entries per lane (the
// server, each candidate), printed as text as they arrive, and rendered at
// the end as JSON or as an SVG picture. Thread-safe: entries come from the
// candidates' threads and the clients' I/O threads.
#pragma once

#include <chrono>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

namespace rebound::cli::demo {

enum class Mark : std::uint8_t {
  info,     ///< a neutral note
  good,     ///< a renewal, an acquisition, a recovery
  bad,      ///< a failure, an outage
  leading,  ///< leadership begins (lane's bar starts)
  stepped_down,  ///< leadership ends (lane's bar stops)
  down,     ///< the server went away (outage band starts)
  up,       ///< the server is back (outage band ends)
};

struct Entry {
  double t = 0;  ///< seconds since the demo started
  std::string lane;
  std::string kind;
  std::string detail;
  Mark mark = Mark::info;
};

class Timeline {
 public:
  Timeline(std::ostream* live, bool quiet_renewals);
  void add(std::string lane, std::string kind, std::string detail, Mark mark);
  std::vector<Entry> entries() const;
  double now() const;

  /// The whole timeline and `verdict` (already JSON text) as one object.
  std::string to_json(const std::string& verdict_json) const;
  /// An SVG drawing: outage bands, leadership bars, renewals and failures.
  std::string to_svg(const std::vector<std::string>& lanes, const std::string& title,
                     const std::string& legend) const;

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::ostream* live_;
  bool quiet_renewals_;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace rebound::cli::demo
