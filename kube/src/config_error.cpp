// ConfigError's one-line message: "file:line: key: message".
#include <rebound/kube/rest_config.hpp>

namespace rebound::kube {
namespace {

std::string compose(const std::string& file, const std::string& key, const std::string& message, int line) {
  std::string out;
  if (!file.empty()) out += file + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

}  // namespace

ConfigError::ConfigError(std::string file, std::string key, const std::string& message, int line)
    : std::runtime_error(compose(file, key, message, line)), file_(std::move(file)), key_(std::move(key)), line_(line) {}

}  // namespace rebound::kube
