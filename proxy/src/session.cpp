// One proxied connection's lifecycle: held, connecting, open, closed.
#include "session.hpp"

#include <algorithm>

#include <boost/asio/connect.hpp>

#include "socket_reset.hpp"

namespace rebound::proxy::detail {

using tcp = boost::asio::ip::tcp;

Session::Session(ProxyContext& ctx, tcp::socket client, std::optional<std::uint64_t> budget)
    : ctx_(ctx),
      client_(std::move(client)),
      upstream_(ctx.io),
      to_server_(*this, Direction::client_to_server, client_, upstream_),
      to_client_(*this, Direction::server_to_client, upstream_, client_),
      budget_(budget) {}

void Session::start() {
  ctx_.sessions.add(shared_from_this());
  // A pulled cable: the server must not even see the connection yet.
  enter(paused() ? State::held : State::connecting);
}

void Session::resume() {
  if (severed_) return;
  switch (state_) {
    case State::held:
      enter(State::connecting);
      return;
    case State::open:
      to_server_.pump();
      to_client_.pump();
      return;
    case State::connecting:
    case State::closed:
      return;
  }
}

void Session::reset() { finish(Ending::reset); }

void Session::close() {
  boost::system::error_code ignored;
  client_.close(ignored);
  upstream_.close(ignored);
  enter(State::closed);
}

void Session::enter(State next) {
  if (state_ == State::closed) return;  // closed is final
  state_ = next;
  switch (next) {
    case State::held:
      return;
    case State::connecting:
      boost::asio::async_connect(upstream_, ctx_.upstream,
                                 [self = shared_from_this()](const boost::system::error_code& ec, const tcp::endpoint&) {
                                   self->on_connected(ec);
                                 });
      return;
    case State::open: {
      // Chunks are forwarded as they come; Nagle would add its own latency.
      boost::system::error_code ignored;
      client_.set_option(tcp::no_delay(true), ignored);
      upstream_.set_option(tcp::no_delay(true), ignored);
      to_server_.pump();
      to_client_.pump();
      return;
    }
    case State::closed:
      to_server_.cancel();
      to_client_.cancel();
      ctx_.sessions.remove(this);  // the caller's handler still holds a reference
      return;
  }
}

void Session::on_connected(const boost::system::error_code& ec) {
  if (state_ != State::connecting) return;  // reset or closed meanwhile
  if (!ec) {
    enter(State::open);
  } else if (paused()) {
    enter(State::held);  // the cable was pulled meanwhile: try again when it is back
  } else {
    finish(Ending::reset);  // upstream refused: the client sees the same
  }
}

std::size_t Session::reserve_budget(std::size_t wanted) {
  if (!budget_) return wanted;
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(wanted, *budget_));
  *budget_ -= n;
  return n;
}

void Session::forwarded(Direction direction, std::size_t n) {
  switch (direction) {
    case Direction::client_to_server:
      ctx_.counters.client_to_server.fetch_add(n, std::memory_order_relaxed);
      break;
    case Direction::server_to_client:
      ctx_.counters.server_to_client.fetch_add(n, std::memory_order_relaxed);
      break;
  }
  if (budget_ && *budget_ == 0) finish(Ending::reset);
}

void Session::relay_finished() {
  if (to_server_.finished() && to_client_.finished()) finish(Ending::orderly);
}

void Session::finish(Ending how) {
  if (state_ == State::closed) return;
  switch (how) {
    case Ending::reset:
      reset_close(client_);
      reset_close(upstream_);
      break;
    case Ending::orderly: {
      boost::system::error_code ignored;
      client_.close(ignored);
      upstream_.close(ignored);
      break;
    }
  }
  enter(State::closed);
}

}  // namespace rebound::proxy::detail
