// Lines to standard output that never block the caller: `rebound elect`'s
// events are written by a thread of the printer's own, so a reader that
// stops reading (a full pipe, a stopped pager, `| tee` that went away)
// never holds up the election or the command's supervision. Past
// `max_queued` unwritten lines, new ones are dropped and counted; the
// count is written as a line of its own once output moves again.
//
// Thread safety: line() and flush() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace rebound::cli::elect {

class LinePrinter {
 public:
  /// `dropped_line(n)` formats the notice that n lines were dropped.
  LinePrinter(int fd, std::size_t max_queued, std::function<std::string(std::size_t)> dropped_line);
  /// flush(1 s); a writer still blocked after that is left behind.
  ~LinePrinter();
  LinePrinter(const LinePrinter&) = delete;
  LinePrinter& operator=(const LinePrinter&) = delete;

  /// Queues `text` and a newline; never blocks on the output.
  void line(std::string text);
  /// Waits up to `bound` until every queued line was written; true if so.
  bool flush(std::chrono::milliseconds bound);

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace rebound::cli::elect
