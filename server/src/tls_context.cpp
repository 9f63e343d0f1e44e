// make_tls_context: see tls_context.hpp.
#include "tls_context.hpp"

#include <openssl/ssl.h>

namespace rebound::server::detail {

namespace {

// ALPN protocol lists in wire format, in server preference order.
constexpr unsigned char kH2AndHttp11[] = "\x02h2\x08http/1.1";
constexpr unsigned char kHttp11Only[] = "\x08http/1.1";

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void* arg) {
  const bool offer_h2 = arg != nullptr;
  const unsigned char* ours = offer_h2 ? kH2AndHttp11 : kHttp11Only;
  const unsigned int ours_len = offer_h2 ? sizeof kH2AndHttp11 - 1 : sizeof kHttp11Only - 1;
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_len, ours, ours_len, in, in_len) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no overlap: continue without ALPN (HTTP/1.1)
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const CertificateStore& certs, bool offer_h2,
                                                            const std::string& client_ca_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  ctx->use_certificate_chain(boost::asio::buffer(certs.certificate_pem()));
  ctx->use_private_key(boost::asio::buffer(certs.private_key_pem()), ssl::context::pem);
  // The callback argument only carries the flag; any non-null pointer means h2.
  static int h2_marker = 1;
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), select_alpn, offer_h2 ? &h2_marker : nullptr);
  if (!client_ca_file.empty()) {
    ctx->load_verify_file(client_ca_file);
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    // Tell clients which CAs we accept (curl and Python pick their certificate by it).
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str()))
      SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    // Session resumption with peer verification needs a session id context,
    // or OpenSSL fails the resumed handshake.
    static constexpr unsigned char kSessionContext[] = "rebound-server";
    SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext, sizeof kSessionContext - 1);
  }
  return ctx;
}

}  // namespace rebound::server::detail
