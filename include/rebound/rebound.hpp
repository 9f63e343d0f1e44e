// The umbrella header: everything a user of rebound needs.
#pragma once

#include <rebound/client.hpp>
#include <rebound/credentials.hpp>
#include <rebound/error.hpp>
#include <rebound/events.hpp>
#include <rebound/headers.hpp>
#include <rebound/line_splitter.hpp>
#include <rebound/options.hpp>
#include <rebound/redirects.hpp>
#include <rebound/request.hpp>
#include <rebound/response.hpp>
#include <rebound/url.hpp>
#include <rebound/version.hpp>
