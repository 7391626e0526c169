#pragma once
// What was built: the project version (CMake's project(VERSION)) and the git
// revision the build was configured from. For --version, metrics and logs;
// any thread.
#include <string>
#include <string_view>

namespace cs::build {

// "0.1.0".
std::string_view version();
// Short commit hash ("0a2ac96", with "-dirty" when the tree had changes at
// configure time), or empty when the source was not a git checkout.
std::string_view git_revision();

// --version's line: "cube-streamer 0.1.0 (git 0a2ac96) GStreamer 1.22.0"
// (no "(git …)" when the revision is unknown); `gstreamer` is the runtime
// library's version, which common/ cannot ask for itself.
std::string version_line(std::string_view gstreamer);

}  // namespace cs::build
