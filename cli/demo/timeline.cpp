// Timeline: live text, JSON and SVG.
#include "demo/timeline.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace rebound::cli::demo {

Timeline::Timeline(std::ostream* live, bool quiet_renewals) : live_(live), quiet_renewals_(quiet_renewals) {}

double Timeline::now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Timeline::add(std::string lane, std::string kind, std::string detail, Mark mark) {
  std::lock_guard lock(mutex_);
  Entry e{now(), std::move(lane), std::move(kind), std::move(detail), mark};
  if (live_ && !(quiet_renewals_ && (e.kind == "renewed" || e.kind == "held_by_other"))) {
    *live_ << std::fixed << std::setprecision(3) << std::setw(8) << e.t << "s  " << std::left << std::setw(12)
           << e.lane << std::setw(16) << e.kind << std::right << e.detail << std::endl;
  }
  entries_.push_back(std::move(e));
}

std::vector<Entry> Timeline::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::string Timeline::to_json(const std::string& verdict_json) const {
  boost::json::array events;
  for (const auto& e : entries()) {
    events.push_back({{"t", e.t}, {"lane", e.lane}, {"kind", e.kind}, {"detail", e.detail}});
  }
  boost::json::object o;
  o["events"] = std::move(events);
  o["verdict"] = boost::json::parse(verdict_json);
  return boost::json::serialize(o);
}

namespace {
std::string escape_xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
}  // namespace

std::string Timeline::to_svg(const std::vector<std::string>& lanes, const std::string& title,
                             const std::string& legend) const {
  const auto all = entries();
  const double end = std::max(1.0, all.empty() ? 1.0 : all.back().t);
  const int left = 130, width = 900, lane_h = 50, top = 50;
  const int height = top + lane_h * static_cast<int>(lanes.size()) + 60;
  const auto x = [&](double t) { return left + static_cast<int>(t / end * width); };
  const auto lane_y = [&](const std::string& lane) {
    const auto it = std::find(lanes.begin(), lanes.end(), lane);
    return top + lane_h * static_cast<int>(it - lanes.begin());
  };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + width + 30 << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">" << escape_xml(title) << "</text>\n";
  // Outage bands across every lane.
  std::optional<double> down_since;
  for (const auto& e : all) {
    if (e.mark == Mark::down && !down_since) down_since = e.t;
    if (e.mark == Mark::up && down_since) {
      svg << "<rect x=\"" << x(*down_since) << "\" y=\"" << top - 5 << "\" width=\"" << std::max(2, x(e.t) - x(*down_since))
          << "\" height=\"" << lane_h * lanes.size() << "\" fill=\"#f8d0d0\"/>\n";
      down_since.reset();
    }
  }
  for (const auto& lane : lanes) {
    const int y = lane_y(lane);
    svg << "<text x=\"10\" y=\"" << y + 22 << "\">" << escape_xml(lane) << "</text>\n"
        << "<line x1=\"" << left << "\" y1=\"" << y + 18 << "\" x2=\"" << left + width << "\" y2=\"" << y + 18
        << "\" stroke=\"#ccc\"/>\n";
    std::optional<double> leading_since;
    for (const auto& e : all) {
      if (e.lane != lane) continue;
      if (e.mark == Mark::leading && !leading_since) leading_since = e.t;
      if (e.mark == Mark::stepped_down && leading_since) {
        svg << "<rect x=\"" << x(*leading_since) << "\" y=\"" << y + 8 << "\" width=\"" << x(e.t) - x(*leading_since)
            << "\" height=\"20\" fill=\"#6a9bd8\" opacity=\"0.7\"><title>leader</title></rect>\n";
        leading_since.reset();
      }
      const char* colour = e.mark == Mark::good ? "#2a9d3a" : e.mark == Mark::bad ? "#d62828" : nullptr;
      if (colour)
        svg << "<line x1=\"" << x(e.t) << "\" y1=\"" << y + 4 << "\" x2=\"" << x(e.t) << "\" y2=\"" << y + 32
            << "\" stroke=\"" << colour << "\" stroke-width=\"2\"><title>" << escape_xml(e.kind + " " + e.detail)
            << "</title></line>\n";
    }
    if (leading_since)
      svg << "<rect x=\"" << x(*leading_since) << "\" y=\"" << y + 8 << "\" width=\"" << x(end) - x(*leading_since)
          << "\" height=\"20\" fill=\"#6a9bd8\" opacity=\"0.7\"/>\n";
  }
  const int axis_y = top + lane_h * static_cast<int>(lanes.size()) + 5;
  const int step = end > 20 ? 5 : 1;
  for (int s = 0; s <= static_cast<int>(end); s += step)
    svg << "<text x=\"" << x(s) - 8 << "\" y=\"" << axis_y + 12 << "\" fill=\"#555\">" << s << "s</text>\n";
  svg << "<text x=\"" << left << "\" y=\"" << axis_y + 35
      << "\" fill=\"#555\">" << escape_xml(legend) << "</text>\n";
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace rebound::cli::demo
