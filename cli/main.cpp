// The `rebound` command: subcommands get, serve (and more as they land).
#include "common.hpp"

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app("rebound: an HTTP/1.1 + HTTP/2 client that keeps working when servers restart");
  app.set_version_flag("--version", std::string("rebound ") + rebound::version);
  app.require_subcommand(1);
  rebound::cli::add_get(app);
  rebound::cli::add_serve(app);
  rebound::cli::add_watch(app);
  rebound::cli::add_bench(app);
  rebound::cli::add_demo(app);
  rebound::cli::add_proxy(app);
  rebound::cli::add_soak(app);
  rebound::cli::add_elect(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a subcommand's result
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const rebound::Exception& e) {
    std::cerr << "rebound: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
