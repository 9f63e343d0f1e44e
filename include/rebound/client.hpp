// rebound::Client: the facade. Sync, callback and co_await entry points over
// one pooled, retrying, multiplexing HTTP/1.1 + HTTP/2 engine.
//
//     rebound::Client client;
//     auto res = client.get("https://example.com/");
//     if (!res) std::cerr << res.error().message() << "\n";
//     else std::cout << res->status() << " " << res->body() << "\n";
//
// Errors: every call completes exactly once, with a Response (any HTTP
// status, 4xx/5xx included) or a rebound::Error saying what failed, where,
// and how far the request got (see <rebound/error.hpp>). Nothing throws
// except the constructor (an unreadable CA file).
//
// Exceptions from your code: a Request's body sink or body source that
// throws fails that request (and only it) with errc::callback_threw, whose
// message says which callback threw and what; it is not resent. Over
// HTTP/2 the stream is reset and the connection goes on serving its other
// streams; over HTTP/1.1 the connection, mid-message, is closed. A
// completion that throws:
//  - on an executor of yours (co_await, a token bound to your executor or
//    strand): the exception leaves that executor's run(), as any Asio
//    operation's would - your code, your thread, your handling;
//  - where rebound runs it (a send_async callback, on an I/O thread; a
//    token with no executor, on Asio's system executor): nobody's run() is
//    there to receive it, and letting it out would end the process and
//    every request with it. It is caught, counted in
//    Counters::callbacks_threw, and otherwise ignored; catch in your
//    callback what you mean to handle.
// Event hooks (Options::on_event) that throw are ignored likewise.
//
// Thread safety: a Client may be shared by any number of threads; every
// member is thread-safe. Callbacks and event hooks may send and cancel
// requests, and call shutdown(). Two ways to run it:
//
//  - Its own threads (Client(Options)): Options::io_threads I/O threads,
//    each with an io_context of its own; each origin lives on one of them.
//    Callbacks run on those threads unless the completion token names
//    another executor (co_await resumes on the coroutine's executor). Do
//    not call the blocking `send`/`get` from inside a callback: it returns
//    errc::invalid_request instead of deadlocking.
//
//  - Your executor (Client(executor, Options)): no thread of its own. Its
//    pools, timers and sockets run on `executor` (an io_context's, a
//    thread_pool's, any Asio I/O executor), each through a strand of it, so
//    whether one thread or many run your executor, no two of the Client's
//    handlers for one origin ever run at once. Options::io_threads is then
//    the number of strands (default 1: one per Client); origins are spread
//    over them as over threads. One strand costs one uncontended lock per
//    handler and suits one thread (the h2load-like event loop); with N
//    threads running many origins, io_threads = N lets them run in
//    parallel. A request makes no cross-thread hop: send_async callbacks
//    run inside the strand, and async_send with a token that has no
//    executor of its own completes on `executor` (like any Asio I/O object).
//    While the Client exists it keeps work outstanding on `executor` (a
//    1 s timer), so io_context::run() does not return before it is gone.
//    The blocking `send`/`get` from a thread that is running `executor`
//    right now (inside any of its handlers; recognised for io_context and
//    thread_pool executors and their strands) returns errc::invalid_request
//    instead of deadlocking; from other threads it blocks as usual.
//
// Lifecycle: shutdown() (or destroying the Client) completes every
// outstanding request exactly once with errc::client_shut_down (or the
// error it already had), closes every connection, and from then on every
// new request fails at once with client_shut_down. With its own threads
// the destructor waits for them; destroyed from one of its own callbacks,
// it returns at once and a helper thread finishes the shutdown. On your
// executor the destructor never waits (it may run on the thread that would
// have to run what it waits for): it starts the shutdown and returns, and
// the shutdown's handlers - the client_shut_down completions, the closes -
// run on `executor`, which you must keep running until they have (or
// destroy it: its pending handlers are then destroyed unrun, as with any
// Asio object; completions not yet delivered are then lost). The Client's
// state is freed by the last of those handlers. Destroying the Client from
// inside one of its own completions is safe in both modes. As for any Asio
// I/O object, `executor`'s context (the io_context, the thread_pool) must
// outlive the Client.
#pragma once

#include <rebound/error.hpp>
#include <rebound/export.hpp>
#include <rebound/options.hpp>
#include <rebound/request.hpp>
#include <rebound/response.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>

#include <functional>
#include <memory>
#include <string>

namespace rebound {

class REBOUND_API Client {
 public:
  /// Starts the I/O threads (Options::io_threads). Throws rebound::Exception when Options are
  /// unusable (e.g. an unreadable tls.ca_file).
  explicit Client(Options options = {});
  /// Runs on `executor` instead: no I/O thread of its own, io_threads
  /// strands of `executor` (see "Your executor" above). Throws like the
  /// other constructor.
  explicit Client(boost::asio::any_io_executor executor, Options options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Blocking: sends and waits for the result.
  Result<Response> send(Request request);
  /// Blocking GET.
  Result<Response> get(std::string url) { return send(Request::get(std::move(url))); }

  /// Callback: `done` is invoked exactly once, on an I/O thread (on your
  /// executor: inside the Client's strand of it).
  void send_async(Request request, std::function<void(Result<Response>)> done);

  /// Asio-style: any completion token (`boost::asio::use_awaitable`,
  /// `deferred`, a callback...). Completes with `Result<Response>`; supports
  /// per-operation cancellation (terminal/partial/total all cancel).
  template <class CompletionToken>
  auto async_send(Request request, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(Result<Response>)>(
        [this](auto handler, Request request) {
          start(std::move(request), boost::asio::any_completion_handler<void(Result<Response>)>(
                                        std::move(handler)));
        },
        token, std::move(request));
  }

  /// The executor given to the constructor; with its own threads, the
  /// first I/O thread's (where a single-threaded Client's callbacks run).
  boost::asio::any_io_executor get_executor() const;

  /// Counters summed over all I/O threads.
  Counters counters() const;
  /// A readable dump of every origin pool (for debugging and -v output).
  /// From a callback, an I/O thread that does not answer within 2 s (it may
  /// be waiting for this one) is left out with a note, never waited for;
  /// on your executor, so is a strand that does not answer because the
  /// calling thread is the one that would run it (outside that strand).
  std::string dump_pools() const;
  /// Fails outstanding requests with client_shut_down and closes every
  /// connection; later requests fail the same way, at once (their
  /// callbacks run on Asio's system executor, or the token's executor).
  /// Idempotent; callable from any thread, callbacks included (then it
  /// does not wait for the I/O thread it runs on). On your executor it
  /// never waits: the shutdown runs there.
  void shutdown();

 private:
  void start(Request request, boost::asio::any_completion_handler<void(Result<Response>)> handler);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rebound
