// Schedule generation: a simulation of each server's and proxy's state over
// time, so every fault is one the target can take at that moment (no GOAWAY
// to a server that is down, no second blackhole over the first) and every
// fault that lasts has its repair.
#include <rebound/soak/schedule.hpp>

#include <algorithm>
#include <array>
#include <random>

namespace rebound::soak {

namespace {

using std::chrono::milliseconds;

// mt19937_64 is specified bit for bit by the standard, unlike the standard
// distributions and std::shuffle: drawing through it directly keeps a seed's
// schedule the same with any standard library.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : rng_(seed) {}
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + rng_() % (hi - lo + 1); }
  milliseconds ms(std::int64_t lo, std::int64_t hi) {
    return milliseconds(static_cast<std::int64_t>(between(static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi))));
  }
  /// Spread over orders of magnitude: small cuts land in headers, large in bodies.
  std::uint32_t log_uniform(std::uint32_t lo, std::uint32_t hi) {
    std::uint32_t v = lo;
    const auto doublings = between(0, 12);
    for (std::uint64_t i = 0; i < doublings && v < hi / 2; ++i) v *= 2;
    return static_cast<std::uint32_t>(between(v, std::min<std::uint64_t>(hi, 2ull * v)));
  }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[between(0, i - 1)]);
  }

 private:
  std::mt19937_64 rng_;
};

Op restart_for(ServerSlot s) { return is_child(s) ? Op::repair_restart_child : Op::repair_restart_server; }

// When each slot of a server or proxy is free again.
struct ServerState {
  milliseconds down_until{0}, refuse_until{0}, window_until{0};
};
struct ProxyState {
  milliseconds mode_until{0}, delay_until{0}, cut_until{0};
};

class Generator {
 public:
  Generator(std::uint64_t seed, milliseconds end) : draw_(seed), end_(end) {}

  /// Targets that can take `op` at `t`.
  std::vector<ServerSlot> targets(Op op, milliseconds t) const {
    std::vector<ServerSlot> out;
    for (int i = 0; i < server_count; ++i) {
      const auto s = static_cast<ServerSlot>(i);
      if (applicable(op, s, t)) out.push_back(s);
    }
    return out;
  }

  /// Adds `op` on `s` at `t` and its repair; false when no repair fits before the end.
  bool add(Op op, ServerSlot s, milliseconds t) {
    auto& srv = servers_[static_cast<int>(s)];
    auto& px = proxies_[static_cast<int>(s)];
    std::uint32_t param = 0;
    switch (op) {
      case Op::child_kill9:
      case Op::server_kill:
        return lasting(op, s, t, 0, draw_.ms(200, 1500), restart_for(s), srv.down_until);
      case Op::child_term:
        // serve's SIGTERM handler stops with 2 s of grace before exiting.
        return lasting(op, s, t, 0, draw_.ms(300, 2500), restart_for(s), srv.down_until);
      case Op::server_stop:
        param = static_cast<std::uint32_t>(draw_.between(100, 1000));
        return lasting(op, s, t, param, milliseconds(param) + draw_.ms(100, 1000), Op::repair_restart_server,
                       srv.down_until);
      case Op::refuse_streams:
        return lasting(op, s, t, 0, draw_.ms(200, 1500), Op::repair_refuse_off, srv.refuse_until);
      case Op::window_shrink: {
        static constexpr std::array<std::uint32_t, 5> sizes{0, 1, 16, 1024, 16384};
        param = sizes[draw_.between(0, sizes.size() - 1)];
        return lasting(op, s, t, param, draw_.ms(300, 2000), Op::repair_window, srv.window_until);
      }
      case Op::goaway:
        return once(op, s, t, 0);
      case Op::reset_streams:
        return once(op, s, t, static_cast<std::uint32_t>(draw_.between(1, 4)));
      case Op::drop_requests:
        return once(op, s, t, static_cast<std::uint32_t>(draw_.between(1, 3)));
      case Op::proxy_reset_all:
      case Op::proxy_blackhole_current:
        return once(op, s, t, 0);
      case Op::proxy_reset_mode:
        return lasting(op, s, t, 0, draw_.ms(200, 1000), Op::repair_proxy_pass, px.mode_until);
      case Op::proxy_blackhole:
        return lasting(op, s, t, 0, draw_.ms(500, 3000), Op::repair_proxy_pass, px.mode_until);
      case Op::proxy_delay:
        param = static_cast<std::uint32_t>(draw_.between(10, 300));
        return lasting(op, s, t, param, draw_.ms(1000, 4000), Op::repair_delay_off, px.delay_until);
      case Op::proxy_cut:
        param = draw_.log_uniform(64, 256 * 1024);
        return lasting(op, s, t, param, draw_.ms(500, 3000), Op::repair_cut_off, px.cut_until);
      case Op::repair_restart_child:
      case Op::repair_restart_server:
      case Op::repair_refuse_off:
      case Op::repair_window:
      case Op::repair_proxy_pass:
      case Op::repair_delay_off:
      case Op::repair_cut_off:
        break;
    }
    return false;
  }

