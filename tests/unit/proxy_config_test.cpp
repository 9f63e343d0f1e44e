// The pure parts of proxy support: proxy URLs, curl's NO_PROXY rules, the
// environment's precedence, basic-auth encoding, SOCKS5 messages and the
// classification of a CONNECT answer.
#include "net/proxy_config.hpp"
#include "net/proxy_tunnel.hpp"
#include "net/socks5.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace rebound;
using namespace rebound::net;

namespace {

Url url(const char* text) { return parse_url(text).value(); }

ProxySelector::Getenv env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST(ProxyUrl, ParsesSchemesPortsAndPercentDecodedCredentials) {
  auto p = parse_proxy_url("http://us%40r:p%3Ass@127.0.0.1:3128").value();
  EXPECT_EQ(p.kind, ProxyUrl::Kind::http);
  EXPECT_EQ(p.host, "127.0.0.1");
  EXPECT_EQ(p.port, 3128);
  EXPECT_EQ(p.user, "us@r");
  EXPECT_EQ(p.password, "p:ss");
  EXPECT_EQ(p.display(), "http://127.0.0.1:3128");  // never the credentials
  EXPECT_EQ(parse_proxy_url("socks5h://[::1]").value().display(), "socks5h://[::1]:1080");
  EXPECT_EQ(parse_proxy_url("socks5://proxy.example").value().kind, ProxyUrl::Kind::socks5);
  EXPECT_EQ(parse_proxy_url("proxy.example:8080").value().display(), "http://proxy.example:8080");
  EXPECT_EQ(parse_proxy_url("http://proxy.example/").value().port, 80);
}

TEST(ProxyUrl, RefusesWhatItCannotUse) {
  EXPECT_EQ(parse_proxy_url("https://proxy:443").error(), errc::unsupported_scheme);
  EXPECT_EQ(parse_proxy_url("ftp://proxy").error(), errc::unsupported_scheme);
  EXPECT_EQ(parse_proxy_url("http://proxy:3128/path").error(), errc::invalid_url);
  EXPECT_EQ(parse_proxy_url("http://:3128").error(), errc::invalid_url);
  EXPECT_EQ(parse_proxy_url("http://proxy:0").error(), errc::invalid_url);
}

TEST(NoProxy, NamesMatchThemselvesAndSubdomainsOnly) {
  EXPECT_TRUE(no_proxy_matches("example.com", "example.com", 443));
  EXPECT_TRUE(no_proxy_matches("example.com", "api.EXAMPLE.com", 443));
  EXPECT_FALSE(no_proxy_matches("example.com", "notexample.com", 443));
  EXPECT_TRUE(no_proxy_matches(".example.com", "example.com", 443));  // curl: the dot is dropped
  EXPECT_TRUE(no_proxy_matches(".example.com", "a.b.example.com", 443));
  EXPECT_TRUE(no_proxy_matches("*.example.com", "a.example.com", 443));
  EXPECT_FALSE(no_proxy_matches("ample.com", "example.com", 443));
  EXPECT_TRUE(no_proxy_matches("example.com.", "example.com", 443));
}

TEST(NoProxy, ListsWildcardPortsAndAddresses) {
  EXPECT_TRUE(no_proxy_matches(" a.test , localhost ,b.test", "localhost", 80));
  EXPECT_TRUE(no_proxy_matches("a.test localhost", "localhost", 80));  // curl also splits on spaces
  EXPECT_FALSE(no_proxy_matches("", "localhost", 80));
  EXPECT_TRUE(no_proxy_matches("*", "anything.test", 80));
  EXPECT_FALSE(no_proxy_matches("*x", "anything.test", 80));
  EXPECT_TRUE(no_proxy_matches("localhost:8080", "localhost", 8080));
  EXPECT_FALSE(no_proxy_matches("localhost:8080", "localhost", 8081));
  EXPECT_TRUE(no_proxy_matches("127.0.0.1", "127.0.0.1", 1));
  EXPECT_FALSE(no_proxy_matches("127.0.0.1", "127.0.0.2", 1));
  EXPECT_TRUE(no_proxy_matches("127.0.0.1:99", "127.0.0.1", 99));
  EXPECT_FALSE(no_proxy_matches("127.0.0.1:99", "127.0.0.1", 98));
  EXPECT_TRUE(no_proxy_matches("10.0.0.0/8", "10.1.2.3", 1));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "11.1.2.3", 1));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "ten.example", 1));
  EXPECT_TRUE(no_proxy_matches("::1", "::1", 1));
  EXPECT_TRUE(no_proxy_matches("[::1]:443", "[::1]", 443));
  EXPECT_FALSE(no_proxy_matches("[::1]:443", "::1", 80));
  EXPECT_TRUE(no_proxy_matches("fd00::/8", "fd12::5", 1));
  EXPECT_FALSE(no_proxy_matches("127.0.0.1", "localhost", 1));  // names and addresses never cross
}

TEST(ProxySelector, EnvironmentLowerCaseFirstPerSchemeWithNoProxy) {
  ProxySelector s(ProxyOptions{}, env({{"http_proxy", "http://lower:1"},
                                       {"HTTP_PROXY", "http://upper:2"},
                                       {"HTTPS_PROXY", "socks5h://secure:3"},
                                       {"NO_PROXY", "skip.test,127.0.0.1"}}));
  EXPECT_EQ(s.for_url(url("http://a.test/")).value()->display(), "http://lower:1");
  EXPECT_EQ(s.for_url(url("https://a.test/")).value()->display(), "socks5h://secure:3");
  EXPECT_FALSE(s.for_url(url("https://x.skip.test/")).value());
  EXPECT_FALSE(s.for_url(url("http://127.0.0.1:8080/")).value());
}

