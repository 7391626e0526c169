#pragma once
// A headless EGL display + OpenGL ES 3 context, current on the thread that
// created it. Move-only; owned by the render thread, which alone makes GL calls.
// Where the display offers it the context is robust (a GPU reset loses the
// context instead of taking the process down), so that a lost context can be
// reported and replaced by a new one.
//
// Which display (CS_RENDER_DEVICE, cs::RenderDevice): the EGL devices of
// EGL_EXT_device_enumeration, opened with EGL_PLATFORM_DEVICE_EXT, or Mesa's
// surfaceless platform. `auto` takes the first hardware device (one that is
// not EGL_MESA_device_software) and, when there is none or it fails to
// initialise, the surfaceless platform (one warning line in the log for a
// failed device). An index or a render node takes that device or fails.
#include <EGL/egl.h>

#include <memory>
#include <string>
#include <vector>

#include "cs/config.hpp"

namespace cs::render {

// One device of eglQueryDevicesEXT, as --check and the log show it.
struct EglDevice {
  int index = 0;
  std::string extensions;   // eglQueryDeviceStringEXT(EGL_EXTENSIONS)
  std::string vendor;       // eglQueryDeviceStringEXT(EGL_VENDOR); empty: not given
  std::string drm_file;     // EGL_DRM_DEVICE_FILE_EXT, e.g. /dev/dri/card0; empty: none
  std::string render_node;  // EGL_DRM_RENDER_NODE_FILE_EXT, e.g. /dev/dri/renderD128
  bool software = false;    // EGL_MESA_device_software: Mesa's llvmpipe device
  // "device 0: NVIDIA (hardware), DRM /dev/dri/card1, render node /dev/dri/renderD128"
  std::string summary() const;
};

// What EGL offers on this host, for --check: the client extensions and
// every device EGL_EXT_device_enumeration lists. Any thread; makes no context.
struct EglSurvey {
  std::string client_extensions;
  bool device_enumeration = false;  // EGL_EXT_device_enumeration (or _base) offered
  std::vector<EglDevice> devices;
  std::string error;  // why the devices could not be listed, if they could not
};
EglSurvey survey_egl();

// GL_VENDOR, GL_RENDERER, GL_VERSION of the context current on this thread.
struct GlStrings {
  std::string vendor, renderer, version;
};
GlStrings current_gl_strings();

class EglContext {
 public:
  struct Result {
    std::unique_ptr<EglContext> context;
    std::string error;  // why creation failed, when context is null
  };
  // Opens the display `device` asks for and makes a context current on it.
  static Result create(const RenderDevice& device = {});

  ~EglContext();
  EglContext(const EglContext&) = delete;
  EglContext& operator=(const EglContext&) = delete;

  // Which display and device, the GL renderer and version: the line the log
  // starts with, e.g. "EGL device 0 (NVIDIA, hardware), GL: NVIDIA H200/..., robust, EGL 1.5".
  const std::string& description() const { return description_; }
  // "device 0", "surfaceless": what was opened.
  const std::string& opened() const { return opened_; }
  // A hardware device (not Mesa's software one, not surfaceless).
  bool hardware() const { return hardware_; }
  const GlStrings& gl() const { return gl_; }

  // After a failed frame (slow path, never per frame): what EGL and GL say
  // about this context, e.g. "EGL_CONTEXT_LOST (0x300e)" or "GPU reset
  // (GL_GUILTY_CONTEXT_RESET)"; empty when both find nothing wrong.
  std::string diagnose() const;

 private:
  using ResetStatusFn = unsigned (*)();
  EglContext(EGLDisplay display, EGLContext context, ResetStatusFn reset_status)
      : display_(display), context_(context), reset_status_(reset_status) {}
  static Result open(EGLDisplay display, const std::string& what);
  EGLDisplay display_;
  EGLContext context_;
  std::string description_;
  std::string opened_;
  bool hardware_ = false;
  GlStrings gl_;
  ResetStatusFn reset_status_;  // glGetGraphicsResetStatus(KHR|EXT), or null
};

// "EGL_BAD_ALLOC (0x3003)" and so on.
std::string egl_error_string(EGLint code);

}  // namespace cs::render
