// parse_endpoint_args and GroupObserver: see endpoint_args.hpp.
#include "endpoints/endpoint_args.hpp"

#include <CLI/CLI.hpp>

namespace rebound::cli {
namespace {

// "http://h:1/a?b" -> {"http://h:1", "/a?b"}; the target is "/" when absent.
std::pair<std::string, std::string> split_base(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto from = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto cut = url.find_first_of("/?", from);
  if (cut == std::string::npos) return {url, "/"};
  std::string target = url.substr(cut);
  if (target.front() == '?') target.insert(0, "/");
  return {url.substr(0, cut), target};
}

}  // namespace

EndpointArgs parse_endpoint_args(const std::vector<std::string>& args) {
  std::vector<std::string> urls;
  for (const auto& a : args)
    for (auto& u : split_endpoint_list(a)) urls.push_back(std::move(u));
  std::string path;
  if (!urls.empty() && urls.back().starts_with('/')) {
    path = urls.back();
    urls.pop_back();
  }
  EndpointArgs out;
  if (urls.empty() && path.empty()) throw CLI::ValidationError("url", "no URL given");
  if (urls.size() <= 1) {
    // The single form, as the commands always took it: a URL, a URL and a
    // path to append, or (with --kubeconfig) a path alone.
    if (urls.empty()) out.single = path;
    else if (path.empty()) out.single = urls.front();
    else out.single = (urls.front().ends_with('/') ? urls.front().substr(0, urls.front().size() - 1) : urls.front()) + path;
    return out;
  }
  if (!path.empty()) {
    out.endpoints = std::move(urls);
    out.path = std::move(path);
    return out;
  }
  for (const auto& u : urls) {
    auto [base, target] = split_base(u);
    if (out.endpoints.empty()) out.path = target;
    else if (target != out.path)
      throw CLI::ValidationError("url", "the endpoints ask for different paths (" + out.path + ", " + target +
                                            "): give base URLs and the path as the last argument");
    out.endpoints.push_back(std::move(base));
  }
  return out;
}

EventHook GroupObserver::hook(EventHook previous) {
  return [slot = slot_, previous = std::move(previous)](const Event& e) {
    if (previous) previous(e);
    std::lock_guard lock(slot->mutex);
    if (slot->group) slot->group->observe(e);
  };
}

void GroupObserver::attach(EndpointGroup* group) {
  std::lock_guard lock(slot_->mutex);
  slot_->group = group;
}

}  // namespace rebound::cli
