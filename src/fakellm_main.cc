// specwright-fakellm: the fake LLM server as a process, for benchmarks and for trying
// provider configs offline. Prints its base URL on the first line of stdout, then serves
// until SIGINT or SIGTERM.
//   specwright-fakellm [--port N] [--script FILE] [--latency-ms N] [--chunks N]
//                      [--chunk-gap-ms N] [--fault-rate X]
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fakellm/fake_llm.h"

int main(int argc, char** argv) {
  sw::fakellm::FakeOptions o;
  int port = 0;
  std::string script;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "specwright-fakellm: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto number = [&](const std::string& v) {
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (!end || *end || d < 0) {
        std::fprintf(stderr, "specwright-fakellm: %s: \"%s\" is not a number >= 0\n", a.c_str(), v.c_str());
        std::exit(2);
      }
      return d;
    };
    if (a == "--port") port = static_cast<int>(number(value()));
    else if (a == "--script") script = value();
    else if (a == "--latency-ms") o.latency_ms = static_cast<int>(number(value()));
    else if (a == "--chunks") o.chunks = static_cast<int>(number(value()));
    else if (a == "--chunk-gap-ms") o.chunk_gap_ms = static_cast<int>(number(value()));
    else if (a == "--fault-rate") o.fault_rate = number(value());
    else {
      std::fprintf(stderr, "specwright-fakellm: unknown argument \"%s\"\n", a.c_str());
      return 2;
    }
  }
  // Block the stop signals before any thread starts, then wait for one.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto server = sw::fakellm::FakeLlmServer::Start(o, "127.0.0.1", port);
  if (!server.ok()) {
    std::fprintf(stderr, "specwright-fakellm: %s\n", server.status().message().c_str());
    return 1;
  }
  if (!script.empty()) {
    auto s = (*server)->LoadScript(script);
    if (!s.ok()) {
      std::fprintf(stderr, "specwright-fakellm: %s\n", s.message().c_str());
      return 2;
    }
  }
  std::printf("%s\n", (*server)->base_url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
