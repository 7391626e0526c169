#include "cs/render/egl_context.hpp"

#include <EGL/eglext.h>

#include <cstring>
#include <vector>

namespace cs::render {
namespace {

bool has_extension(const char* list, const char* name) {
  if (list == nullptr) return false;
  const size_t n = std::strlen(name);
  for (const char* p = list; (p = std::strstr(p, name)) != nullptr; p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
  return false;
}

template <typename Fn>
Fn proc(const char* name) {
  return reinterpret_cast<Fn>(eglGetProcAddress(name));
}

// A DRM-backed EGL device means a real GPU; Mesa's software device has none.
EGLDisplay gpu_device_display(std::string& description) {
  const char* client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  if (!has_extension(client, "EGL_EXT_device_enumeration") ||
      !has_extension(client, "EGL_EXT_platform_device"))
    return EGL_NO_DISPLAY;
  auto query_devices = proc<PFNEGLQUERYDEVICESEXTPROC>("eglQueryDevicesEXT");
  auto query_device_string = proc<PFNEGLQUERYDEVICESTRINGEXTPROC>("eglQueryDeviceStringEXT");
  auto get_platform_display = proc<PFNEGLGETPLATFORMDISPLAYEXTPROC>("eglGetPlatformDisplayEXT");
  if (!query_devices || !query_device_string || !get_platform_display) return EGL_NO_DISPLAY;
  EGLDeviceEXT devices[16];
  EGLint count = 0;
  if (!query_devices(16, devices, &count)) return EGL_NO_DISPLAY;
  for (EGLint i = 0; i < count; ++i) {
    const char* exts = query_device_string(devices[i], EGL_EXTENSIONS);
    if (!has_extension(exts, "EGL_EXT_device_drm")) continue;
    const char* node = query_device_string(devices[i], EGL_DRM_DEVICE_FILE_EXT);
    description = std::string("EGL device platform, ") + (node ? node : "DRM device");
    return get_platform_display(EGL_PLATFORM_DEVICE_EXT, devices[i], nullptr);
  }
  return EGL_NO_DISPLAY;
}

EGLDisplay surfaceless_display(std::string& description) {
  const char* client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  if (!has_extension(client, "EGL_MESA_platform_surfaceless")) return EGL_NO_DISPLAY;
  auto get_platform_display = proc<PFNEGLGETPLATFORMDISPLAYEXTPROC>("eglGetPlatformDisplayEXT");
  if (!get_platform_display) return EGL_NO_DISPLAY;
  description = "EGL surfaceless platform";
  return get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
}

}  // namespace

std::string egl_error_string(EGLint code) {
  static const struct {
    EGLint code;
    const char* name;
  } names[] = {{EGL_SUCCESS, "EGL_SUCCESS"},
               {EGL_NOT_INITIALIZED, "EGL_NOT_INITIALIZED"},
               {EGL_BAD_ACCESS, "EGL_BAD_ACCESS"},
               {EGL_BAD_ALLOC, "EGL_BAD_ALLOC"},
               {EGL_BAD_ATTRIBUTE, "EGL_BAD_ATTRIBUTE"},
               {EGL_BAD_CONFIG, "EGL_BAD_CONFIG"},
               {EGL_BAD_CONTEXT, "EGL_BAD_CONTEXT"},
               {EGL_BAD_CURRENT_SURFACE, "EGL_BAD_CURRENT_SURFACE"},
               {EGL_BAD_DISPLAY, "EGL_BAD_DISPLAY"},
               {EGL_BAD_MATCH, "EGL_BAD_MATCH"},
               {EGL_BAD_PARAMETER, "EGL_BAD_PARAMETER"},
               {EGL_CONTEXT_LOST, "EGL_CONTEXT_LOST"}};
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%04x", code);
  for (const auto& n : names)
    if (n.code == code) return std::string(n.name) + " (" + hex + ")";
  return std::string("EGL error ") + hex;
}

EglContext::Result EglContext::create() {
  std::string description;
  EGLDisplay display = gpu_device_display(description);
  if (display == EGL_NO_DISPLAY) display = surfaceless_display(description);
  if (display == EGL_NO_DISPLAY)
    return {nullptr, "no EGL device or surfaceless platform (is libgl1-mesa-dri installed?): " +
                         egl_error_string(eglGetError())};
  EGLint major = 0, minor = 0;
  if (!eglInitialize(display, &major, &minor))
    return {nullptr, "eglInitialize failed: " + egl_error_string(eglGetError())};
  auto fail = [&](const std::string& what) {
    Result r{nullptr, what + ": " + egl_error_string(eglGetError())};
    eglTerminate(display);
    return r;
  };
  if (!has_extension(eglQueryString(display, EGL_EXTENSIONS), "EGL_KHR_surfaceless_context"))
    return fail("EGL_KHR_surfaceless_context missing");
  if (!eglBindAPI(EGL_OPENGL_ES_API)) return fail("eglBindAPI(GLES) failed");

  EGLConfig config = nullptr;
  if (!has_extension(eglQueryString(display, EGL_EXTENSIONS), "EGL_KHR_no_config_context")) {
    const EGLint attribs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_SURFACE_TYPE,
                              EGL_PBUFFER_BIT, EGL_NONE};
    EGLint n = 0;
    if (!eglChooseConfig(display, attribs, &config, 1, &n) || n < 1)
      return fail("no GLES 3 EGL config");
  }
  EGLContext context = EGL_NO_CONTEXT;
  if (has_extension(eglQueryString(display, EGL_EXTENSIONS), "EGL_EXT_create_context_robustness")) {
    const EGLint robust_attribs[] = {EGL_CONTEXT_MAJOR_VERSION,
                                     3,
                                     EGL_CONTEXT_MINOR_VERSION,
                                     0,
                                     EGL_CONTEXT_OPENGL_RESET_NOTIFICATION_STRATEGY_EXT,
                                     EGL_LOSE_CONTEXT_ON_RESET_EXT,
                                     EGL_NONE};
    context = eglCreateContext(display, config, EGL_NO_CONTEXT, robust_attribs);
    // Not every driver that lists the extension grants the strategy: fall
    // back to a plain context rather than fail.
    if (context != EGL_NO_CONTEXT) description += ", robust";
  }
  if (context == EGL_NO_CONTEXT) {
    const EGLint context_attribs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 0,
                                      EGL_NONE};
    context = eglCreateContext(display, config, EGL_NO_CONTEXT, context_attribs);
  }
  if (context == EGL_NO_CONTEXT) return fail("eglCreateContext(GLES 3.0) failed");
  if (!eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, context)) {
    eglDestroyContext(display, context);
    return fail("eglMakeCurrent(surfaceless) failed");
  }
  auto reset_status = proc<ResetStatusFn>("glGetGraphicsResetStatusKHR");
  if (!reset_status) reset_status = proc<ResetStatusFn>("glGetGraphicsResetStatusEXT");
  description += ", EGL " + std::to_string(major) + "." + std::to_string(minor);
  return {std::unique_ptr<EglContext>(new EglContext(display, context, description, reset_status)),
          {}};
}

std::string EglContext::diagnose() const {
  std::string out;
  auto add = [&out](const std::string& what) { out += (out.empty() ? "" : ", ") + what; };
  // Making it current again is how EGL reports a lost context.
  if (!eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_))
    add(egl_error_string(eglGetError()));
  if (reset_status_) {
    switch (reset_status_()) {
      case 0:  // GL_NO_ERROR
        break;
      case 0x8253:
        add("GPU reset (GL_GUILTY_CONTEXT_RESET)");
        break;
      case 0x8254:
        add("GPU reset (GL_INNOCENT_CONTEXT_RESET)");
        break;
      default:
        add("GPU reset (GL_UNKNOWN_CONTEXT_RESET)");
        break;
    }
  }
  return out;
}

EglContext::~EglContext() {
  eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  eglDestroyContext(display_, context_);
  eglTerminate(display_);
}

}  // namespace cs::render
