// A Beast Body for responses held in memory that grows with the bytes that
// arrive. Beast's string_body reserves the whole Content-Length up front,
// so a server (or many at once) claiming a gigabyte would get a gigabyte
// before sending a byte; this one reserves at most conn::max_body_reserve
// and lets the parser's body_limit judge what actually arrives.
#pragma once

#include "conn/connection.hpp"

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

namespace rebound::h1 {

struct growing_string_body {
  using value_type = std::string;

  class reader {
   public:
    template <bool IsRequest, class Fields>
    reader(boost::beast::http::header<IsRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::beast::error_code& ec) {
      ec = {};
      if (length) body_.reserve(static_cast<std::size_t>(std::min(*length, conn::max_body_reserve)));
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (const auto b : boost::beast::buffers_range_ref(buffers)) {
        body_.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      return n;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace rebound::h1
