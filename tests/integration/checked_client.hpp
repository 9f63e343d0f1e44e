// A Client for tests that makes invariant 4 (every request completes
// exactly once, before its deadline) observable in every test that uses it:
//  - blocking calls wait at most the request's own deadline plus a grace
//    of 250 ms (1.25 s in checked and sanitizer builds); a request that has
//    not completed by then fails the test with the pools' dump (a late
//    completion or a hang shows as a diagnostic, not as ctest's timeout);
//  - when it goes away it asserts that no request ever completed twice
//    (Counters::completions_dropped; checked builds abort on it too).
#pragma once

#include <rebound/rebound.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>

namespace rebound::testing {

class CheckedClient : public Client {
 public:
  /// How long past its deadline a request may take to complete before the
  /// test fails it (invariant 4 says "before its deadline"; this is the
  /// scheduling slack of a loaded 2-core machine, and a sanitizer's).
#ifdef REBOUND_CHECKED
  static constexpr std::chrono::milliseconds grace{1'250};
#else
  static constexpr std::chrono::milliseconds grace{250};
#endif

  explicit CheckedClient(Options options = {}) : Client(options), request_timeout_(options.request_timeout) {}
  ~CheckedClient() {
    // Everything still running is completed by the shutdown; count after it.
    shutdown();
    EXPECT_EQ(counters().completions_dropped, 0u) << "a request completed more than once";
  }

  /// Blocking send, bounded: see the file comment.
  Result<Response> send(Request request) {
    const auto bound = request.timeout().value_or(request_timeout_) + grace;
    auto done = std::make_shared<std::promise<Result<Response>>>();
    auto result = done->get_future();
    send_async(std::move(request), [done](Result<Response> r) { done->set_value(std::move(r)); });
    if (result.wait_for(bound) != std::future_status::ready) {
      ADD_FAILURE() << "request not completed " << grace.count() << " ms after its deadline (invariant 4)\n"
                    << dump_pools();
      return Error(errc::deadline_exceeded, "test: the client never completed this request");
    }
    return result.get();
  }
  Result<Response> get(std::string url) { return send(Request::get(std::move(url))); }

 private:
  std::chrono::milliseconds request_timeout_;
};

}  // namespace rebound::testing
