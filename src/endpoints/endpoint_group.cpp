// EndpointGroup: the facade over the Client - where a request's URL goes,
// one attempt at a time on the chosen endpoint's pool, the outcome fed to
// that endpoint's health, the journey's next step acted on (at once, after
// a timer, or done), and the group's events. The decisions are in
// endpoint_health.* and endpoint_journey.*; see endpoint_group.hpp.
#include <rebound/endpoint_group.hpp>
#include <rebound/url.hpp>

#include "endpoints/endpoint_health.hpp"
#include "endpoints/endpoint_journey.hpp"
#include "retry/retry.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <random>

namespace rebound {

const char* to_string(EndpointState s) noexcept {
  switch (s) {
    case EndpointState::healthy: return "healthy";
    case EndpointState::skipped: return "skipped";
    case EndpointState::probing: return "probing";
  }
  return "unknown";
}

const char* to_string(EndpointEvent::Kind k) noexcept {
  switch (k) {
    case EndpointEvent::Kind::state_changed: return "state_changed";
    case EndpointEvent::Kind::moved: return "moved";
    case EndpointEvent::Kind::served: return "served";
  }
  return "unknown";
}

std::vector<std::string> split_endpoint_list(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

using endpoints::Clock;
using endpoints::Signal;
using Handler = boost::asio::any_completion_handler<void(Result<Served>)>;

struct EndpointGroup::Impl {
  Impl(Client& c, EndpointGroupOptions o, std::size_t n)
      : client(c), options(std::move(o)), table(n), budget(options.retry_budget_ratio, options.retry_budget_min_per_second),
        served(n, 0) {}

  Client& client;
  EndpointGroupOptions options;
  std::vector<std::string> given, bases, origins;
  mutable std::mutex m;  // guards table, budget, random, served
  endpoints::EndpointTable table;
  retry::Budget budget;
  std::mt19937_64 random{std::random_device{}()};
  std::vector<std::uint64_t> served;

  endpoints::SkipBackoff backoff() const { return {options.backoff_base, options.backoff_max}; }
  double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }

  /// Feeds `s` to endpoint `i` (lock held); the state change, if any, joins `out`.
  void feed(std::size_t i, Signal s, Clock::time_point started, const error_code& why, std::string detail,
            std::vector<EndpointEvent>& out) {
    const auto now = Clock::now();
    const EndpointState before = table.at(i).on(s, now, started, backoff(), draw());
    const EndpointState after = table.at(i).state();
    if (before == after) return;
    EndpointEvent e;
    e.kind = EndpointEvent::Kind::state_changed;
    e.time = now;
    e.endpoint = given[i];
    e.index = i;
    e.from = before;
    e.to = after;
    e.error = why;
    e.detail = std::move(detail);
    if (after == EndpointState::skipped) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(table.at(i).skipped_until() - now);
      e.detail += (e.detail.empty() ? "" : "; ") + std::string("skipped for ") + std::to_string(left.count()) + " ms";
    }
    out.push_back(std::move(e));
  }

  void emit(std::vector<EndpointEvent>& events) const {
    if (!options.on_event) return;
    for (const auto& e : events) {
      try {
        options.on_event(e);
      } catch (...) {  // a hook that throws is ignored, as the Client's are
      }
    }
  }

  std::optional<std::size_t> find(std::string_view endpoint) const {
    for (std::size_t i = 0; i < given.size(); ++i)
      if (given[i] == endpoint || bases[i] == endpoint || origins[i] == endpoint) return i;
    return std::nullopt;
  }
};

