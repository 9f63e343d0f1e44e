// The live connections of a Server, so that stop(), kill() and send_goaway()
// can reach every one of them from any thread. A connection registers when it
// starts (and again under the same id when protocol detection hands it to an
// HTTP/1.1 or HTTP/2 session) and leaves in its destructor.
//
// The registry also carries the server's mode. A connection that registers
// after stop() or kill() began is told to drain or abort at once, which closes
// the race between taking a snapshot and a connection accepted just then.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

namespace rebound::server::detail {

/// What the registry can ask of a connection. Called only on the
/// connection's own executor (the registry posts there).
class ConnectionHandle {
 public:
  virtual ~ConnectionHandle() = default;
  /// Close now with RST (SO_LINGER 0): no GOAWAY, no response.
  virtual void abort() = 0;
  /// Finish in-flight work, take no more, then close (HTTP/2: GOAWAY).
  virtual void drain() = 0;
  /// HTTP/2 only: send GOAWAY(last_stream_id, error_code); see Server::send_goaway.
  virtual void goaway(std::int32_t last_stream_id, std::uint32_t error_code) {}
  /// HTTP/2 only: send SETTINGS_INITIAL_WINDOW_SIZE; see Server::change_initial_window_size.
  virtual void change_initial_window_size(std::uint32_t size) {}
};

class ConnectionRegistry {
 public:
  enum class Mode {
    open,      ///< serving
    draining,  ///< stop() in progress: connections finish and close
    closed,    ///< kill(), or stop() past its grace: connections abort
  };
  /// What a registering connection must do now.
  enum class Admission { serve, drain, abort };

  struct Entry {
    std::weak_ptr<ConnectionHandle> handle;
    const ConnectionHandle* identity = nullptr;  ///< to match remove() calls
    boost::asio::any_io_executor executor;
  };

  /// Adds the connection, or replaces the entry with the same id.
  Admission admit(std::uint64_t id, const std::shared_ptr<ConnectionHandle>& handle,
                  boost::asio::any_io_executor executor);
  /// Removes id if it still belongs to `who` (a handed-off detector must not
  /// remove the session that replaced it).
  void remove(std::uint64_t id, const ConnectionHandle* who);

  /// Switches mode and returns the connections registered at that moment.
  std::vector<Entry> set_mode(Mode mode);
  std::vector<Entry> snapshot() const;
  std::size_t size() const;

  /// Posts `action` to each entry's executor; runs it if the connection is
  /// still alive by then.
  static void post_each(const std::vector<Entry>& entries, std::function<void(ConnectionHandle&)> action);

 private:
  std::vector<Entry> snapshot_locked() const;

  mutable std::mutex mutex_;
  Mode mode_ = Mode::open;
  std::unordered_map<std::uint64_t, Entry> entries_;
};

}  // namespace rebound::server::detail
