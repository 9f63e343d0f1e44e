// The watcher's loop: list, watch, resume or re-list; see watcher.hpp.
// The stream's lines are cut on the I/O thread (the body sink must be
// quick) and handed through a bounded queue (watch_queue.hpp) to the run()
// thread, which parses and delivers them, so a slow callback never stalls
// the client.
#include <rebound/kube/watcher.hpp>

#include "watch_event.hpp"
#include "watch_queue.hpp"

#include <rebound/line_splitter.hpp>

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <condition_variable>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <variant>

namespace rebound::kube {

const char* to_string(WatchEvent::Type t) noexcept {
  switch (t) {
    case WatchEvent::Type::added: return "ADDED";
    case WatchEvent::Type::modified: return "MODIFIED";
    case WatchEvent::Type::deleted: return "DELETED";
    case WatchEvent::Type::bookmark: return "BOOKMARK";
  }
  return "UNKNOWN";
}

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

using detail::StreamEnd;
using detail::StreamItem;

// How one watch request ended, as the loop acts on it.
enum class WatchEnd : std::uint8_t {
  clean,    ///< the server ended the stream (timeoutSeconds, shutdown): resume now
  overflowed,  ///< the callbacks fell max_queued_bytes behind: resume now
  relist,   ///< a watch from "0" ended inside its initial events: list now
  too_large,  ///< the version is ahead of the server's: back off, then list
  expired,  ///< 410: the version left the window: list again
  failed,   ///< anything else: back off, then resume
  stopped,  ///< stop() was called
};

// The first bytes of a watch answer's body, kept on the I/O thread: an error
// answer's Status object is read from them (the body goes to the sink, not
// to the Response), even one without the final newline the splitter needs.
class BodyStart {
 public:
  void keep(std::string_view chunk) {
    std::lock_guard lock(mutex_);
    if (text_.size() < kept) text_.append(chunk.substr(0, kept - text_.size()));
  }
  std::string take() {
    std::lock_guard lock(mutex_);
    return std::move(text_);
  }

 private:
  static constexpr std::size_t kept = 4096;
  std::mutex mutex_;
  std::string text_;
};

// What the run thread learnt from one stream's lines.
struct StreamSeen {
  bool delivered = false;
  std::optional<detail::WatchError> error;  ///< an ERROR event
  std::optional<std::string> bad_line;      ///< why a line was not an event
  bool over() const { return error || bad_line; }  ///< nothing more is delivered
};

// A line that is not an event may be the start of an error answer (its
// status is not known until the answer ends): the answer gets this long to
// end by itself before it is cancelled.
constexpr auto error_answer_grace = std::chrono::seconds(1);

}  // namespace

struct Watcher::Impl {
  Impl(Client& c, WatcherOptions o)
      : client(c), options(std::move(o)), queue(options.max_queued_bytes), rv(options.resource_version) {
    auto u = boost::urls::parse_absolute_uri(options.collection_url);
    if (!u || (u->scheme() != "http" && u->scheme() != "https"))
      throw std::invalid_argument("Watcher: collection_url \"" + options.collection_url + "\" is not an http(s) URL");
  }

  Client& client;
  const WatcherOptions options;
  std::thread thread;
  detail::WatchQueue queue;

  mutable std::mutex mutex;  // guards everything below
  std::condition_variable wake;
  bool stopping = false;
  std::string rv;
  WatcherStats stats;
  Cancellation current;  // the request in flight

  // The run thread's alone.
  std::mt19937_64 random{std::random_device{}()};
  int failures_in_a_row = 0;
  bool last_watch_lived = false;  ///< the last watch delivered something or lasted a while
  // kube-apiserver starts a watch at "0" with an ADDED event per object, in
  // key order, not version order: those are not compared with each other,
  // and until an event of another kind shows they are over, the stream
  // cannot be resumed from a version (an object not sent yet may be older
  // than the last one delivered).
  bool in_initial_events = false;
  bool initial_events_delivered = false;

