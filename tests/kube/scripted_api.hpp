// What the Watcher tests share: an HTTP/1.1 API server that answers each
// request from a script (exact streams, exact breaks), the lines a
// kube-apiserver writes (events, bookmarks, ERROR Status objects, lists),
// and a recorder of what a watcher hands its callbacks.
#pragma once

#include "support/raw_server.hpp"

#include <rebound/kube/watcher.hpp>

#include <boost/url/parse.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rebound::kube::testing {

using namespace std::chrono_literals;
using rebound::testing::RawConnection;
using rebound::testing::RawServer;

// What the scripted server does with one request.
struct Reply {
  int status = 200;
  std::string body;                // a plain response (when `stream` is empty and !streamed)
  bool streamed = false;           // a chunked stream of `lines`...
  std::vector<std::string> lines;
  enum class End { clean, reset, stall } end = End::clean;  // ...ended so
  std::chrono::milliseconds end_after{0};  // ...this long after the last line
};

inline std::string lease_json(const std::string& name, const std::string& rv) {
  return R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":")" + name +
         R"(","namespace":"default","resourceVersion":")" + rv + R"("},"spec":{"holderIdentity":"x"}})";
}
inline std::string event(const std::string& type, const std::string& name, const std::string& rv) {
  return R"({"type":")" + type + R"(","object":)" + lease_json(name, rv) + "}";
}
inline std::string bookmark(const std::string& rv) {
  return R"({"type":"BOOKMARK","object":{"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"resourceVersion":")" +
         rv + R"("}}})";
}
inline std::string gone(const std::string& rv) {
  return R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: )" +
         rv + R"J( (40)","reason":"Expired","code":410}})J";
}
// A plain (content-length) answer.
inline Reply answer(int status, std::string body) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
inline Reply list(const std::string& rv, const std::vector<std::string>& names) {
  std::string items;
  for (const auto& n : names) items += (items.empty() ? "" : ",") + lease_json(n, rv);
  return answer(200, R"({"kind":"LeaseList","apiVersion":"coordination.k8s.io/v1","metadata":{"resourceVersion":")" + rv +
                         R"("},"items":[)" + items + "]}");
}
inline Reply stream(std::vector<std::string> lines, Reply::End end) {
  Reply r;
  r.streamed = true;
  r.lines = std::move(lines);
  r.end = end;
  return r;
}

// An HTTP/1.1 API server that answers the n-th request (0-based, across
// connections) with script(target, n), and records every target.
class ScriptedApi {
 public:
  using Script = std::function<Reply(const std::string& target, int n)>;
  explicit ScriptedApi(Script script)
      : script_(std::move(script)), server_([this](RawConnection& conn, int) { serve(conn); }) {}

  std::string collection_url() const { return server_.url("/apis/coordination.k8s.io/v1/namespaces/default/leases"); }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mutex_);
    return targets_;
  }
  int requests() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(targets_.size());
  }
  /// Streamed replies whose lines were all written, or whose client left.
  int streams_written() const {
    std::lock_guard lock(mutex_);
    return streams_written_;
  }

 private:
  void serve(RawConnection& conn) {
    for (;;) {
      std::string head;
      try {
        head = conn.read_until("\r\n\r\n", 30s);
      } catch (const std::exception&) {
        return;
      }
      const auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
      const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
      int n;
      {
        std::lock_guard lock(mutex_);
        n = static_cast<int>(targets_.size());
        targets_.push_back(target);
      }
      const Reply r = script_(target, n);
      if (!r.streamed) {
        conn.write("HTTP/1.1 " + std::to_string(r.status) + " X\r\ncontent-type: application/json\r\ncontent-length: " +
                   std::to_string(r.body.size()) + "\r\n\r\n" + r.body);
        continue;
      }
      conn.write("HTTP/1.1 " + std::to_string(r.status) +
                 " X\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n");
      bool written = true;
      for (const auto& line : r.lines) {
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", line.size() + 1);
        if (!conn.write(size + line + "\n\r\n")) {
          written = false;
          break;
        }
      }
      {
        std::lock_guard lock(mutex_);
        ++streams_written_;
      }
      if (!written) return;
      std::this_thread::sleep_for(r.end_after);
      switch (r.end) {
        case Reply::End::clean: conn.write("0\r\n\r\n"); break;
        case Reply::End::reset: conn.reset(); return;
        case Reply::End::stall: conn.read_some(30s); return;
      }
    }
  }

  Script script_;
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
  int streams_written_ = 0;
  RawServer server_;  // last: its threads call serve() until it is destroyed
};

inline std::string param(const std::string& target, std::string_view key) {
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return "<unparsable>";
  auto it = u->params().find(key);
  return it == u->params().end() ? "<absent>" : std::string((*it).value);
}

// Records what a watcher hands over.
struct Seen {
  std::mutex m;
  std::vector<std::string> log;  // "LIST rv n", "ADDED name rv", "BOOKMARK rv"
  void add(std::string s) {
    std::lock_guard lock(m);
    log.push_back(std::move(s));
  }
  std::vector<std::string> all() {
    std::lock_guard lock(m);
    return log;
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (all().size() >= n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

inline WatcherOptions watching(const ScriptedApi& api, Seen& seen) {
  WatcherOptions o;
  o.collection_url = api.collection_url();
  o.backoff_base = 50ms;
  o.backoff_max = 400ms;
  o.on_list = [&seen](const std::vector<boost::json::object>& items, const std::string& rv) {
    seen.add("LIST " + rv + " " + std::to_string(items.size()));
  };
  o.on_event = [&seen](const WatchEvent& e) {
    std::string name;
    if (const auto* meta = e.object.if_contains("metadata"))
      if (const auto* n = meta->get_object().if_contains("name")) name = std::string(n->get_string()) + " ";
    seen.add(std::string(to_string(e.type)) + " " + name + e.resource_version);
  };
  return o;
}

}  // namespace rebound::kube::testing
