#pragma once
// What main() drives: a normal or stalled viewer, or a churner.
#include <nlohmann/json.hpp>

namespace cstest {

class Client {
 public:
  virtual ~Client() = default;
  virtual void start() = 0;
  // Ends the session (pipeline to NULL, socket closing). Main loop still runs.
  virtual void shutdown() = 0;
  // True when nothing more will happen before the duration ends.
  virtual bool done() const = 0;
  // True when the socket has finished closing after shutdown().
  virtual bool closed() const = 0;
  // Opened its WebSocket at least once.
  virtual bool connected() const = 0;
  virtual nlohmann::json report() const = 0;
};

}  // namespace cstest
