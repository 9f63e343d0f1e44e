// `rebound soak`: the seeded chaos soak (issue #11 part 3). Many clients
// (HTTP/1.1 and HTTP/2, over TLS and h2c) send downloads, echoes, uploads
// and POSTs through fault proxies to embedded and child servers while a
// schedule drawn from the seed injects every fault the servers and proxies
// know; the invariants are checked as requests complete, continuously, and
// at the end. This file owns the flags; the soak itself is the soak/
// module (soak/src/run.cpp runs the phases).
#include "common.hpp"

#include <rebound/soak/checks.hpp>
#include <rebound/soak/run.hpp>

#include <algorithm>
#include <iterator>
#include <random>

namespace rebound::cli {
namespace {

using namespace std::chrono_literals;

struct SoakFlags {
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::string duration = "60s";
  unsigned clients = 8;
  unsigned depth = 3;
  std::string grace = "2s";
  std::string progress = "10s";
  bool json = false;
  bool keep_going = false;
  bool print_schedule = false;
  std::vector<std::string> expect;  ///< invariants a known defect breaks every run
  std::vector<std::string> known;   ///< invariants a known defect breaks some runs
};

int run(SoakFlags& f) {
  soak::Settings settings;
  settings.seed = f.seed_given ? f.seed : std::random_device{}() * 0x100000000ull + std::random_device{}();
  settings.length = duration_or_throw("--duration", f.duration);
  settings.duration_text = f.duration;
  settings.grace = duration_or_throw("--grace", f.grace);
  settings.progress = duration_or_throw("--progress", f.progress);
  if (f.clients == 0) throw CLI::ValidationError("--clients", "at least one client");
  if (settings.length < 5s) throw CLI::ValidationError("--duration", "at least 5s");
  auto check_names = [](const char* flag, const std::vector<std::string>& names) {
    for (const auto& name : names)
      if (std::find(std::begin(soak::invariant_names), std::end(soak::invariant_names), name) ==
          std::end(soak::invariant_names))
        throw CLI::ValidationError(flag, "no invariant is called \"" + name + "\"");
  };
  check_names("--expect-violation", f.expect);
  check_names("--known-defect", f.known);
  settings.clients = f.clients;
  settings.depth = f.depth;
  settings.json = f.json;
  settings.keep_going = f.keep_going;
  settings.print_schedule = f.print_schedule;
  settings.expect = f.expect;
  settings.known = f.known;
  return soak::run(settings);
}

}  // namespace

void add_soak(CLI::App& root) {
  auto flags = std::make_shared<SoakFlags>();
  CLI::App* app = root.add_subcommand(
      "soak", "Seeded chaos soak: concurrent clients through fault proxies while a seeded schedule kills, "
              "restarts, GOAWAYs, refuses, resets, drops, blackholes, delays and cuts; checks every invariant");
  app->add_option("--seed", flags->seed, "Seed of the fault schedule and the request mix (default: random, printed)")
      ->each([flags](const std::string&) { flags->seed_given = true; });
  add_duration(*app, "--duration", flags->duration, "How long the faults and traffic run");
  app->add_option("--clients", flags->clients, "Concurrent clients (each a Client; modes h2/TLS, h1/TLS, h2c, h1)")
      ->capture_default_str();
  app->add_option("--in-flight", flags->depth, "Requests each client keeps in flight")->capture_default_str();
  add_duration(*app, "--grace", flags->grace, "How far past its deadline a request may complete");
  add_duration(*app, "--progress", flags->progress, "How often to print a progress line (stderr with --json)");
  app->add_flag("--json", flags->json, "Print the summary as one JSON object (progress goes to stderr)");
  app->add_flag("--keep-going", flags->keep_going, "Keep running after the first violation (count them all)");
  app->add_flag("--print-schedule", flags->print_schedule, "List every scheduled fault and repair first");
  app->add_option("--expect-violation", flags->expect,
                  "An invariant a known, reported defect breaks: the run passes only if it is violated (and no "
                  "other is); repeatable");
  app->add_option("--known-defect", flags->known,
                  "An invariant a known, reported defect breaks in some runs (timing): counted, not failed; "
                  "repeatable");
  app->footer(
      "Exit status: 0 no invariant violated (but each --expect-violation); 1 a violation (the first is printed "
      "with its context) or an expected one missing; "
      "3 the harness failed (a server would not restart), so the run says nothing.");
  app->callback([flags] { throw CLI::RuntimeError(run(*flags)); });
}

}  // namespace rebound::cli