  // timeoutSeconds for the next watch: watch_timeout * (1 + U[0, 1)), as
  // client-go's reflector asks, so that watchers started together (a fleet
  // after a rollout) do not all reconnect in the same second.
  std::chrono::seconds next_watch_timeout() {
    const auto base = options.watch_timeout.count();
    return std::chrono::seconds(base + std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(base - 1, 0))(random));
  }

  std::string url(bool watch, std::chrono::seconds timeout = {}) const {
    boost::urls::url u(options.collection_url);
    auto params = u.params();
    if (!options.label_selector.empty()) params.set("labelSelector", options.label_selector);
    if (!options.field_selector.empty()) params.set("fieldSelector", options.field_selector);
    if (watch) {
      params.set("watch", "true");
      params.set("resourceVersion", resource_version());
      params.set("allowWatchBookmarks", "true");
      params.set("timeoutSeconds", std::to_string(timeout.count()));
    }
    return std::string(u.buffer());
  }

  std::string resource_version() const {
    std::lock_guard lock(mutex);
    return rv;
  }

  void status(const std::string& line) const {
    if (options.on_status) options.on_status(line);
  }

  // A fresh cancellation for the next request, or none when stopping.
  std::optional<Cancellation> begin_request() {
    std::lock_guard lock(mutex);
    if (stopping) return std::nullopt;
    current = Cancellation();
    queue.restart();
    return current;
  }

  bool stopped() const {
    std::lock_guard lock(mutex);
    return stopping;
  }

  // Waits the backoff for the failures so far (full jitter), or until stop().
  void back_off() {
    ++failures_in_a_row;
    const int step = std::min(failures_in_a_row - 1, 16);
    const auto cap = std::min<milliseconds::rep>(options.backoff_max.count(), options.backoff_base.count() << step);
    const milliseconds wait(std::uniform_int_distribution<milliseconds::rep>(cap / 2, cap)(random));
    status("backing off " + std::to_string(wait.count()) + " ms after " + std::to_string(failures_in_a_row) +
           " failure(s)");
    std::unique_lock lock(mutex);
    wake.wait_for(lock, wait, [&] { return stopping; });
  }

  bool list() {
    auto cancel = begin_request();
    if (!cancel) return false;
    auto r = client.send(Request::get(url(false)).header("accept", "application/json").timeout(options.list_timeout)
                             .cancellation(*cancel));
    if (!r) return fail("list failed: " + r.error().message());
    if (r->status() != 200) return fail("list failed: " + detail::describe_status_body(r->status(), r->body()));
    boost::system::error_code ec;
    json::value doc = json::parse(r->body(), ec);
    const json::object* o = !ec && doc.is_object() ? &doc.get_object() : nullptr;
    const json::value* meta = o ? o->if_contains("metadata") : nullptr;
    const json::value* rv_value = meta && meta->is_object() ? meta->get_object().if_contains("resourceVersion") : nullptr;
    const json::value* items_value = o ? o->if_contains("items") : nullptr;
    if (!rv_value || !rv_value->is_string() || (items_value && !items_value->is_array() && !items_value->is_null()))
      return fail("list failed: the answer is not a list with metadata.resourceVersion");
    std::vector<json::object> list_items;
    if (items_value && items_value->is_array())
      for (const auto& item : items_value->get_array())
        if (item.is_object()) list_items.push_back(item.get_object());
    const std::string list_rv(rv_value->get_string());
    {
      std::lock_guard lock(mutex);
      rv = list_rv;
      ++stats.lists;
    }
    // The streak of failures is not over yet: only a watch that lives ends
    // it (a list followed by a 410 at once, again and again, is one).
    if (options.on_list) options.on_list(list_items, list_rv);
    return true;
  }

  bool fail(const std::string& why) {
    {
      std::lock_guard lock(mutex);
      ++stats.failures;
    }
    status(why);
    return false;
  }

  // One watch request, from its start to its end, delivering what it brings.
  WatchEnd watch() {
    auto cancel = begin_request();
    if (!cancel) return WatchEnd::stopped;
    {
      std::lock_guard lock(mutex);
      ++stats.watches;
    }
    auto cancel_on_overflow = *cancel;
    auto splitter = std::make_shared<LineSplitter>([this, cancel_on_overflow](std::string_view line) mutable {
      if (!queue.push_line(line)) cancel_on_overflow.cancel();
    });
    auto body_start = std::make_shared<BodyStart>();
    const auto timeout = next_watch_timeout();
    Request req = Request::get(url(true, timeout))
                      .header("accept", "application/json")
                      .timeout(std::chrono::duration_cast<milliseconds>(timeout) + std::chrono::seconds(30))
                      .body_idle_timeout(options.idle_timeout)
                      .cancellation(*cancel)
                      .on_body([splitter, body_start, cancel_on_overflow](std::string_view chunk) mutable {
                        body_start->keep(chunk);
                        if (!splitter->feed(chunk)) cancel_on_overflow.cancel();
                      });
    const auto started = Clock::now();
    in_initial_events = resource_version() == "0";
    initial_events_delivered = false;
    client.send_async(std::move(req), [this, body_start](Result<Response> r) {
      queue.push_end(StreamEnd{std::move(r), body_start->take()});
    });

    StreamSeen seen;
    std::optional<Clock::time_point> cancel_at;
    for (;;) {
      std::optional<StreamItem> next = cancel_at ? queue.pop_until(*cancel_at) : queue.pop();
      if (!next) {  // not an answer that ends by itself: a broken stream
        cancel->cancel();
        cancel_at.reset();
        continue;
      }
      StreamItem& item = *next;
      if (auto* end = std::get_if<StreamEnd>(&item)) {
        const bool at_once = Clock::now() - started < std::chrono::seconds(1);
        last_watch_lived = seen.delivered || !at_once;
        if (last_watch_lived) failures_in_a_row = 0;
        const WatchEnd how = classify(*end, seen);
        if (in_initial_events && initial_events_delivered && how != WatchEnd::stopped && how != WatchEnd::expired) {
          status("the watch from version 0 ended before its initial events were known complete: listing");
          return WatchEnd::relist;
        }
        return how;
      }
      if (seen.over()) continue;  // the stream is ending or being cancelled: drain it
      auto parsed = detail::parse_watch_line(std::get<std::string>(item));
      if (auto* e = std::get_if<detail::WatchError>(&parsed)) {
        seen.error = std::move(*e);
        cancel->cancel();
        continue;
      }
      if (auto* b = std::get_if<detail::BadLine>(&parsed)) {
        seen.bad_line = std::move(b->why);
        cancel_at = Clock::now() + error_answer_grace;
        continue;
      }
      seen.delivered |= deliver(std::get<WatchEvent>(parsed));
    }
  }

  WatchEnd expired() {
    std::lock_guard lock(mutex);
    ++stats.expired;
    return WatchEnd::expired;
  }

  WatchEnd classify(const StreamEnd& end, const StreamSeen& seen) {
    const Result<Response>& r = end.result;
    if (stopped()) return WatchEnd::stopped;
    // An error answer first: its status says more than its body's lines.
    if (r && r->status() != 200) {
      if (r->status() == 410) return expired();
      const auto status = detail::parse_status_body(end.body_start);
      fail("watch failed: " + detail::describe_status_body(r->status(), end.body_start));
      return status && status->too_large_resource_version ? WatchEnd::too_large : WatchEnd::failed;
    }
    if (seen.error && seen.error->code == 410) return expired();
    if (seen.error && seen.error->too_large_resource_version)
      return fail("watch error " + std::to_string(seen.error->code) + ": " + seen.error->message), WatchEnd::too_large;
    if (seen.error)
      return fail("watch error " + std::to_string(seen.error->code) + ": " + seen.error->message), WatchEnd::failed;
    if (seen.bad_line) return fail("bad watch event: " + *seen.bad_line), WatchEnd::failed;
    if (queue.overflowed()) {
      status("the callbacks fell " + std::to_string(options.max_queued_bytes) +
             " bytes behind the stream (max_queued_bytes): it was cut; resuming from " + resource_version());
      return WatchEnd::overflowed;
    }
    if (!r) return fail("watch from " + resource_version() + " ended: " + r.error().message()), WatchEnd::failed;
    // A stream that ends at once with nothing in it is a server refusing in
    // disguise: a failure, so that a loop of them backs off.
    if (!last_watch_lived) return fail("watch ended at once with nothing in it"), WatchEnd::failed;
    status("watch ended by the server; resuming from " + resource_version());
    return WatchEnd::clean;
  }

  // Delivers `ev` unless it is not newer than what was delivered; true when delivered.
  bool deliver(WatchEvent& ev) {
    const bool initial = in_initial_events && ev.type == WatchEvent::Type::added;
    if (!initial) in_initial_events = false;
    {
      std::lock_guard lock(mutex);
      if (initial) {
        // rv becomes the newest of them: where the stream resumes once they are over.
        initial_events_delivered = true;
        if (!detail::not_newer(ev.resource_version, rv)) rv = ev.resource_version;
      } else if (detail::not_newer(ev.resource_version, rv)) {
        // A bookmark at the version we hold is news of nothing, not a repeat.
        if (ev.type != WatchEvent::Type::bookmark) ++stats.duplicates_dropped;
        return false;
      } else {
        rv = ev.resource_version;
      }
      ++stats.events;
      if (ev.type == WatchEvent::Type::bookmark) ++stats.bookmarks;
    }
    if (options.on_event) options.on_event(ev);
    return true;
  }

  void run() {
    bool need_list = resource_version().empty();
    bool first_watch = true;
    while (!stopped()) {
      if (need_list) {
        if (!list()) {
          if (!stopped()) back_off();
          continue;
        }
        need_list = false;
      } else if (!first_watch) {
        status("resuming the watch from " + resource_version());
      }
      first_watch = false;
      switch (watch()) {
        case WatchEnd::clean:
        case WatchEnd::overflowed: break;
        case WatchEnd::relist: need_list = true; break;
        case WatchEnd::too_large:
          // As client-go's reflector: the server (a lagging one, an etcd
          // restored from a backup) has not reached our version, and a
          // list - a consistent read, no resourceVersion - gives its
          // current one; backed off, so a server behind its own lists does
          // not get a tight loop.
          status("version " + resource_version() + " is ahead of the server's (too large): listing again");
          need_list = true;
          back_off();
          break;
        case WatchEnd::expired:
          status("version " + resource_version() + " is gone from the server's window (410): listing again");
          need_list = true;
          // A watch that fell out of the window after a while lists at
          // once; one refused at once, again and again, backs off as
          // client-go's reflector does.
          if (!last_watch_lived) back_off();
          break;
        case WatchEnd::failed: back_off(); break;
        case WatchEnd::stopped: return;
      }
    }
  }
};

Watcher::Watcher(Client& client, WatcherOptions options) : impl_(std::make_unique<Impl>(client, std::move(options))) {}

Watcher::~Watcher() {
  stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Watcher::run() { impl_->run(); }

void Watcher::start() {
  impl_->thread = std::thread([this] { impl_->run(); });
}

void Watcher::stop() {
  Cancellation c;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->stopping = true;
    c = impl_->current;
  }
  impl_->wake.notify_all();
  c.cancel();
}

std::string Watcher::resource_version() const { return impl_->resource_version(); }

WatcherStats Watcher::stats() const {
  std::lock_guard lock(impl_->mutex);
  WatcherStats s = impl_->stats;
  s.overflows = impl_->queue.overflows();
  s.queue_peak_bytes = impl_->queue.peak_bytes();
  return s;
}

}  // namespace rebound::kube