  Draw& draw() { return draw_; }
  std::vector<Action> take() {
    std::stable_sort(actions_.begin(), actions_.end(), [](const Action& a, const Action& b) { return a.at < b.at; });
    return std::move(actions_);
  }

 private:
  bool applicable(Op op, ServerSlot s, milliseconds t) const {
    const auto& srv = servers_[static_cast<int>(s)];
    const auto& px = proxies_[static_cast<int>(s)];
    const bool up = t >= srv.down_until;
    switch (op) {
      case Op::child_kill9:
      case Op::child_term: return is_child(s) && up;
      case Op::server_kill:
      case Op::server_stop:
      case Op::goaway:
      case Op::reset_streams:
      case Op::drop_requests: return !is_child(s) && up;
      case Op::refuse_streams: return !is_child(s) && up && t >= srv.refuse_until;
      case Op::window_shrink: return !is_child(s) && up && t >= srv.window_until;
      case Op::proxy_reset_all:
      case Op::proxy_blackhole_current: return true;
      case Op::proxy_reset_mode:
      case Op::proxy_blackhole: return t >= px.mode_until;
      case Op::proxy_delay: return t >= px.delay_until;
      case Op::proxy_cut: return t >= px.cut_until;
      case Op::repair_restart_child:
      case Op::repair_restart_server:
      case Op::repair_refuse_off:
      case Op::repair_window:
      case Op::repair_proxy_pass:
      case Op::repair_delay_off:
      case Op::repair_cut_off: return false;
    }
    return false;
  }

  bool once(Op op, ServerSlot s, milliseconds t, std::uint32_t param) {
    actions_.push_back({t, op, s, param});
    return true;
  }

  bool lasting(Op op, ServerSlot s, milliseconds t, std::uint32_t param, milliseconds lasts, Op repair,
               milliseconds& busy_until) {
    const milliseconds repair_at = std::min(t + lasts, end_);
    if (repair_at - t < milliseconds(50)) return false;
    actions_.push_back({t, op, s, param});
    actions_.push_back({repair_at, repair, s, 0});
    busy_until = repair_at;
    return true;
  }

  Draw draw_;
  milliseconds end_;
  std::array<ServerState, server_count> servers_{};
  std::array<ProxyState, server_count> proxies_{};
  std::vector<Action> actions_;
};

}  // namespace

bool is_child(ServerSlot s) noexcept { return s == ServerSlot::child_tls || s == ServerSlot::child_plain; }
bool is_tls(ServerSlot s) noexcept { return s == ServerSlot::inproc_tls || s == ServerSlot::child_tls; }

const char* to_string(ServerSlot s) noexcept {
  switch (s) {
    case ServerSlot::inproc_tls: return "inproc_tls";
    case ServerSlot::inproc_plain: return "inproc_plain";
    case ServerSlot::child_tls: return "child_tls";
    case ServerSlot::child_plain: return "child_plain";
  }
  return "unknown";
}

bool is_fault(Op op) noexcept { return static_cast<int>(op) < fault_op_count; }

bool targets_proxy(Op op) noexcept {
  switch (op) {
    case Op::proxy_reset_all:
    case Op::proxy_reset_mode:
    case Op::proxy_blackhole:
    case Op::proxy_blackhole_current:
    case Op::proxy_delay:
    case Op::proxy_cut:
    case Op::repair_proxy_pass:
    case Op::repair_delay_off:
    case Op::repair_cut_off: return true;
    default: return false;
  }
}

