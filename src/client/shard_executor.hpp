// The executor a shard runs on when the Client was given the caller's
// executor: a strand of it (so a multi-threaded io_context or thread_pool
// never runs two of the shard's handlers at once), plus the shard's own
// count of outstanding work.
//
// Why the count: with its own io_context a shard knows its last handler has
// run when run() returns, and only then frees its pools. On the caller's
// executor nobody returns from anything, and ~Client must not wait for
// handlers only the caller's thread can run. So every function handed to
// this executor, and every tracked copy of it (what Asio's I/O objects hold
// while an operation is pending), keeps a shared `life` alive; the Client
// holds one more reference until it is destroyed. When the last goes, so
// does the Client's state - exactly when an own io_context's run() would
// have returned. Untracked copies (members of the shard) hold it weakly, so
// they keep nothing alive; a function handed over after the state went is
// dropped unrun, as one posted to a destroyed io_context would be.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <utility>

namespace rebound::client {

class ShardExecutor {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;

  ShardExecutor(Strand strand, std::weak_ptr<void> life) : strand_(std::move(strand)), life_(std::move(life)) {}

  template <class F>
  void execute(F f) const {
    auto keep = work_ ? work_ : life_.lock();
    if (!keep) return;  // the shard is gone: as if posted to a destroyed io_context
    strand_.execute([f = std::move(f), keep = std::move(keep)]() mutable { f(); });
  }

  boost::asio::execution_context& query(boost::asio::execution::context_t) const noexcept {
    return boost::asio::query(strand_, boost::asio::execution::context);
  }
  static constexpr boost::asio::execution::blocking_t query(boost::asio::execution::blocking_t) noexcept {
    return boost::asio::execution::blocking.possibly;
  }
  ShardExecutor require(boost::asio::execution::blocking_t::never_t) const {
    return with(boost::asio::require(strand_, boost::asio::execution::blocking.never));
  }
  ShardExecutor prefer(boost::asio::execution::blocking_t::possibly_t) const {
    return with(boost::asio::prefer(strand_, boost::asio::execution::blocking.possibly));
  }
  ShardExecutor prefer(boost::asio::execution::outstanding_work_t::tracked_t) const {
    ShardExecutor e = *this;
    if (!e.work_) e.work_ = life_.lock();
    return e;
  }
  ShardExecutor prefer(boost::asio::execution::outstanding_work_t::untracked_t) const {
    ShardExecutor e = *this;
    e.work_.reset();
    return e;
  }

  bool running_in_this_thread() const noexcept { return strand_.running_in_this_thread(); }

  friend bool operator==(const ShardExecutor& a, const ShardExecutor& b) noexcept {
    return a.strand_ == b.strand_ && a.work_ == b.work_;
  }
  friend bool operator!=(const ShardExecutor& a, const ShardExecutor& b) noexcept { return !(a == b); }

 private:
  ShardExecutor with(Strand s) const {
    ShardExecutor e(std::move(s), life_);
    e.work_ = work_;
    return e;
  }

  Strand strand_;
  std::weak_ptr<void> life_;
  std::shared_ptr<void> work_;  // set in tracked copies
};

}  // namespace rebound::client
