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
// while an operation is pending), keeps a shared Life alive; the Client
// holds one more reference until it is destroyed. When the last goes, so
// does the Client's state - exactly when an own io_context's run() would
// have returned. Untracked copies (members of the shard) hold it weakly, so
// they keep nothing alive; a function handed over after the state went is
// dropped unrun, as one posted to a destroyed io_context would be.
//
// Why one pointer: Asio's any_io_executor keeps an executor of up to 24
// bytes in place and copies a larger one to the heap, and it copies the
// executor for every posted handler and pending operation. So a copy is a
// shared_ptr to the Core every copy shares (both strands: as made, and
// never-blocking) and two flags. An untracked copy owns the Core alone; a
// tracked one shares Life's ownership (an aliasing pointer to the Core,
// which Life keeps), which is what keeps the Client's state alive.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <utility>
#include <vector>

namespace rebound::client {

class ShardExecutor {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;

  /// What every copy of one shard's executor shares.
  struct Core : std::enable_shared_from_this<Core> {
    Core(Strand s, std::weak_ptr<void> l)
        : strand(std::move(s)), never(boost::asio::require(strand, boost::asio::execution::blocking.never)),
          life(std::move(l)) {}
    Strand strand;             // blocking.possibly, as made
    Strand never;              // the same strand, blocking.never
    std::weak_ptr<void> life;  // the Life below
  };
  /// What outstanding work keeps alive: the Client's state (moved into
  /// `owner` by ~Client) and its shards' Cores.
  struct Life {
    std::vector<std::shared_ptr<const Core>> cores;
    std::shared_ptr<void> owner;  // destroyed first: the state, then the Cores it used
  };

  /// An untracked executor on `strand`; `life` keeps its Core from now on.
  ShardExecutor(Strand strand, const std::shared_ptr<Life>& life)
      : core_(std::make_shared<const Core>(std::move(strand), life)) {
    life->cores.push_back(core_);
  }

  template <class F>
  void execute(F f) const {
    std::shared_ptr<const void> keep = tracked_ ? std::shared_ptr<const void>(core_) : core_->life.lock();
    if (!keep) return;  // the shard is gone: as if posted to a destroyed io_context
    (never_ ? core_->never : core_->strand).execute([f = std::move(f), keep = std::move(keep)]() mutable { f(); });
  }

  boost::asio::execution_context& query(boost::asio::execution::context_t) const noexcept {
    return boost::asio::query(core_->strand, boost::asio::execution::context);
  }
  boost::asio::execution::blocking_t query(boost::asio::execution::blocking_t) const noexcept {
    return never_ ? boost::asio::execution::blocking_t(boost::asio::execution::blocking.never)
                  : boost::asio::execution::blocking_t(boost::asio::execution::blocking.possibly);
  }
  ShardExecutor require(boost::asio::execution::blocking_t::never_t) const {
    ShardExecutor e = *this;
    e.never_ = true;
    return e;
  }
  ShardExecutor prefer(boost::asio::execution::blocking_t::possibly_t) const {
    ShardExecutor e = *this;
    e.never_ = false;
    return e;
  }
  ShardExecutor prefer(boost::asio::execution::outstanding_work_t::tracked_t) const {
    if (tracked_) return *this;
    auto life = core_->life.lock();
    if (!life) return *this;  // the state is gone: nothing to keep
    ShardExecutor e = *this;
    e.core_ = std::shared_ptr<const Core>(std::move(life), core_.get());  // Life owns the Core too
    e.tracked_ = true;
    return e;
  }
  ShardExecutor prefer(boost::asio::execution::outstanding_work_t::untracked_t) const {
    if (!tracked_) return *this;
    ShardExecutor e = *this;
    e.core_ = core_->shared_from_this();
    e.tracked_ = false;
    return e;
  }

  bool running_in_this_thread() const noexcept { return core_->strand.running_in_this_thread(); }

  friend bool operator==(const ShardExecutor& a, const ShardExecutor& b) noexcept {
    return a.core_.get() == b.core_.get() && a.tracked_ == b.tracked_ && a.never_ == b.never_;
  }
  friend bool operator!=(const ShardExecutor& a, const ShardExecutor& b) noexcept { return !(a == b); }

 private:
  std::shared_ptr<const Core> core_;
  bool tracked_ = false;  // core_ shares Life's ownership
  bool never_ = false;    // runs on core_->never
};

static_assert(sizeof(ShardExecutor) <= 24, "any_io_executor keeps up to 24 bytes in place; more goes to the heap");

}  // namespace rebound::client