std::optional<Op> repair_of(Op op) noexcept {
  switch (op) {
    case Op::child_kill9:
    case Op::child_term: return Op::repair_restart_child;
    case Op::server_kill:
    case Op::server_stop: return Op::repair_restart_server;
    case Op::refuse_streams: return Op::repair_refuse_off;
    case Op::window_shrink: return Op::repair_window;
    case Op::proxy_reset_mode:
    case Op::proxy_blackhole: return Op::repair_proxy_pass;
    case Op::proxy_delay: return Op::repair_delay_off;
    case Op::proxy_cut: return Op::repair_cut_off;
    default: return std::nullopt;
  }
}

const char* to_string(Op op) noexcept {
  switch (op) {
    case Op::child_kill9: return "child_kill9";
    case Op::child_term: return "child_term";
    case Op::server_kill: return "server_kill";
    case Op::server_stop: return "server_stop";
    case Op::goaway: return "goaway";
    case Op::refuse_streams: return "refuse_streams";
    case Op::reset_streams: return "reset_streams";
    case Op::drop_requests: return "drop_requests";
    case Op::window_shrink: return "window_shrink";
    case Op::proxy_reset_all: return "proxy_reset_all";
    case Op::proxy_reset_mode: return "proxy_reset_mode";
    case Op::proxy_blackhole: return "proxy_blackhole";
    case Op::proxy_blackhole_current: return "proxy_blackhole_current";
    case Op::proxy_delay: return "proxy_delay";
    case Op::proxy_cut: return "proxy_cut";
    case Op::repair_restart_child: return "restart_child";
    case Op::repair_restart_server: return "restart_server";
    case Op::repair_refuse_off: return "refuse_off";
    case Op::repair_window: return "window_restore";
    case Op::repair_proxy_pass: return "proxy_pass";
    case Op::repair_delay_off: return "delay_off";
    case Op::repair_cut_off: return "cut_off";
  }
  return "unknown";
}

std::string describe(const Action& a) {
  const auto ms = a.at.count();
  std::string s = std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1) + "s " +
                  to_string(a.op) + " " + (targets_proxy(a.op) ? "proxy:" : "") + to_string(a.target);
  switch (a.op) {
    case Op::server_stop: return s + " grace " + std::to_string(a.param) + "ms";
    case Op::reset_streams:
    case Op::drop_requests: return s + " next " + std::to_string(a.param);
    case Op::window_shrink: return s + " to " + std::to_string(a.param);
    case Op::proxy_delay: return s + " " + std::to_string(a.param) + "ms";
    case Op::proxy_cut: return s + " after " + std::to_string(a.param) + " bytes";
    default: return s;
  }
}

std::uint64_t Schedule::fingerprint() const {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  for (const auto& a : actions) {
    mix(static_cast<std::uint64_t>(a.at.count()));
    mix(static_cast<std::uint64_t>(a.op));
    mix(static_cast<std::uint64_t>(a.target));
    mix(a.param);
  }
  return h;
}

int Schedule::count(Op op) const {
  return static_cast<int>(std::count_if(actions.begin(), actions.end(), [op](const Action& a) { return a.op == op; }));
}

Schedule make_schedule(std::uint64_t seed, std::chrono::milliseconds length, std::chrono::milliseconds warmup,
                       std::chrono::milliseconds cooldown) {
  const milliseconds end = length - cooldown;
  Generator gen(seed, end);
  std::vector<Op> deck;
  for (milliseconds t = warmup + gen.draw().ms(0, 500); t + milliseconds(100) < end; t += gen.draw().ms(150, 1000)) {
    if (deck.empty()) {
      for (int i = 0; i < fault_op_count; ++i) deck.push_back(static_cast<Op>(i));
      gen.draw().shuffle(deck);
    }
    // The first card some target can take now; the others wait their turn.
    for (auto card = deck.begin(); card != deck.end(); ++card) {
      const auto targets = gen.targets(*card, t);
      if (targets.empty()) continue;
      const ServerSlot target = targets[gen.draw().between(0, targets.size() - 1)];
      if (gen.add(*card, target, t)) deck.erase(card);
      break;
    }
  }
  return Schedule{seed, gen.take()};
}

}  // namespace rebound::soak
