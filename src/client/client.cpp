// The Client facade: validates the request, picks a shard, adapts the
// caller's completion (its executor, its cancellation slot) and runs the
// exchange there. Sync and callback calls are thin layers over async_send.
#include <rebound/client.hpp>

#include "client/shard.hpp"
#include "net/dialer.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <vector>

namespace rebound {

namespace asio = boost::asio;
using client::Clock;
using client::Exchange;
using client::Shard;

struct Client::Impl {
  explicit Impl(Options o) : options(std::move(o)) {
    if (options.io_threads == 0) options.io_threads = 1;
    if (options.max_conns_per_origin == 0) options.max_conns_per_origin = 1;
    if (options.max_attempts < 1) options.max_attempts = 1;
    tls = std::make_shared<net::TlsContext>(options);
    for (unsigned i = 0; i < options.io_threads; ++i)
      shards.push_back(std::make_unique<Shard>(options, tls, connection_ids));
  }

  Shard& pick() {
    return *shards[next.fetch_add(1, std::memory_order_relaxed) % shards.size()];
  }
  /// Validates `request` and runs it on `shard`; `completion` is invoked
  /// exactly once. `slot` (may be unconnected) cancels it.
  void launch(Shard& shard, Request request, client::Completion completion, asio::cancellation_slot slot);

  bool on_own_thread() const {
    for (const auto& s : shards)
      if (s->in_this_thread()) return true;
    return false;
  }

  Options options;
  std::shared_ptr<net::TlsContext> tls;
  std::atomic<std::uint64_t> connection_ids{0};
  std::vector<std::unique_ptr<Shard>> shards;
  std::atomic<std::size_t> next{0};
};

namespace {

// Parsing a URL costs allocations and a few hundred nanoseconds; callers that
// poll or load-test send the same URL again and again, so each thread keeps
// the last one it parsed.
Result<std::shared_ptr<const Url>> parse_url_cached(const std::string& text) {
  thread_local std::string last_text;
  thread_local std::shared_ptr<const Url> last_url;
  if (last_url && text == last_text) return last_url;
  auto url = parse_url(text);
  if (!url) return url.error();
  last_text = text;
  last_url = std::make_shared<const Url>(std::move(*url));
  return last_url;
}

// Checks what can be checked before any I/O: the URL and the method token.
Result<std::shared_ptr<const Url>> validate(const Request& r) {
  if (r.method().empty() ||
      r.method().find_first_of(" \t\r\n()<>@,;:\\\"/[]?={}") != std::string::npos)
    return Error(errc::invalid_request, "method \"" + r.method() + "\" is not a valid HTTP token");
  auto url = parse_url_cached(r.url());
  if (!url) return url.error();
  for (const auto& [name, value] : r.headers()) {
    if (name.empty() || name.find_first_of(" \t\r\n:") != std::string::npos)
      return Error(errc::invalid_request, "header name \"" + name + "\" is not a valid token");
    if (value.find_first_of("\r\n") != std::string::npos)
      return Error(errc::invalid_request, "header \"" + name + "\" has a line break in its value");
  }
  return url;
}

}  // namespace

Client::Client(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() { shutdown(); }

void Client::shutdown() {
  for (auto& s : impl_->shards) s->stop();
}

void Client::start(Request request, asio::any_completion_handler<void(Result<Response>)> handler) {
  Shard& shard = impl_->pick();
  // Deliver on the caller's executor (the shard's when it has none), always
  // posted so a completion never runs inside rebound's own call stack, keeping
  // that executor's work alive until then, and clear the cancellation slot
  // there, where the caller may emit on it.
  auto slot = asio::get_associated_cancellation_slot(handler);
  auto caller_ex = asio::prefer(asio::get_associated_executor(handler, shard.executor()),
                                asio::execution::outstanding_work.tracked);
  // (The exchange posts this to the shard first.)
  client::Completion completion(std::in_place_index<1>,
      [handler = std::move(handler), caller_ex = std::move(caller_ex), slot](Result<Response> r) mutable {
        caller_ex.execute([handler = std::move(handler), r = std::move(r), slot]() mutable {
          if (slot.is_connected()) slot.clear();
          std::move(handler)(std::move(r));
        });
      });
  impl_->launch(shard, std::move(request), std::move(completion), slot);
}

void Client::send_async(Request request, std::function<void(Result<Response>)> done) {
  // The callback has no executor of its own: it runs on the shard's thread,
  // kept as the std::function it is.
  Shard& shard = impl_->pick();
  impl_->launch(shard, std::move(request), client::Completion(std::in_place_index<0>, std::move(done)), {});
}

void Client::Impl::launch(Shard& shard, Request request, client::Completion completion,
                          asio::cancellation_slot slot) {
  const auto timeout = request.timeout().value_or(options.request_timeout);
  const bool wait_for_ready = request.wait_for_ready().value_or(options.wait_for_ready);
  auto url = validate(request);
  if (!url) {
    client::post_completion(shard.executor(), std::move(completion), url.error());
    return;
  }
  auto cancel_state = request.cancellation();
  auto ex = std::make_shared<Exchange>(shard.executor(), shard.completions(), std::move(request), std::move(*url),
                                       Clock::now() + timeout, wait_for_ready, std::move(completion));
  if (slot.is_connected() || cancel_state) {
    std::weak_ptr<Exchange> weak = ex;
    auto abort_on_shard = [weak, &shard] {
      asio::dispatch(shard.executor(), [weak, &shard] {
        if (auto e = weak.lock()) shard.abort(*e, errc::cancelled);
      });
    };
    if (slot.is_connected()) slot.assign([abort_on_shard](asio::cancellation_type) { abort_on_shard(); });
    if (cancel_state) cancel_state->on_cancel(abort_on_shard);
  }
  asio::dispatch(shard.executor(), [ex = std::move(ex), &shard]() mutable { shard.start(std::move(ex)); });
}

Result<Response> Client::send(Request request) {
  if (impl_->on_own_thread())
    return Error(errc::invalid_request,
                 "blocking send() called on the client's own I/O thread (would deadlock); use async_send");
  std::promise<Result<Response>> promise;
  auto future = promise.get_future();
  send_async(std::move(request), [&promise](Result<Response> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Counters Client::counters() const {
  Counters sum;
  for (const auto& s : impl_->shards) s->add_counters(sum);
  return sum;
}

std::string Client::dump_pools() const {
  std::string out;
  for (const auto& s : impl_->shards) out += s->dump();
  return out;
}

}  // namespace rebound
