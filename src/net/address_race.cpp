// AddressRace and the RFC 8305 ordering: see address_race.hpp.
#include "net/address_race.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace rebound::net {

std::vector<tcp::endpoint> interleave_families(const std::vector<tcp::endpoint>& resolved) {
  std::vector<tcp::endpoint> v6, v4;
  for (const auto& e : resolved) {
    auto& family = e.address().is_v6() ? v6 : v4;
    // getaddrinfo repeats an address once per socket type unless asked not to.
    if (std::find(family.begin(), family.end(), e) == family.end()) family.push_back(e);
  }
  std::vector<tcp::endpoint> out;
  out.reserve(v6.size() + v4.size());
  for (std::size_t i = 0; i < std::max(v6.size(), v4.size()); ++i) {
    if (i < v6.size()) out.push_back(v6[i]);
    if (i < v4.size()) out.push_back(v4[i]);
  }
  return out;
}

AddressRace::AddressRace(asio::any_io_executor executor, std::vector<tcp::endpoint> ordered,
                         std::chrono::milliseconds delay, Handler handler)
    : executor_(executor), endpoints_(std::move(ordered)), delay_(delay), handler_(std::move(handler)),
      timer_(executor) {}

void AddressRace::start() {
  if (endpoints_.empty()) return finish(asio::error::host_not_found, tcp::socket(executor_), "no addresses");
  start_next();
}

void AddressRace::cancel() {
  done_ = true;
  handler_ = nullptr;
  timer_.cancel();
  boost::system::error_code ignored;
  for (auto& s : attempts_)
    if (s) s->close(ignored);
}

void AddressRace::start_next() {
  if (done_ || next_ >= endpoints_.size()) return;
  const std::size_t index = next_++;
  auto socket = std::make_unique<tcp::socket>(executor_);
  // A family this host lacks fails at open(): that is this attempt failing.
  boost::system::error_code ec;
  socket->open(endpoints_[index].protocol(), ec);
  if (!ec) {
    socket->async_connect(endpoints_[index], [self = shared_from_this(), index](error_code e) {
      self->on_attempt(index, e);
    });
  }
  attempts_.push_back(std::move(socket));
  ++in_flight_;
  if (ec) {
    asio::post(executor_, [self = shared_from_this(), index, ec] { self->on_attempt(index, ec); });
    return;
  }
  arm_delay();
}

void AddressRace::arm_delay() {
  if (next_ >= endpoints_.size()) return;
  const auto generation = ++timer_generation_;
  timer_.expires_after(delay_);
  timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || self->done_ || generation != self->timer_generation_) return;
    self->start_next();
  });
}

void AddressRace::on_attempt(std::size_t index, error_code ec) {
  if (done_) return;
  --in_flight_;
  if (!ec) {
    tcp::socket winner = std::move(*attempts_[index]);
    return finish({}, std::move(winner), failures_);  // the addresses that failed before it
  }
  last_error_ = ec;
  if (!failures_.empty()) failures_ += "; ";
  failures_ += endpoints_[index].address().to_string() + ": " + ec.message();
  if (next_ < endpoints_.size()) {
    // RFC 8305 section 5: a failure starts the next attempt at once.
    ++timer_generation_;
    timer_.cancel();
    return start_next();
  }
  if (in_flight_ == 0) finish(last_error_, tcp::socket(executor_), failures_);
}

void AddressRace::finish(error_code ec, tcp::socket socket, std::string detail) {
  if (done_) return;
  auto handler = std::move(handler_);
  cancel();  // the losers
  if (handler) handler(ec, std::move(socket), std::move(detail));
}

}  // namespace rebound::net
