// start_elect, elect_lines: see elect_on_etcd.hpp.
#include "elect_on_etcd.hpp"

#include <boost/json.hpp>

namespace rebound::testing {

std::unique_ptr<LineProcess> start_elect(const std::vector<std::string>& urls, const std::string& key,
                                         const std::string& identity, const std::string& record) {
  std::string joined;
  for (const auto& u : urls) joined += (joined.empty() ? "" : ",") + u;
  const auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; };
  return std::make_unique<LineProcess>(
      REBOUND_CLI_PATH,
      std::vector<std::string>{"elect", "--etcd", joined, "--lease", key, "--identity", identity, "--exact-identity",
                               "--json", "--lease-duration", ms(ElectTimings::lease), "--renew-deadline",
                               ms(ElectTimings::renew_deadline), "--retry-period", ms(ElectTimings::retry_period),
                               "--containment", "subreaper", "--", TICK_WORKER_PATH, record, identity,
                               "--ignore-term"});
}

std::vector<ElectLine> elect_lines(const LineProcess& p) {
  std::vector<ElectLine> out;
  for (const auto& l : p.lines()) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(l.text, ec);
    if (ec || !v.is_object()) continue;
    const auto& o = v.as_object();
    ElectLine e;
    e.at = l.at;
    if (const auto* k = o.if_contains("event"); k && k->is_string()) e.event = k->as_string().c_str();
    if (const auto* f = o.if_contains("valid_for_ms"); f && f->is_int64())
      e.valid_until = l.at + std::chrono::milliseconds(f->as_int64());
    if (const auto* t = o.if_contains("term"); t && t->is_number()) e.term = t->to_number<long long>();
    out.push_back(std::move(e));
  }
  return out;
}

std::string all_lines(const LineProcess& p) {
  std::string out;
  for (const auto& l : p.lines()) out += l.text + "\n";
  return out;
}

}  // namespace rebound::testing
