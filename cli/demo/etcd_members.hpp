// The etcd cluster of `rebound demo --backend etcd`: N members of the
// installed `etcd` on 127.0.0.1 ports, data under /dev/shm (etcd 3.4 has no
// switch to skip fsync; a tmpfs makes it cheap), each a child process that
// can be SIGKILLed and restarted on its data. Everything is killed and
// removed on destruction.
//
// Thread safety: one thread drives it.
#pragma once

#include "child_process.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace rebound::cli::demo {

class EtcdMembers {
 public:
  /// True when an `etcd` binary is on PATH.
  static bool installed();

  /// Starts `count` members and waits until each reports itself healthy.
  /// Throws std::runtime_error (with the tail of a member's log) when one
  /// does not within 30 s.
  explicit EtcdMembers(int count = 3);
  ~EtcdMembers();
  EtcdMembers(const EtcdMembers&) = delete;
  EtcdMembers& operator=(const EtcdMembers&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  /// "http://127.0.0.1:<port>" of each member's client URL.
  std::vector<std::string> client_urls() const;
  /// The member serving `client_url`; -1 when none does.
  int index_of(const std::string& client_url) const;

  /// SIGKILL member `i`: gone as a crash, nothing said to its peers.
  void kill(int i);
  /// Starts member `i` again on its data and waits until it is healthy
  /// (throws after 30 s).
  void restart(int i);

 private:
  struct Member {
    std::string name, client_url, peer_url;
    std::filesystem::path data_dir, log_file;
    std::unique_ptr<process::ChildProcess> process;
  };
  void start(int i, bool fresh);
  void wait_healthy(int i) const;

  std::filesystem::path root_;
  std::string cluster_, token_;
  std::vector<Member> members_;
};

}  // namespace rebound::cli::demo
