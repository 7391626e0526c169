// cs-test-viewer: a native WebRTC viewer for cube-streamer's end-to-end
// tests. Prints one JSON line per viewer on stdout; logs go to stderr.
#include <glib-unix.h>
#include <gst/gst.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <vector>

#include "churner.hpp"
#include "cycler.hpp"
#include "frame_stats.hpp"
#include "ice_config.hpp"
#include "janus_viewer.hpp"
#include "log.hpp"
#include "options.hpp"
#include "raii.hpp"
#include "viewer.hpp"
#include "whep_viewer.hpp"

namespace {

using cstest::Client;
using ClientList = std::vector<std::unique_ptr<Client>>;

constexpr guint kDonePollMs = 100;
constexpr std::int64_t kCloseGraceMs = 2000;

struct Run {
  GMainLoop* loop;
  ClientList* clients;
};

ClientList make_clients(const cstest::Options& options) {
  ClientList clients;
  for (int i = 0; i < options.viewers; ++i) {
    if (!options.whep_url.empty())
      clients.push_back(std::make_unique<cstest::WhepViewer>(i, options));
    else if (!options.janus_url.empty())
      clients.push_back(std::make_unique<cstest::JanusViewer>(i, options));
    else if (options.mode == cstest::Mode::Churn)
      clients.push_back(std::make_unique<cstest::Churner>(i, options));
    else if (options.mode == cstest::Mode::Cycle)
      clients.push_back(std::make_unique<cstest::Cycler>(i, options));
    else
      clients.push_back(std::make_unique<cstest::Viewer>(i, options));
  }
  return clients;
}

// Each client starts from its own zero-delay source, in order, once the main
// loop runs.
void start_on_loop(ClientList& clients) {
  for (auto& c : clients) {
    g_timeout_add(
        0,
        [](gpointer d) -> gboolean {
          static_cast<Client*>(d)->start();
          return G_SOURCE_REMOVE;
        },
        c.get());
  }
}

// Sources stay installed (SourceId removes them), so return CONTINUE.
gboolean quit_loop(gpointer data) {
  g_main_loop_quit(static_cast<GMainLoop*>(data));
  return G_SOURCE_CONTINUE;
}

gboolean poll_done(gpointer data) {
  auto* run = static_cast<Run*>(data);
  for (const auto& c : *run->clients)
    if (!c->done()) return G_SOURCE_CONTINUE;
  g_main_loop_quit(run->loop);
  return G_SOURCE_CONTINUE;
}

// Lets sockets finish their close handshakes, bounded in time.
void drain(const ClientList& clients) {
  std::int64_t deadline = cstest::steady_ms() + kCloseGraceMs;
  auto all_closed = [&] {
    for (const auto& c : clients)
      if (!c->closed()) return false;
    return true;
  };
  while (!all_closed() && cstest::steady_ms() < deadline) {
    if (!g_main_context_iteration(nullptr, FALSE)) g_usleep(1000);
  }
  while (g_main_context_pending(nullptr)) g_main_context_iteration(nullptr, FALSE);
}

int run(const cstest::Options& options) {
  cstest::MainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
  ClientList clients = make_clients(options);
  Run state{loop.get(), &clients};
  start_on_loop(clients);
  cstest::SourceId duration(
      g_timeout_add(static_cast<guint>(options.duration_s * 1000), &quit_loop, loop.get()));
  cstest::SourceId done_poll(g_timeout_add(kDonePollMs, &poll_done, &state));
  cstest::SourceId sigint(g_unix_signal_add(SIGINT, &quit_loop, loop.get()));
  cstest::SourceId sigterm(g_unix_signal_add(SIGTERM, &quit_loop, loop.get()));
  g_main_loop_run(loop.get());
  duration.reset();  // the loop may have ended early; don't leave it behind
  done_poll.reset();

  for (auto& c : clients) c->shutdown();
  drain(clients);
  bool all_connected = true;
  for (const auto& c : clients) {
    std::printf("%s\n", c->report().dump().c_str());
    all_connected = all_connected && c->connected();
  }
  std::fflush(stdout);
  clients.clear();
  while (g_main_context_pending(nullptr)) g_main_context_iteration(nullptr, FALSE);
  return all_connected ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  auto options = cstest::parse_options(argc, argv);
  if (!options) return 2;
  if (!options->ice_servers_url.empty()) {
    if (auto error = cstest::fetch_ice_servers(*options); !error.empty()) {
      std::fprintf(stderr, "cs-test-viewer: %s\n", error.c_str());
      return 1;
    }
  }
  return run(*options);
}