TEST(ProxySelector, UpperCaseHttpProxyIsIgnoredUnderCgi) {
  ProxySelector s(ProxyOptions{}, env({{"HTTP_PROXY", "http://injected:1"}, {"REQUEST_METHOD", "GET"}}));
  EXPECT_FALSE(s.for_url(url("http://a.test/")).value());
}

TEST(ProxySelector, OptionsOverrideTheEnvironmentAndCanSayNone) {
  const auto e = env({{"https_proxy", "http://env:1"}, {"no_proxy", "*"}});
  ProxySelector chosen(ProxyOptions{"socks5://opt:2", "direct.test", true}, e);
  EXPECT_EQ(chosen.for_url(url("https://a.test/")).value()->display(), "socks5://opt:2");  // env no_proxy unused
  EXPECT_FALSE(chosen.for_url(url("https://direct.test/")).value());
  ProxySelector none(ProxyOptions{"", "", false}, e);
  EXPECT_FALSE(none.for_url(url("https://a.test/")).value());
}

TEST(ProxySelector, AMalformedSettingFailsNamingTheVariable) {
  ProxySelector s(ProxyOptions{}, env({{"https_proxy", "https://tls-proxy:443"}}));
  auto r = s.for_url(url("https://a.test/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::unsupported_scheme);
  EXPECT_NE(r.error().message().find("https_proxy"), std::string::npos) << r.error().message();
  EXPECT_FALSE(s.for_url(url("http://a.test/")).value());  // http:// is unaffected
}

TEST(ProxyAuth, BasicValueIsBase64OfUserColonPassword) {
  ProxyUrl p;
  EXPECT_EQ(proxy_basic_authorization(p), "");
  p.user = "Aladdin";
  p.password = "open sesame";
  EXPECT_EQ(proxy_basic_authorization(p), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  p.user = "ab";
  p.password = "";
  EXPECT_EQ(proxy_basic_authorization(p), "Basic YWI6");
}

TEST(Socks5, EncodesGreetingAuthAndConnect) {
  EXPECT_EQ(socks5::greeting(false), std::string("\x05\x01\x00", 3));
  EXPECT_EQ(socks5::greeting(true), std::string("\x05\x02\x00\x02", 4));
  EXPECT_EQ(socks5::auth_request("u", "pw").value(), std::string("\x01\x01u\x02pw", 6));
  EXPECT_EQ(socks5::auth_request(std::string(256, 'u'), "").error(), errc::invalid_url);
  EXPECT_EQ(socks5::connect_request("127.0.0.1", 0x1F90).value(), std::string("\x05\x01\x00\x01\x7f\x00\x00\x01\x1f\x90", 10));
  EXPECT_EQ(socks5::connect_request("ab.c", 443).value(), std::string("\x05\x01\x00\x03\x04" "ab.c\x01\xbb", 11));
  const auto v6 = socks5::connect_request("::1", 80).value();
  ASSERT_EQ(v6.size(), 4u + 16 + 2);
  EXPECT_EQ(v6[3], 4);
  EXPECT_EQ(v6[19], 1);
}

TEST(Socks5, ChecksRepliesAndNamesTheirCodes) {
  std::uint8_t method = 9;
  EXPECT_FALSE(socks5::check_method({5, 0}, false, method));
  EXPECT_EQ(method, 0);
  EXPECT_FALSE(socks5::check_method({5, 2}, true, method));
  EXPECT_EQ(socks5::check_method({5, 2}, false, method), errc::proxy_auth_required);
  EXPECT_EQ(socks5::check_method({5, 0xFF}, true, method), errc::proxy_auth_required);
  EXPECT_EQ(socks5::check_method({4, 0}, false, method), errc::proxy_tunnel_refused);
  EXPECT_FALSE(socks5::check_auth({1, 0}));
  EXPECT_EQ(socks5::check_auth({1, 1}), errc::proxy_auth_required);
  EXPECT_EQ(socks5::check_reply_head({5, 0, 0, 1, 127}).value(), 5u);   // 3 more address bytes + port
  EXPECT_EQ(socks5::check_reply_head({5, 0, 0, 4, 0}).value(), 17u);
  EXPECT_EQ(socks5::check_reply_head({5, 0, 0, 3, 7}).value(), 9u);    // 7 name bytes + port
  const auto refused = socks5::check_reply_head({5, 5, 0, 1, 0});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::proxy_tunnel_refused);
  EXPECT_NE(refused.error().message().find("connection refused"), std::string::npos);
}

TEST(ConnectStatus, TwoHundredsOpenFourOhSevenAsksForAuthOthersRefuse) {
  ProxyUrl p{ProxyUrl::Kind::http, "127.0.0.1", 3128, "", ""};
  EXPECT_FALSE(classify_connect_status(200, "Connection established", p));
  EXPECT_EQ(classify_connect_status(407, "Proxy Authentication Required", p), errc::proxy_auth_required);
  EXPECT_EQ(classify_connect_status(401, "Unauthorized", p), errc::proxy_auth_required);  // tinyproxy's wrong password
  const auto refused = classify_connect_status(403, "Forbidden", p);
  EXPECT_EQ(refused, errc::proxy_tunnel_refused);
  EXPECT_NE(refused.message().find("403 \"Forbidden\""), std::string::npos) << refused.message();
}
