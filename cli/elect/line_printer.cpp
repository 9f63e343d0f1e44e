// LinePrinter: see line_printer.hpp.
#include "elect/line_printer.hpp"

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace rebound::cli::elect {

// Shared with the writer thread, which may outlive the printer while it
// is blocked in write(2).
struct LinePrinter::Shared {
  // A constructor, not aggregate initialisation through make_shared: clang
  // 14 (the CI's sanitizer builds) lacks parenthesised aggregate init.
  Shared(int fd, std::size_t max_queued, std::function<std::string(std::size_t)> dropped_line)
      : fd(fd), max_queued(max_queued), dropped_line(std::move(dropped_line)) {}

  const int fd;
  const std::size_t max_queued;
  const std::function<std::string(std::size_t)> dropped_line;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> queue;
  std::size_t dropped = 0;
  bool writing = false;
  bool closing = false;
  bool broken = false;  ///< the output is gone (EPIPE...): lines are discarded

  void write_all(const std::string& s) {
    std::size_t done = 0;
    while (done < s.size() && !broken) {
      const auto n = ::write(fd, s.data() + done, s.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) broken = true;
      else done += static_cast<std::size_t>(n);
    }
  }

  void run() {
    std::unique_lock lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return closing || !queue.empty() || dropped > 0; });
      if (queue.empty() && dropped == 0) return;  // closing, all written
      std::string text;
      if (!queue.empty()) {
        text = std::move(queue.front());
        queue.pop_front();
      } else {
        text = dropped_line(dropped) + "\n";
        dropped = 0;
      }
      writing = true;
      lock.unlock();
      write_all(text);
      lock.lock();
      writing = false;
      changed.notify_all();
    }
  }
};

LinePrinter::LinePrinter(int fd, std::size_t max_queued, std::function<std::string(std::size_t)> dropped_line)
    : shared_(std::make_shared<Shared>(fd, max_queued, std::move(dropped_line))) {
  std::thread([shared = shared_] { shared->run(); }).detach();
}

LinePrinter::~LinePrinter() {
  flush(std::chrono::seconds(1));
  std::lock_guard lock(shared_->mutex);
  shared_->closing = true;
  shared_->changed.notify_all();
}

void LinePrinter::line(std::string text) {
  std::lock_guard lock(shared_->mutex);
  if (shared_->queue.size() >= shared_->max_queued) {
    ++shared_->dropped;
    return;
  }
  text += '\n';
  shared_->queue.push_back(std::move(text));
  shared_->changed.notify_all();
}

bool LinePrinter::flush(std::chrono::milliseconds bound) {
  std::unique_lock lock(shared_->mutex);
  return shared_->changed.wait_for(lock, bound, [&] { return shared_->queue.empty() && !shared_->writing; });
}

}  // namespace rebound::cli::elect
