// What `rebound elect` and its watchdog process say to each other over two
// pipes: orders (elect -> watchdog: start a term's command, extend its
// bound, stop it) and reports (watchdog -> elect: ready, started, could not
// start, exited, ended). Each message is one fixed-size write, below
// PIPE_BUF, so it arrives whole or not at all.
//
// A term is one leadership's run of the command, numbered by an epoch that
// only grows: an order for another epoch than the current one is ignored,
// so a late stop can never stop the next term's command.
//
// Deadlines are CLOCK_BOOTTIME nanoseconds: the watchdog's bound keeps
// counting through a suspend, which the steady clock does not.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace rebound::cli::elect {

/// CLOCK_BOOTTIME now, in nanoseconds.
std::int64_t boot_now_ns() noexcept;
/// A steady-clock instant as a CLOCK_BOOTTIME deadline. Reads the boot
/// clock first: a pause between the two reads makes the result earlier,
/// never later.
std::int64_t boot_deadline_ns(std::chrono::steady_clock::time_point t) noexcept;

enum class OrderKind : std::uint8_t {
  start,   ///< run the command for `epoch`, valid until `deadline_ns`
  extend,  ///< `epoch`'s leadership was renewed: valid until `deadline_ns`
  stop,    ///< `epoch`'s leadership ended: SIGTERM, then SIGKILL within the bound
};

struct Order {
  OrderKind kind{};
  std::uint64_t epoch = 0;
  std::int64_t deadline_ns = 0;
};

enum class ReportKind : std::uint8_t {
  ready,         ///< the watchdog runs; `detail` names the containment mode
  started,       ///< `epoch`'s command runs as `pid`
  start_failed,  ///< `epoch`'s command could not start: `value` is errno, `detail` says why
  exited,        ///< `epoch`'s command (its first process) exited: `value` is its status
  ended,         ///< every process of `epoch`'s command is gone: `value` is the exit status
};

/// Why a term ended (Report::why of `ended`).
enum class EndReason : std::uint8_t {
  asked,             ///< a stop order: leadership ended, or elect is stopping
  bound_passed,      ///< the leadership bound passed before any order came
  exited_by_itself,  ///< the command's first process exited
  elect_gone,        ///< the order pipe closed: elect died or exited
};
const char* to_string(EndReason r) noexcept;

struct Report {
  ReportKind kind{};
  EndReason why{};
  std::uint64_t epoch = 0;
  std::int32_t pid = 0;
  std::int32_t value = 0;
  char detail[192] = {};

  void set_detail(const std::string& s) noexcept;
};

/// One whole message to `fd`; false when the other side is gone.
bool send_message(int fd, const void* message, std::size_t size) noexcept;
/// One whole message from `fd`; false at end of file or on an error.
bool receive_message(int fd, void* message, std::size_t size) noexcept;

}  // namespace rebound::cli::elect
