// Splits a streamed response body into lines: newline-delimited JSON (a
// Kubernetes watch, JSON Lines logs) or any line protocol, fed chunk by
// chunk from a Request::on_body sink.
//
// Errors: a line longer than the limit is not buffered without end:
// feed() returns false and the splitter stays failed (the caller then
// cancels the request). Thread safety: a value type for one stream; feed
// it from the sink only.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace rebound {

class LineSplitter {
 public:
  using OnLine = std::function<void(std::string_view line)>;
  /// `on_line` gets each complete line without its "\n" (and without a
  /// "\r" before it); empty lines are skipped.
  explicit LineSplitter(OnLine on_line, std::size_t max_line = 16u << 20)
      : on_line_(std::move(on_line)), max_line_(max_line) {}

  /// Hands every line the chunk completes to on_line. False once a line
  /// exceeded max_line (nothing more is delivered).
  bool feed(std::string_view chunk) {
    if (failed_) return false;
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        if (partial_.size() + chunk.size() > max_line_) return fail();
        partial_.append(chunk);
        return true;
      }
      std::string_view line = chunk.substr(0, nl);
      chunk.remove_prefix(nl + 1);
      if (!partial_.empty()) {
        if (partial_.size() + line.size() > max_line_) return fail();
        partial_.append(line);
        deliver(partial_);
        partial_.clear();
      } else {
        if (line.size() > max_line_) return fail();
        deliver(line);
      }
    }
    return true;
  }
  /// Bytes of an unfinished line held (a stream that ends here was cut).
  std::size_t pending() const noexcept { return partial_.size(); }
  bool failed() const noexcept { return failed_; }

 private:
  void deliver(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) on_line_(line);
  }
  bool fail() {
    failed_ = true;
    partial_.clear();
    return false;
  }
  OnLine on_line_;
  std::size_t max_line_;
  std::string partial_;
  bool failed_ = false;
};

}  // namespace rebound