namespace endpoints {

// One request on its way: the request as given, its journey, the attempt
// on the wire, and its caller's completion.
struct Trip {
  Trip(std::shared_ptr<EndpointGroup::Impl> g, Request r, std::string t, Journey j,
       std::function<void(Result<Served>)> d)
      : group(std::move(g)), request(std::move(r)), target(std::move(t)), journey(std::move(j)), done(std::move(d)) {}
  std::shared_ptr<EndpointGroup::Impl> group;
  Request request;
  std::string target;  // appended to the endpoint's base
  endpoints::Journey journey;
  std::function<void(Result<Served>)> done;  // runs where it is called, or posted while starting
  std::atomic<bool> starting = true;         // still inside EndpointGroup::launch
  std::size_t index = 0;
  Clock::time_point started{};
  std::optional<boost::asio::steady_timer> timer;
};

}  // namespace endpoints

namespace {

using endpoints::Trip;

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void attempt(const std::shared_ptr<Trip>& trip);

void complete(const std::shared_ptr<Trip>& trip, Result<Served> result) {
  auto done = std::move(trip->done);
  // Never inside the caller's own call to send: posted to the Client's executor.
  if (trip->starting)
    boost::asio::post(trip->group->client.get_executor(), [done = std::move(done), r = std::move(result)]() mutable {
      done(std::move(r));
    });
  else
    done(std::move(result));
}

void fail(const std::shared_ptr<Trip>& trip, Error e, const std::string& reason) {
  auto& g = *trip->group;
  std::string tried;
  for (const std::size_t i : trip->journey.trail()) tried += (tried.empty() ? "" : ", ") + g.given.at(i);
  if (tried.empty()) tried = "none";
  e.set_where(e.where() + " (endpoint group, attempts on: " + tried + "; " + reason + ")")
      .set_attempts(trip->journey.attempts());
  complete(trip, std::move(e));
}

void next_step(const std::shared_ptr<Trip>& trip, const endpoints::Journey::Next& next, const Error& why) {
  auto& g = *trip->group;
  using What = endpoints::Journey::What;
  if (next.what != What::complete && !next.free) {
    bool ok;
    {
      std::lock_guard lock(g.m);
      ok = g.budget.try_spend(Clock::now());
    }
    if (!ok) return fail(trip, why, next.reason + "; retry budget exhausted");
  }
  if (next.what == What::complete) return fail(trip, why, next.reason);
  std::vector<EndpointEvent> events(1);
  auto& e = events.front();
  e.kind = EndpointEvent::Kind::moved;
  e.time = Clock::now();
  e.endpoint = g.given[trip->index];
  e.index = trip->index;
  e.error = why.code();
  e.detail = trip->request.method() + " " + trip->target + ": " + why.message() + " -> " + next.reason;
  g.emit(events);
  if (next.what == What::send_now) return attempt(trip);
  trip->timer.emplace(g.client.get_executor());
  trip->timer->expires_after(next.delay);
  trip->timer->async_wait([trip](const boost::system::error_code&) { attempt(trip); });
}

void on_result(const std::shared_ptr<Trip>& trip, Result<Response> result) {
  auto& g = *trip->group;
  const auto now = Clock::now();
  std::vector<EndpointEvent> events;
  if (result) {
    {
      std::lock_guard lock(g.m);
      g.feed(trip->index, Signal::answered, trip->started, {}, "answered", events);
      ++g.served[trip->index];
    }
    g.emit(events);
    std::optional<std::chrono::milliseconds> retry_after;
    if (const auto h = result->headers().get("retry-after"))
      retry_after = retry::parse_retry_after(*h, std::chrono::system_clock::now());
    const auto next = trip->journey.after_answer(result->status(), retry_after, now);
    if (next.what != endpoints::Journey::What::complete) {
      const Error busy(errc::refused_by_server, "HTTP " + std::to_string(result->status()) + " with Retry-After",
                       progress::refused);
      return next_step(trip, next, busy);
    }
    EndpointEvent served;
    served.kind = EndpointEvent::Kind::served;
    served.time = now;
    served.endpoint = g.given[trip->index];
    served.index = trip->index;
    served.to = served.from = EndpointState::healthy;
    served.detail = trip->request.method() + " " + trip->target + " " + std::to_string(result->status());
    std::vector<EndpointEvent> one{served};
    g.emit(one);
    return complete(trip, Served{std::move(*result), g.given[trip->index], trip->index, trip->journey.attempts()});
  }
  const Error& e = result.error();
  {
    std::lock_guard lock(g.m);
    g.feed(trip->index, endpoints::signal_of(e.code()), trip->started, e.code(), e.message(), events);
  }
  g.emit(events);
  double r;
  {
    std::lock_guard lock(g.m);
    r = g.draw();
  }
  next_step(trip, trip->journey.after_failure(e, now, r), e);
}

void attempt(const std::shared_ptr<Trip>& trip) {
  auto& g = *trip->group;
  const auto now = Clock::now();
  if (trip->request.cancellation() && trip->request.cancellation()->cancelled())
    return fail(trip, Error(errc::cancelled, trip->request.method() + " " + trip->target), "cancelled");
  if (now >= trip->journey.deadline())
    return fail(trip, Error(errc::deadline_exceeded, trip->request.method() + " " + trip->target), "deadline passed");
  std::vector<EndpointEvent> events;
  std::optional<endpoints::EndpointTable::Pick> pick;
  {
    std::lock_guard lock(g.m);
    const auto before = [&] {
      std::vector<EndpointState> s;
      for (std::size_t i = 0; i < g.table.size(); ++i) s.push_back(g.table.at(i).state());
      return s;
    }();
    pick = g.table.pick(now, trip->journey.tried(), g.backoff(), g.draw());
    if (!pick) {
      trip->journey.new_round();
      pick = g.table.pick(now, trip->journey.tried(), g.backoff(), g.draw());
    }
    if (pick && pick->probe && before[pick->index] != EndpointState::probing) {
      EndpointEvent e;
      e.kind = EndpointEvent::Kind::state_changed;
      e.time = now;
      e.endpoint = g.given[pick->index];
      e.index = pick->index;
      e.from = before[pick->index];
      e.to = EndpointState::probing;
      e.detail = trip->journey.tried().size() > 0 && g.table.at(pick->index).skipped_until() > now
                     ? "every endpoint is skipped: trying the one whose backoff ends first"
                     : "backoff over: this request is the probe";
      events.push_back(std::move(e));
    }
  }
  g.emit(events);
  trip->index = pick->index;
  trip->started = now;
  trip->journey.sent(pick->index);
  Request r = trip->request;
  r.url(g.bases[pick->index] + trip->target);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(trip->journey.deadline() - now);
  r.timeout(std::max(left, std::chrono::milliseconds(1)));
  if (trip->journey.replayable()) r.retry_policy(RetryPolicy::never);
  g.client.send_async(std::move(r), [trip](Result<Response> res) { on_result(trip, std::move(res)); });
}

}  // namespace

