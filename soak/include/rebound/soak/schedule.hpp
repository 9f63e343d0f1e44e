// The soak's fault schedule: every fault the embedded server and the fault
// proxy know, with its repair, laid out in time from a seed before the soak
// starts. The schedule is a pure function of (seed, length): the same seed
// replays the same faults in the same order at the same offsets, whatever
// the machine's timing does to the traffic around them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rebound::soak {

/// The four servers, each behind its own proxy (proxy i fronts server i).
/// Child servers are `rebound serve` processes, so a kill is a real SIGKILL;
/// in-process servers take the fine-grained controls (GOAWAY, refuse...).
enum class ServerSlot : std::uint8_t { inproc_tls, inproc_plain, child_tls, child_plain };
inline constexpr int server_count = 4;
bool is_child(ServerSlot s) noexcept;
bool is_tls(ServerSlot s) noexcept;
const char* to_string(ServerSlot s) noexcept;

/// What an action does. Faults come first; `repair_*` undo a fault.
enum class Op : std::uint8_t {
  // --- child servers (real processes) ---
  child_kill9,          ///< SIGKILL; restarted on the same port by repair_restart_child
  child_term,           ///< SIGTERM: the server's graceful stop; restarted later
  // --- in-process servers ---
  server_kill,          ///< Server::kill(): every connection RST, no GOAWAY
  server_stop,          ///< Server::stop(param ms of grace)
  goaway,               ///< Server::send_goaway(highest stream seen)
  refuse_streams,       ///< refuse_streams(true) until repair_refuse_off
  reset_streams,        ///< reset_next_streams(param)
  drop_requests,        ///< drop_next_requests(param)
  window_shrink,        ///< change_initial_window_size(param) until repair_window
  // --- proxies ---
  proxy_reset_all,      ///< FaultProxy::reset_all()
  proxy_reset_mode,     ///< Mode::reset (new connections too) until repair_proxy_pass
  proxy_blackhole,      ///< Mode::blackhole until repair_proxy_pass
  proxy_blackhole_current,  ///< blackhole_current(): those connections stay silent
  proxy_delay,          ///< set_delay(param ms) until repair_delay_off
  proxy_cut,            ///< cut_after_bytes(param) until repair_cut_off
  // --- repairs ---
  repair_restart_child,
  repair_restart_server,
  repair_refuse_off,
  repair_window,        ///< initial window back to 65535
  repair_proxy_pass,
  repair_delay_off,
  repair_cut_off,
};
inline constexpr int fault_op_count = static_cast<int>(Op::proxy_cut) + 1;
bool is_fault(Op op) noexcept;
bool targets_proxy(Op op) noexcept;
/// The repair that undoes a lasting fault; nullopt for one-shot faults and repairs.
std::optional<Op> repair_of(Op op) noexcept;
const char* to_string(Op op) noexcept;

struct Action {
  std::chrono::milliseconds at{0};  ///< offset from the soak's start
  Op op{};
  ServerSlot target{};              ///< the server, or the server the proxy fronts
  std::uint32_t param = 0;          ///< count, bytes, milliseconds or window size (see Op)
};

/// "12.345s child_kill9 child_tls" (param shown when the op takes one).
std::string describe(const Action& a);

struct Schedule {
  std::uint64_t seed = 0;
  std::vector<Action> actions;  ///< sorted by `at`
  /// FNV-1a over every action: equal fingerprints, equal schedules.
  std::uint64_t fingerprint() const;
  /// Fault actions of `op` in the schedule.
  int count(Op op) const;
};

/// Faults start after `warmup` and every repair is done by `length - cooldown`.
/// Each fault kind is dealt from a shuffled deck, so a run long enough for
/// one deck (about 20 s) injects every kind at least once.
Schedule make_schedule(std::uint64_t seed, std::chrono::milliseconds length,
                       std::chrono::milliseconds warmup = std::chrono::seconds(1),
                       std::chrono::milliseconds cooldown = std::chrono::seconds(2));

}  // namespace rebound::soak
