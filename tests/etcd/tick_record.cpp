// TickRecord: see tick_record.hpp.
#include "tick_record.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace rebound::testing {

namespace {

struct Tick {
  std::string id;
  TickRecord::Clock::time_point at;
};

std::vector<Tick> ticks_in(const std::string& path) {
  std::ifstream in(path);
  std::vector<Tick> out;
  std::string word, id;
  long long ns = 0;
  long long pid = 0;
  while (in >> word >> id >> ns >> pid)
    if (word == "tick") out.push_back({id, TickRecord::Clock::time_point(std::chrono::nanoseconds(ns))});
  return out;
}

// A worker ticks every 100 ms: a longer silence ends its run.
constexpr std::chrono::milliseconds run_gap{400};

}  // namespace

std::vector<TickRecord::Run> TickRecord::runs() const {
  auto ticks = ticks_in(path_);
  std::sort(ticks.begin(), ticks.end(), [](const Tick& a, const Tick& b) { return a.at < b.at; });
  std::map<std::string, std::size_t> open;  // id -> index of its latest run
  std::vector<Run> out;
  for (const auto& t : ticks) {
    auto it = open.find(t.id);
    if (it == open.end() || t.at - out[it->second].last > run_gap) {
      open[t.id] = out.size();
      out.push_back({t.id, t.at, t.at, 0});
    }
    Run& r = out[open[t.id]];
    r.last = t.at;
    ++r.ticks;
  }
  return out;
}

std::vector<TickRecord::Run> TickRecord::runs_of(const std::string& id) const {
  auto all = runs();
  std::erase_if(all, [&](const Run& r) { return r.id != id; });
  return all;
}

int TickRecord::ticks_of(const std::string& id) const { return ticks_since(id, Clock::time_point{}); }

int TickRecord::ticks_since(const std::string& id, Clock::time_point t) const {
  const auto all = ticks_in(path_);
  return static_cast<int>(std::count_if(all.begin(), all.end(), [&](const Tick& k) { return k.id == id && k.at > t; }));
}

std::string TickRecord::overlaps() const {
  const auto all = runs();
  std::ostringstream out;
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j)
      if (all[i].id != all[j].id && all[i].first <= all[j].last && all[j].first <= all[i].last)
        out << all[i].id << "'s command and " << all[j].id << "'s ran at once; ";
  const std::string found = out.str();
  return found.empty() ? found : found + "\n" + describe(all.front().first);
}

std::string TickRecord::describe(Clock::time_point origin) const {
  const auto ms = [&](Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - origin).count();
  };
  std::ostringstream out;
  for (const auto& r : runs()) out << r.id << ": " << ms(r.first) << " .. " << ms(r.last) << " ms, " << r.ticks << " ticks\n";
  return out.str();
}

}  // namespace rebound::testing
