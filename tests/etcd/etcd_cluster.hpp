// A real etcd cluster for tests: N members of Debian's `etcd` on 127.0.0.1
// ports, data directories under /dev/shm (etcd 3.4 cannot skip fsync; a
// tmpfs makes it cheap), plain or with TLS and required client
// certificates on the client URLs. Members can be SIGKILLed and restarted
// on their data; everything is killed and removed on destruction.
//
// Thread safety: one thread drives the fixture.
#pragma once

#include <rebound/options.hpp>

#include "process/child_process.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rebound::testing {

class EtcdCluster {
 public:
  /// Client-side TLS: etcd serves its client URLs over https with this
  /// certificate and requires client certificates issued by `ca_file`.
  struct Tls {
    std::string ca_file;
    std::string server_cert;
    std::string server_key;
    std::string client_cert;  ///< for client_options(): a certificate the members accept
    std::string client_key;
  };

  /// True when an `etcd` binary is on PATH (tests skip otherwise).
  static bool available();

  /// Starts `members` members and waits until every one answers a
  /// linearizable read. Throws std::runtime_error when they do not within
  /// 30 s (the message has the tail of each member's log).
  explicit EtcdCluster(int members = 3, std::optional<Tls> tls = std::nullopt);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  /// "http://127.0.0.1:<port>" (https with TLS) of member `i`.
  const std::string& client_url(int i) const { return members_.at(i).client_url; }
  std::vector<std::string> client_urls() const;

  /// SIGKILL member `i` (no shutdown, as a crash).
  void kill(int i);
  /// Starts member `i` again on its data directory and waits until it
  /// answers (throws after 30 s).
  void restart(int i);
  bool running(int i) const { return members_.at(i).process != nullptr; }

  /// Client options that reach the members: HTTP/2 prior knowledge for
  /// http, and with TLS the CA and a client certificate the members accept.
  rebound::Options client_options() const;

  /// Waits until member `i` answers a linearizable read (a Range through
  /// rebound::grpc); false after `timeout`.
  bool wait_ready(int i, std::chrono::milliseconds timeout) const;
  /// Member `i`'s log (stderr and stdout).
  std::string log(int i) const;

 private:
  struct Member {
    std::string name;
    std::string client_url;
    std::string peer_url;
    std::filesystem::path data_dir;
    std::filesystem::path log_file;
    std::unique_ptr<rebound::process::ChildProcess> process;
  };
  void start(int i, bool fresh);

  std::filesystem::path root_;
  std::string initial_cluster_;
  std::string token_;
  std::optional<Tls> tls_;
  std::vector<Member> members_;
};

}  // namespace rebound::testing
