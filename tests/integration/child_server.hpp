// `rebound serve` in a child process, so a test can really SIGKILL it: the
// kernel then resets its connections exactly as after a crash.
#pragma once

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace rebound::testing {

class ChildServer {
 public:
  /// Starts `rebound serve ARGS...` and waits for the URL it prints.
  explicit ChildServer(std::vector<std::string> args) : args_(std::move(args)) { start(); }
  ~ChildServer() { kill(); }

  void start() {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      std::string bin = REBOUND_CLI_PATH, serve = "serve";
      argv.push_back(bin.data());
      argv.push_back(serve.data());
      for (auto& a : args_) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);  // the child's later output goes nowhere (it ignores SIGPIPE-free writes)
    if (line.empty()) throw std::runtime_error("rebound serve printed no URL");
    url_ = line;
  }

  /// SIGKILL and reap: the server is gone as abruptly as a crash.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  /// Restarts on the same port (the URL's).
  void restart_same_port() {
    kill();
    const auto port = url_.substr(url_.rfind(':') + 1);
    bool replaced = false;
    for (std::size_t i = 0; i + 1 < args_.size(); ++i)
      if (args_[i] == "--port") {
        args_[i + 1] = port;
        replaced = true;
      }
    if (!replaced) {
      args_.push_back("--port");
      args_.push_back(port);
    }
    start();
  }

  const std::string& url() const { return url_; }

 private:
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace rebound::testing
