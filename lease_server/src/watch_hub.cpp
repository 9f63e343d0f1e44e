// Lease watches: see watch_hub.hpp.
#include "watch_hub.hpp"

#include "k8s_status.hpp"

#include <rebound/lease/lease.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <unistd.h>

namespace rebound::lease::detail {

namespace {

using Clock = std::chrono::steady_clock;

// Longest the hub thread sleeps: bounds how late it notices anything it was
// not woken for.
constexpr std::chrono::seconds kMaxSleep{1};

const char* type_name(CommitEvent::Type type) {
  switch (type) {
    case CommitEvent::Type::added: return "ADDED";
    case CommitEvent::Type::modified: return "MODIFIED";
    case CommitEvent::Type::deleted: return "DELETED";
  }
  return "?";
}

// One line of a watch stream, framed as kube-apiserver frames JSON watches.
std::string event_line(std::string_view type, boost::json::object object) {
  boost::json::object event;
  event["type"] = type;
  event["object"] = std::move(object);
  return boost::json::serialize(event) + "\n";
}

std::string new_watch_id() {
  static std::atomic<std::uint64_t> next{1};
  return "w" + std::to_string(::getpid()) + "-" + std::to_string(next++);
}

std::optional<std::uint64_t> parse_version(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

server::ServerResponse stream_response(std::shared_ptr<server::ResponseStream> stream) {
  server::ServerResponse r;
  r.status = 200;
  r.headers = {{"content-type", "application/json"}, {"cache-control", "no-cache, private"}};
  r.stream = std::move(stream);
  return r;
}

}  // namespace

struct WatchHub::Wakeup {
  std::atomic<bool> reap{false};  // a stream ended: forget it
  std::condition_variable cv;
};

struct WatchHub::Watcher {
  std::string id;
  ObjectFilter filter;
  std::shared_ptr<server::ResponseStream> stream;
  std::uint64_t last_sent = 0;  // every matching change up to this version was sent
  bool bookmarks = false;
  Clock::time_point next_bookmark;
  Clock::time_point deadline;
};

WatchHub::WatchHub(WatchOptions options, std::uint64_t start_revision)
    : options_(std::move(options)),
      log_(options_.log_path),
      wakeup_(std::make_shared<Wakeup>()),
      floor_(start_revision),
      published_(start_revision),
      thread_([this] { run(); }) {}

WatchHub::~WatchHub() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_->cv.notify_all();
  thread_.join();
  for (auto& w : watchers_) w->stream->close();
}

std::uint64_t WatchHub::floor() const {
  std::lock_guard lock(mutex_);
  return floor_;
}

std::size_t WatchHub::watchers() const {
  std::lock_guard lock(mutex_);
  return std::count_if(watchers_.begin(), watchers_.end(), [](const auto& w) { return !w->stream->ended(); });
}

void WatchHub::publish(const CommitEvent& event) {
  const std::string key = event.ns + "/" + event.name;
  const std::string version = std::to_string(event.revision);
  const char* type = type_name(event.type);
  std::lock_guard lock(mutex_);
  log_.line(std::string("commit ") + type + " " + key + " " + version);
  window_.push_back(event);
  while (window_.size() > std::max<std::size_t>(options_.window, 1)) {
    floor_ = window_.front().revision;
    window_.pop_front();
  }
  published_ = event.revision;
  std::string line;
  for (auto& w : watchers_) {
    // A watch that started from a snapshot already holding this change.
    if (event.revision <= w->last_sent) continue;
    w->last_sent = event.revision;
    if (!w->filter.matches(event.object)) continue;
    if (line.empty()) line = event_line(type, event.object);
    if (w->stream->write(line)) log_.line(w->id + " " + type + " " + key + " " + version);
  }
}

server::ServerResponse WatchHub::watch(const ListQuery& query, const std::function<Snapshot()>& snapshot) {
  const bool from_state = query.resource_version.empty() || query.resource_version == "0";
  std::optional<std::uint64_t> from;
  if (!from_state) {
    from = parse_version(query.resource_version);
    if (!from) return status_failure(400, "BadRequest", "invalid resource version: " + query.resource_version);
  }
  auto w = std::make_unique<Watcher>();
  w->id = new_watch_id();
  w->filter = query.filter;
  w->stream = std::make_shared<server::ResponseStream>();
  w->bookmarks = query.allow_bookmarks;
  const auto now = Clock::now();
  w->next_bookmark = now + options_.bookmark_interval;
  w->deadline = now + query.timeout.value_or(options_.default_timeout);

  std::unique_lock lock(mutex_);
  if (from && *from < floor_) {
    // kube-apiserver answers a watch it cannot resume with one ERROR event.
    const auto status = failure_object(
        410, "Expired", "too old resource version: " + std::to_string(*from) + " (" + std::to_string(floor_) + ")");
    w->stream->write(event_line("ERROR", status));
    log_.line(w->id + " ERROR -/- " + std::to_string(*from));
    w->stream->close();
    return stream_response(std::move(w->stream));
  }
  const Snapshot state = snapshot();  // under mutex_: no publish() runs meanwhile
  if (from && *from > std::max(published_, state->revision)) {
    return status_timeout_too_large(*from, std::max(published_, state->revision));
  }
  if (from_state) {
    // A snapshot may hold a change whose publish() is still waiting for
    // mutex_: last_sent makes that publish() skip it.
    for (const auto& [key, lease] : state->leases) {
      if (!w->filter.matches(lease.object)) continue;
      w->stream->write(event_line("ADDED", lease.object));
      const auto& meta = lease.object.at("metadata").as_object();
      log_.line(w->id + " ADDED " + key.first + "/" + key.second + " " +
                std::string(meta.at("resourceVersion").as_string()));
    }
    w->last_sent = state->revision;
  } else {
    for (const auto& event : window_) {
      if (event.revision <= *from || !w->filter.matches(event.object)) continue;
      const char* type = type_name(event.type);
      w->stream->write(event_line(type, event.object));
      log_.line(w->id + " " + type + " " + event.ns + "/" + event.name + " " + std::to_string(event.revision));
    }
    w->last_sent = std::max(*from, published_);
  }
  std::weak_ptr<Wakeup> weak = wakeup_;
  w->stream->on_end([weak] {
    // Runs on whichever thread ended the stream, perhaps this hub's own
    // under mutex_: only flag and wake.
    if (auto wakeup = weak.lock()) {
      wakeup->reap = true;
      wakeup->cv.notify_all();
    }
  });
  auto stream = w->stream;
  watchers_.push_back(std::move(w));
  lock.unlock();
  wakeup_->cv.notify_all();  // a new deadline or bookmark time
  return stream_response(std::move(stream));
}

void WatchHub::send_bookmark(Watcher& w) {
  // Everything the watch matches up to last_sent has been sent; the window
  // may be ahead of it when the last changes did not match the filter.
  const std::uint64_t version = std::max(w.last_sent, published_);
  boost::json::object object;
  object["kind"] = "Lease";
  object["apiVersion"] = api_version;
  object["metadata"] = boost::json::object{{"resourceVersion", std::to_string(version)}, {"creationTimestamp", nullptr}};
  object["spec"] = boost::json::object{};
  if (w.stream->write(event_line("BOOKMARK", std::move(object))))
    log_.line(w.id + " BOOKMARK -/- " + std::to_string(version));
}

void WatchHub::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto wake_at = Clock::now() + kMaxSleep;
    for (const auto& w : watchers_) {
      wake_at = std::min(wake_at, w->deadline);
      if (w->bookmarks) wake_at = std::min(wake_at, w->next_bookmark);
    }
    wakeup_->cv.wait_until(lock, wake_at, [this] { return stopping_ || wakeup_->reap.load(); });
    if (stopping_) break;
    wakeup_->reap = false;
    const auto now = Clock::now();
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      Watcher& w = **it;
      if (w.stream->ended()) {  // the client went away, or the server ended the stream
        it = watchers_.erase(it);
        continue;
      }
      if (now >= w.deadline) {  // timeoutSeconds: a clean end, as the API server's
        w.stream->close();
        it = watchers_.erase(it);
        continue;
      }
      if (w.bookmarks && now >= w.next_bookmark) {
        send_bookmark(w);
        w.next_bookmark = now + options_.bookmark_interval;
      }
      ++it;
    }
  }
}

}  // namespace rebound::lease::detail
