// Printing the Summary.
#include <rebound/soak/report.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <iomanip>

namespace rebound::soak {

namespace {

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

boost::json::object counts(const std::map<std::string, std::uint64_t>& m) {
  boost::json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

}  // namespace

void print_text(std::ostream& out, const Summary& s) {
  out << "\nseed " << s.seed << ", " << s.duration << ", " << s.clients << " clients, ran " << std::fixed
      << std::setprecision(1) << s.elapsed_s << " s; schedule " << hex(s.fingerprint) << " (" << s.actions
      << " actions)\n";
  out << "requests: " << s.requests_total << " (" << s.requests_ok << " ok), retries " << s.retries << ", dials "
      << s.dials << " (" << s.dial_failures << " failed), completions dropped " << s.completions_dropped << "\n";
  for (const auto& [kind, outcomes] : s.requests) {
    out << "  " << std::left << std::setw(22) << kind;
    for (const auto& [outcome, n] : outcomes) out << " " << outcome << " " << n;
    out << "\n";
  }
  std::uint64_t injected = 0;
  for (const auto& [_, n] : s.injected) injected += n;
  out << "faults injected: " << injected << "\n ";
  for (const auto& [kind, n] : s.injected) out << " " << kind << " " << n;
  out << "\nserver log lines: " << s.log_lines << (s.unknown_log_lines ? " (" + std::to_string(s.unknown_log_lines) + " without a known id)" : "")
      << "\n";
  const Resources& r = s.resources;
  out << "fds: " << r.fds_before << " before, " << r.fds_peak << " peak, " << r.fds_after << " after\n";
  out << "rss: " << mib(r.rss_before) << " before, " << mib(r.rss_peak) << " peak, " << mib(r.rss_after)
      << " after (anonymous " << mib(r.rss_anon_before) << " before, " << mib(r.rss_anon_after) << " after)";
  if (r.heap_before || r.heap_after) out << "; heap in use " << mib(r.heap_before) << " before, " << mib(r.heap_after) << " after";
  out << "\nidle cpu: " << r.idle_cpu_us / 1000 << " ms in " << r.idle_window_us / 1000 << " ms (children "
      << r.idle_children_cpu_us / 1000 << " ms; busiest thread " << r.busiest_idle_thread << ")\n";
  if (s.harness_error) out << "HARNESS ERROR (the run is void): " << *s.harness_error << "\n";
  if (s.violations_total == 0 && s.expected_missing.empty()) {
    out << (s.harness_error ? "" : "verdict: no invariant violated\n");
    return;
  }
  out << "verdict: " << s.violations_total << " violation(s)";
  if (s.violations_unexpected != s.violations_total)
    out << ", " << s.violations_total - s.violations_unexpected << " of them known defects";
  out << ":";
  for (const auto& [name, n] : s.violations)
    out << " " << name << " " << n << (s.expected.count(name) ? " (expected)" : s.known.count(name) ? " (known)" : "");
  out << "\n";
  for (const auto& name : s.expected_missing)
    out << "expected violation not seen: " << name << " (fixed? then drop --expect-violation " << name << ")\n";
  // Every invariant's first violation in a line; the first unexpected one
  // (or, when all were expected, the first) with its whole context.
  const Monitor::Violation* detailed = nullptr;
  for (const auto& v : s.firsts)
    if (!detailed && !s.excused(v.finding.invariant)) detailed = &v;
  if (!detailed && !s.firsts.empty()) detailed = &s.firsts.front();
  for (const auto& v : s.firsts)
    out << "first " << v.finding.invariant << " at " << std::setprecision(3) << v.at_s << " s: " << v.subject << ": "
        << v.finding.detail << "\n";
  if (detailed)
    out << "\n" << (s.excused(detailed->finding.invariant) ? "first (known defect) violation" : "first violation")
        << ", at " << detailed->at_s << " s: " << detailed->finding.invariant << "\n  " << detailed->subject << "\n  "
        << detailed->finding.detail << "\n"
        << detailed->context;
  out << "replay: rebound soak --seed " << s.seed << " --duration " << s.duration << " --clients " << s.clients << "\n";
}

void print_json(std::ostream& out, const Summary& s) {
  boost::json::object o;
  o["seed"] = s.seed;
  o["duration"] = s.duration;
  o["clients"] = s.clients;
  o["elapsed_s"] = s.elapsed_s;
  o["schedule"] = {{"fingerprint", hex(s.fingerprint)}, {"actions", s.actions}, {"faults", counts(s.planned)}};
  std::uint64_t injected = 0;
  for (const auto& [_, n] : s.injected) injected += n;
  o["faults_injected"] = {{"total", injected}, {"by_kind", counts(s.injected)}};
  boost::json::object by_kind;
  for (const auto& [kind, outcomes] : s.requests) by_kind[kind] = counts(outcomes);
  o["requests"] = {{"total", s.requests_total}, {"ok", s.requests_ok}, {"by_kind", by_kind}};
  o["client"] = {{"retries", s.retries}, {"dials", s.dials}, {"dial_failures", s.dial_failures},
                 {"completions_dropped", s.completions_dropped}};
  o["server_log"] = {{"lines", s.log_lines}, {"unknown_ids", s.unknown_log_lines}};
  const Resources& r = s.resources;
  o["resources"] = {{"fds_before", r.fds_before},   {"fds_peak", r.fds_peak},
                    {"fds_after", r.fds_after},     {"rss_before", r.rss_before},
                    {"rss_peak", r.rss_peak},       {"rss_after", r.rss_after},
                    {"rss_anon_before", r.rss_anon_before}, {"rss_anon_after", r.rss_anon_after},
                    {"heap_before", r.heap_before}, {"heap_after", r.heap_after},
                    {"idle_cpu_us", r.idle_cpu_us}, {"idle_children_cpu_us", r.idle_children_cpu_us},
                    {"idle_window_us", r.idle_window_us}, {"busiest_idle_thread", r.busiest_idle_thread}};
  boost::json::object v{{"total", s.violations_total},
                        {"unexpected", s.violations_unexpected},
                        {"by_invariant", counts(s.violations)}};
  boost::json::array expected, known, missing, firsts;
  for (const auto& name : s.expected) expected.push_back(boost::json::string(name));
  for (const auto& name : s.known) known.push_back(boost::json::string(name));
  for (const auto& name : s.expected_missing) missing.push_back(boost::json::string(name));
  for (const auto& f : s.firsts)
    firsts.push_back({{"at_s", f.at_s},
                      {"invariant", f.finding.invariant},
                      {"known_defect", s.excused(f.finding.invariant)},
                      {"subject", f.subject},
                      {"detail", f.finding.detail},
                      {"context", f.context}});
  v["expected"] = expected;
  v["known"] = known;
  v["expected_missing"] = missing;
  v["firsts"] = firsts;
  o["violations"] = v;
  if (s.harness_error) o["harness_error"] = *s.harness_error;
  o["exit_code"] = s.exit_code();
  out << boost::json::serialize(o) << "\n";
}

}  // namespace rebound::soak