EndpointGroup::EndpointGroup(Client& client, std::vector<std::string> endpoints, EndpointGroupOptions options) {
  if (endpoints.empty()) throw Exception(Error(errc::invalid_url, "EndpointGroup: no endpoints"));
  impl_ = std::make_shared<Impl>(client, std::move(options), endpoints.size());
  for (auto& given : endpoints) {
    auto base = without_trailing_slash(given);
    auto url = parse_url(base);
    if (!url) throw Exception(Error(url.error()).set_where("EndpointGroup endpoint \"" + given + "\": " + url.error().where()));
    if (url->target() != "/" && base.find('?') != std::string::npos)
      throw Exception(Error(errc::invalid_url, "EndpointGroup endpoint \"" + given + "\": a base URL has no query"));
    impl_->origins.push_back(url->origin());
    impl_->bases.push_back(std::move(base));
    impl_->given.push_back(std::move(given));
  }
}

EndpointGroup::~EndpointGroup() = default;

const std::vector<std::string>& EndpointGroup::endpoints() const noexcept { return impl_->given; }
Client& EndpointGroup::client() noexcept { return impl_->client; }

void EndpointGroup::start(Request request, Handler handler) {
  // Delivered on the handler's executor (the Client's when it has none),
  // whose work is kept alive until then, as the Client does.
  auto ex = boost::asio::prefer(boost::asio::get_associated_executor(handler, impl_->client.get_executor()),
                                boost::asio::execution::outstanding_work.tracked);
  auto h = std::make_shared<Handler>(std::move(handler));
  launch(std::move(request), [h, ex](Result<Served> r) mutable {
    ex.execute([h, r = std::move(r)]() mutable { std::move(*h)(std::move(r)); });
  });
}

