// libFuzzer harness for an exec credential plugin's output (the
// ExecCredential JSON it prints), which the plugin - any program a
// kubeconfig names - controls: any output is a token or a reason, never
// both and never neither; never a crash or an exception; a token comes
// only from status.token; and the reason never quotes the token (a token
// in a log line is a leaked token).
#include "exec/exec_credential_json.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

using namespace rebound::kube::detail;

namespace {

const std::string kApiVersion = "client.authentication.k8s.io/v1";

// status.token as the plugin wrote it, and the same output with another
// token in its place (empty when the output has no string token).
struct Token {
  std::string written;
  std::string output_with_another;
};

Token token_in(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  auto* status = v.as_object().if_contains("status");
  if (!status || !status->is_object()) return {};
  auto* token = status->as_object().if_contains("token");
  if (!token || !token->is_string()) return {};
  Token t{std::string(token->as_string()), {}};
  *token = "0";
  t.output_with_another = boost::json::serialize(v);
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ExecAnswer a = parse_exec_answer(text, kApiVersion);
  if (a.token.empty() == a.error.empty()) std::abort();  // exactly one of a token and a reason
  if (!a.error.empty() && a.expiry) std::abort();
  const Token t = token_in(text);
  if (!a.token.empty() && a.token != t.written) std::abort();
  // The reason may contain the token's text where it says the same with
  // another token (a fixed phrase, a quoted wrong kind or apiVersion);
  // anywhere else it quoted the token.
  if (!a.error.empty() && t.written.size() > 4 && a.error.find(t.written) != std::string::npos &&
      parse_exec_answer(t.output_with_another, kApiVersion).error.find(t.written) == std::string::npos)
    std::abort();
  return 0;
}
