// LogTail: reading a growing file line by line.
#include <rebound/soak/log_tail.hpp>

#include <charconv>
#include <fstream>
#include <sstream>

namespace rebound::soak {

std::vector<LogLine> LogTail::read_new() {
  std::vector<LogLine> lines;
  std::ifstream in(path_, std::ios::binary);
  if (!in) return lines;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset_ += chunk.size();
  partial_ += chunk;
  std::size_t start = 0;
  for (std::size_t end; (end = partial_.find('\n', start)) != std::string::npos; start = end + 1) {
    std::istringstream fields(partial_.substr(start, end - start));
    LogLine line;
    std::string id;
    fields >> line.method >> line.target >> id;
    std::uint64_t value = 0;
    auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
    if (ec == std::errc() && p == id.data() + id.size() && !id.empty()) line.id = value;
    lines.push_back(std::move(line));
  }
  partial_.erase(0, start);
  return lines;
}

}  // namespace rebound::soak