void EndpointGroup::launch(Request request, std::function<void(Result<Served>)> done) {
  auto& g = *impl_;
  // The target: a path, or the rest of a URL under one of the endpoints.
  std::string target;
  bool known = false;
  const std::string& url = request.url();
  if (!url.empty() && (url.front() == '/' || url.front() == '?')) {
    target = url;
    known = true;
  } else {
    for (const auto& base : g.bases) {
      if (url.compare(0, base.size(), base) != 0) continue;
      const std::string rest = url.substr(base.size());
      if (!rest.empty() && rest.front() != '/' && rest.front() != '?') continue;
      target = rest;
      known = true;
      break;
    }
  }
  const auto now = Clock::now();
  const auto deadline = now + request.timeout().value_or(g.options.request_timeout);
  endpoints::Journey journey(request, deadline, g.bases.size(),
                             {g.options.max_attempts, g.options.retry_backoff_base, g.options.retry_backoff_max});
  auto trip = std::make_shared<Trip>(impl_, std::move(request), std::move(target), std::move(journey), std::move(done));
  if (!known)
    return complete(trip, Error(errc::invalid_url, "\"" + trip->request.url() +
                                                       "\" is neither a path nor under one of the group's endpoints"));
  {
    std::lock_guard lock(g.m);
    g.budget.record_request(now);
  }
  attempt(trip);
  trip->starting = false;
}

void EndpointGroup::send_async(Request request, std::function<void(Result<Served>)> done) {
  launch(std::move(request), std::move(done));
}

Result<Served> EndpointGroup::send(Request request) {
  std::promise<Result<Served>> promise;
  auto future = promise.get_future();
  send_async(std::move(request), [&promise](Result<Served> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void EndpointGroup::observe(const Event& event) {
  if (event.kind != EventKind::goaway && event.kind != EventKind::dial_failed) return;
  auto& g = *impl_;
  std::vector<EndpointEvent> events;
  {
    std::lock_guard lock(g.m);
    for (std::size_t i = 0; i < g.origins.size(); ++i)
      if (g.origins[i] == event.origin)
        g.feed(i, Signal::failed, event.time, event.error,
               std::string(to_string(event.kind)) + (event.detail.empty() ? "" : ": " + event.detail), events);
  }
  g.emit(events);
}

void EndpointGroup::report_unhealthy(std::string_view endpoint, std::string_view why) {
  auto& g = *impl_;
  std::vector<EndpointEvent> events;
  {
    std::lock_guard lock(g.m);
    if (const auto i = g.find(endpoint))
      g.feed(*i, Signal::failed, Clock::now(), {}, "reported unhealthy: " + std::string(why), events);
  }
  g.emit(events);
}

std::vector<EndpointStatus> EndpointGroup::status() const {
  const auto& g = *impl_;
  std::lock_guard lock(g.m);
  const auto now = Clock::now();
  std::vector<EndpointStatus> out;
  for (std::size_t i = 0; i < g.given.size(); ++i) {
    const auto& h = g.table.at(i);
    EndpointStatus s{g.given[i], h.state(), h.failures(), {}, g.served[i]};
    if (h.state() == EndpointState::skipped && h.skipped_until() > now)
      s.skipped_for = std::chrono::duration_cast<std::chrono::milliseconds>(h.skipped_until() - now);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rebound
