// The pool's credential step: each request to an origin with credentials
// gets them before it queues, and an answer of 401 to a credential that the
// source then replaces is sent once more with the new one.
#include "pool/origin_pool.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

namespace rebound::pool {

void OriginPool::fetch_credential(const std::optional<Credential>& rejected,
                                  std::function<void(Result<Credential>)> then) {
  // A source may answer inline (a fixed token), or later from its own
  // thread (an exec plugin). Inline answers continue at once; any other
  // comes back through the pool's executor, and only while the pool lives.
  struct Call {
    std::thread::id caller = std::this_thread::get_id();
    std::atomic<bool> returned{false};
  };
  auto call = std::make_shared<Call>();
  auto resume = while_alive(std::move(then));
  auto done = [call, resume, post = services_.post_from_any_thread](Result<Credential> c) mutable {
    if (!call->returned.load() && std::this_thread::get_id() == call->caller) {
      resume(std::move(c));
      return;
    }
    post([resume = std::move(resume), c = std::move(c)]() mutable { resume(std::move(c)); });
  };
  try {
    services_.credentials->fetch(rejected, std::move(done));
  } catch (const std::exception& e) {
    call->returned = true;
    resume(Error(errc::credentials_failed, std::string("the credential source threw: ") + e.what()));
    return;
  }
  call->returned = true;
}

std::uint64_t OriginPool::hold_for_credential(std::shared_ptr<Exchange> ex) {
  // Finished ones (a deadline, a cancel) leave here whenever one is added.
  std::erase_if(authenticating_, [](const Authenticating& a) { return a.ex->done(); });
  authenticating_.push_back({std::move(ex), ++fetches_});
  return fetches_;
}

std::shared_ptr<Exchange> OriginPool::take_from_credential(std::uint64_t fetch) {
  auto it = std::find_if(authenticating_.begin(), authenticating_.end(),
                         [&](const Authenticating& a) { return a.fetch == fetch; });
  if (it == authenticating_.end()) return nullptr;
  auto ex = std::move(it->ex);
  authenticating_.erase(it);
  return ex;
}

void OriginPool::authenticate(std::shared_ptr<Exchange> ex) {
  ex->mark_credential_fetched();
  const auto fetch = hold_for_credential(ex);
  fetch_credential(std::nullopt, [this, fetch](Result<Credential> c) {
    auto ex = take_from_credential(fetch);
    if (!ex || ex->done()) return;  // shutdown, its deadline or a cancel came first; or a second answer
    if (!c) {
      Error err = c.error();
      finish(ex, err.set_where(ex->describe() + ": " + err.where()).set_reached(progress::not_sent));
      return;
    }
    ex->apply_credential(*c);
    submit(ex);
  });
}

bool OriginPool::reauthenticate(const std::shared_ptr<Exchange>& ex, Response& answer) {
  if (answer.status() != 401 || !ex->credential() || ex->reauthenticated()) return false;
  // A body that cannot be sent again, or a 401 body already handed to the
  // caller's sink (it is held until now unless it was large), makes the 401
  // the answer.
  if (!ex->body_replayable() || ex->body_reached_sink()) return false;
  ex->mark_reauthenticated();
  const Credential rejected = *ex->credential();
  const auto fetch = hold_for_credential(ex);
  fetch_credential(rejected, [this, fetch, rejected, answer = std::move(answer)](Result<Credential> c) mutable {
    auto ex = take_from_credential(fetch);
    if (!ex || ex->done()) return;
    if (!c || *c == rejected || shut_down_) {
      // Nothing new to offer: the 401 is the answer.
      answer.attempts(ex->attempts());
      finish(ex, std::move(answer));
      return;
    }
    ex->apply_credential(*c);
    if (services_.counters) ++services_.counters->retries;
    if (observed())
      emit(EventKind::retry, answer.connection_id(), answer.protocol(), {},
           ex->describe() + ": 401 to the credential sent; sending once more with a refreshed one");
    waiting_.push_front(ex);
    // Deferred: an inline answer lands here inside the connection's own
    // report of the 401 (nghttp2's on_stream_close).
    pump_soon();
  });
  return true;
}

}  // namespace rebound::pool
