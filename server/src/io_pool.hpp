// The Server's I/O threads: one io_context per thread (no strands, no shared
// queue), with connections spread round-robin. Every connection lives on one
// io_context for its whole life, so its handlers never run concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace rebound::server::detail {

class IoPool {
 public:
  explicit IoPool(unsigned threads);
  ~IoPool();  ///< shutdown() with a short deadline if still running
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  /// The context the listener lives on.
  boost::asio::io_context& primary() { return *contexts_.front(); }
  /// The context for the next connection (round-robin).
  boost::asio::any_io_executor next_executor();

  void run();
  /// Lets the threads finish once no work is left, waiting at most
  /// `deadline` before stopping the contexts outright; then joins them.
  void shutdown(std::chrono::milliseconds deadline);

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<unsigned> next_{0};

  std::mutex mutex_;
  std::condition_variable finished_cv_;
  unsigned finished_ = 0;
};

}  // namespace rebound::server::detail
