// Printing an EndpointLog: see endpoint_report.hpp.
#include "endpoints/endpoint_report.hpp"

namespace rebound::cli {

void print_endpoint_changes(std::ostream& out, const EndpointLog& log, const std::vector<EndpointLog::Change>& changes,
                            bool json) {
  for (const auto& c : changes) {
    const std::string& name = log.endpoints().at(c.index);
    if (json) {
      boost::json::object o;
      o["endpoint"] = name;
      o["index"] = c.index;
      o["state"] = c.up ? "up" : "down";
      o["time_ms"] = c.time_ms;
      if (c.up) o["down_for_ms"] = c.down_for_ms;
      else o["error"] = c.error;
      out << boost::json::serialize(o) << std::endl;
    } else if (c.up) {
      out << "  endpoint " << name << " UP after " << c.down_for_ms << " ms" << std::endl;
    } else {
      out << "  endpoint " << name << " DOWN (" << c.error << ")" << std::endl;
    }
  }
}

boost::json::array endpoints_summary_json(const EndpointLog& log) {
  boost::json::array list;
  for (std::size_t i = 0; i < log.endpoints().size(); ++i) {
    boost::json::object e;
    e["endpoint"] = log.endpoints()[i];
    e["served"] = log.served(i);
    boost::json::array outages;
    for (const auto& o : log.outages(i)) {
      boost::json::object j;
      j["down_ms"] = o.down_ms;
      j["up_ms"] = o.up_ms ? boost::json::value(o.up_ms) : boost::json::value(nullptr);
      j["error"] = o.error;
      outages.push_back(std::move(j));
    }
    e["outages"] = std::move(outages);
    list.push_back(std::move(e));
  }
  return list;
}

void print_endpoints_summary(std::ostream& out, const EndpointLog& log) {
  for (std::size_t i = 0; i < log.endpoints().size(); ++i) {
    const auto outages = log.outages(i);
    out << "endpoint " << log.endpoints()[i] << ": served " << log.served(i) << ", " << outages.size()
        << " outage(s)\n";
    for (const auto& o : outages)
      out << "  outage (" << o.error << "): "
          << (o.up_ms ? "up again after " + std::to_string(o.up_ms - o.down_ms) + " ms" : std::string("still down"))
          << "\n";
  }
}

}  // namespace rebound::cli
