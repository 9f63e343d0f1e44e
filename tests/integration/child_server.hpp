// `rebound serve` in a child process, so a test can really SIGKILL it: the
// kernel then resets its connections exactly as after a crash.
#pragma once

#include "child_process.hpp"

#include <optional>
#include <string>
#include <vector>

namespace rebound::testing {

class ChildServer {
 public:
  /// Starts `rebound serve ARGS...` and waits for the URL it prints.
  /// `commands`: give it a stdin pipe for command() (else stdin is /dev/null).
  explicit ChildServer(std::vector<std::string> args, bool commands = false)
      : args_(std::move(args)), commands_(commands) {
    start();
  }
  /// Sends one of `rebound serve`'s stdin fault commands ("goaway", "busy
  /// 3"...); true once the server acknowledged it.
  bool command(const std::string& line) { return child_ && child_->send_line(line).rfind("ok ", 0) == 0; }

  /// SIGKILL and reap: the server is gone as abruptly as a crash.
  void kill() {
    if (child_) child_->kill();
  }

  /// Restarts on the same port (the URL's).
  void restart_same_port() {
    kill();
    const auto port = url_.substr(url_.rfind(':') + 1);
    for (std::size_t i = 0; i + 1 < args_.size(); ++i)
      if (args_[i] == "--port") args_[i + 1] = port;
    start();
  }

  const std::string& url() const { return url_; }

 private:
  void start() {
    std::vector<std::string> argv{"serve"};
    argv.insert(argv.end(), args_.begin(), args_.end());
    child_.emplace(REBOUND_CLI_PATH, std::move(argv),
                   commands_ ? process::ChildProcess::Stdin::pipe : process::ChildProcess::Stdin::null);
    url_ = child_->first_line();
  }

  std::vector<std::string> args_;  // must contain "--port"
  bool commands_ = false;
  std::optional<process::ChildProcess> child_;
  std::string url_;
};

}  // namespace rebound::testing
