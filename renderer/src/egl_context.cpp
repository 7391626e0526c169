#include "cs/render/egl_context.hpp"

#include <EGL/eglext.h>
#include <GLES3/gl3.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "cs/log.hpp"

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

std::string text_or_empty(const char* text) {
  return text ? text : "";
}

// EGL_EXT_device_drm_render_node (EGL headers of 2021 on).
constexpr EGLint kRenderNodeFile = 0x3377;

// The EGL_EXT_device_* entry points, each checked.
struct DeviceApi {
  PFNEGLQUERYDEVICESEXTPROC query_devices = nullptr;
  PFNEGLQUERYDEVICESTRINGEXTPROC query_device_string = nullptr;
  PFNEGLGETPLATFORMDISPLAYEXTPROC get_platform_display = nullptr;
  std::string error;  // why the devices cannot be used, if they cannot

  static DeviceApi load(const char* client_extensions) {
    DeviceApi api;
    // NVIDIA's EGL offers EGL_EXT_device_base (enumeration + query) alone.
    if (!has_extension(client_extensions, "EGL_EXT_device_enumeration") &&
        !has_extension(client_extensions, "EGL_EXT_device_base")) {
      api.error = "neither EGL_EXT_device_enumeration nor EGL_EXT_device_base offered";
      return api;
    }
    if (!has_extension(client_extensions, "EGL_EXT_platform_device")) {
      api.error = "EGL_EXT_platform_device not offered";
      return api;
    }
    api.query_devices = proc<PFNEGLQUERYDEVICESEXTPROC>("eglQueryDevicesEXT");
    api.query_device_string = proc<PFNEGLQUERYDEVICESTRINGEXTPROC>("eglQueryDeviceStringEXT");
    api.get_platform_display = proc<PFNEGLGETPLATFORMDISPLAYEXTPROC>("eglGetPlatformDisplayEXT");
    if (!api.query_devices) api.error = "eglGetProcAddress(eglQueryDevicesEXT) gave nothing";
    if (!api.query_device_string)
      api.error = "eglGetProcAddress(eglQueryDeviceStringEXT) gave nothing";
    if (!api.get_platform_display)
      api.error = "eglGetProcAddress(eglGetPlatformDisplayEXT) gave nothing";
    return api;
  }
  bool ok() const { return error.empty(); }

  // The device's string, or empty when it has none (the error is cleared).
  std::string string(EGLDeviceEXT device, EGLint name) const {
    const char* text = query_device_string(device, name);
    if (text == nullptr) eglGetError();
    return text_or_empty(text);
  }
};

// Every device with its strings; `handles` parallel to survey.devices.
EglSurvey list_devices(std::vector<EGLDeviceEXT>& handles) {
  EglSurvey survey;
  survey.client_extensions = text_or_empty(eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS));
  if (survey.client_extensions.empty()) eglGetError();
  survey.device_enumeration =
      has_extension(survey.client_extensions.c_str(), "EGL_EXT_device_enumeration") ||
      has_extension(survey.client_extensions.c_str(), "EGL_EXT_device_base");
  const DeviceApi api = DeviceApi::load(survey.client_extensions.c_str());
  if (!api.ok()) {
    survey.error = api.error;
    return survey;
  }
  EGLint count = 0;
  if (!api.query_devices(0, nullptr, &count)) {
    survey.error = "eglQueryDevicesEXT failed: " + egl_error_string(eglGetError());
    return survey;
  }
  handles.assign(static_cast<size_t>(count), nullptr);
  if (count > 0 && !api.query_devices(count, handles.data(), &count)) {
    survey.error = "eglQueryDevicesEXT failed: " + egl_error_string(eglGetError());
    handles.clear();
    return survey;
  }
  handles.resize(static_cast<size_t>(count));
  for (EGLint i = 0; i < count; ++i) {
    EglDevice device;
    device.index = i;
    device.extensions = api.string(handles[i], EGL_EXTENSIONS);
    device.vendor = api.string(handles[i], EGL_VENDOR);
    if (has_extension(device.extensions.c_str(), "EGL_EXT_device_drm"))
      device.drm_file = api.string(handles[i], EGL_DRM_DEVICE_FILE_EXT);
    if (has_extension(device.extensions.c_str(), "EGL_EXT_device_drm_render_node"))
      device.render_node = api.string(handles[i], kRenderNodeFile);
    device.software = has_extension(device.extensions.c_str(), "EGL_MESA_device_software");
    survey.devices.push_back(std::move(device));
  }
  return survey;
}

EGLDisplay surfaceless_display(std::string& error) {
  const char* client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  if (!has_extension(client, "EGL_MESA_platform_surfaceless")) {
    error = "EGL_MESA_platform_surfaceless not offered (is libgl1-mesa-dri installed?)";
    return EGL_NO_DISPLAY;
  }
  auto get_platform_display = proc<PFNEGLGETPLATFORMDISPLAYEXTPROC>("eglGetPlatformDisplayEXT");
  if (!get_platform_display) {
    error = "eglGetProcAddress(eglGetPlatformDisplayEXT) gave nothing";
    return EGL_NO_DISPLAY;
  }
  EGLDisplay display =
      get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
  if (display == EGL_NO_DISPLAY)
    error = "eglGetPlatformDisplayEXT(surfaceless) failed: " + egl_error_string(eglGetError());
  return display;
}

std::string device_list_text(const EglSurvey& survey) {
  if (!survey.error.empty()) return "no EGL devices listed: " + survey.error;
  if (survey.devices.empty()) return "EGL lists no devices";
  std::string out = "EGL lists " + std::to_string(survey.devices.size()) + ":";
  for (const auto& d : survey.devices) out += " [" + d.summary() + "]";
  return out;
}

}  // namespace

std::string EglDevice::summary() const {
  std::string out = "device " + std::to_string(index) + ": " +
                    (vendor.empty() ? std::string("vendor not given") : vendor) +
                    (software ? " (Mesa software device)" : " (hardware)");
  if (!drm_file.empty()) out += ", DRM " + drm_file;
  if (!render_node.empty()) out += ", render node " + render_node;
  return out;
}

EglSurvey survey_egl() {
  std::vector<EGLDeviceEXT> handles;
  return list_devices(handles);
}

GlStrings current_gl_strings() {
  auto text = [](GLenum name) {
    return text_or_empty(reinterpret_cast<const char*>(glGetString(name)));
  };
  return {text(GL_VENDOR), text(GL_RENDERER), text(GL_VERSION)};
}
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

// Initialises `display` and makes a GLES 3 context current on it. On failure
// the display is terminated.
EglContext::Result EglContext::open(EGLDisplay display, const std::string& what) {
  EGLint major = 0, minor = 0;
  if (!eglInitialize(display, &major, &minor))
    return {nullptr, what + ": eglInitialize failed: " + egl_error_string(eglGetError())};
  auto fail = [&](const std::string& why) {
    Result r{nullptr, what + ": " + why + ": " + egl_error_string(eglGetError())};
    eglTerminate(display);
    return r;
  };
  const char* display_extensions = eglQueryString(display, EGL_EXTENSIONS);
  if (!has_extension(display_extensions, "EGL_KHR_surfaceless_context"))
    return fail("EGL_KHR_surfaceless_context missing");
  if (!eglBindAPI(EGL_OPENGL_ES_API)) return fail("eglBindAPI(GLES) failed");

  EGLConfig config = nullptr;
  if (!has_extension(display_extensions, "EGL_KHR_no_config_context")) {
    const EGLint attribs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_SURFACE_TYPE,
                              EGL_PBUFFER_BIT, EGL_NONE};
    EGLint n = 0;
    if (!eglChooseConfig(display, attribs, &config, 1, &n) || n < 1)
      return fail("no GLES 3 EGL config");
  }
  std::string traits;
  EGLContext context = EGL_NO_CONTEXT;
  if (has_extension(display_extensions, "EGL_EXT_create_context_robustness")) {
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
    if (context != EGL_NO_CONTEXT)
      traits += ", robust";
    else
      eglGetError();
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
  std::unique_ptr<EglContext> made(new EglContext(display, context, reset_status));
  made->gl_ = current_gl_strings();
  made->description_ = what + ", GL: " + made->gl_.renderer + " (" + made->gl_.vendor + ", " +
                       made->gl_.version + ")" + traits + ", EGL " + std::to_string(major) + "." +
                       std::to_string(minor);
  return {std::move(made), {}};
}

EglContext::Result EglContext::create(const RenderDevice& device) {
  using Kind = RenderDevice::Kind;
  auto open_surfaceless = [] {
    std::string error;
    EGLDisplay display = surfaceless_display(error);
    if (display == EGL_NO_DISPLAY) return Result{nullptr, "EGL surfaceless platform: " + error};
    auto made = open(display, "EGL surfaceless platform");
    if (made.context) made.context->opened_ = "surfaceless";
    return made;
  };
  if (device.kind == Kind::surfaceless) return open_surfaceless();

  std::vector<EGLDeviceEXT> handles;
  const EglSurvey survey = list_devices(handles);
  const DeviceApi api = DeviceApi::load(survey.client_extensions.c_str());
  auto open_device = [&](const EglDevice& d) {
    const std::string what = "EGL " + d.summary();
    if (!api.ok()) return Result{nullptr, what + ": " + api.error};
    EGLDisplay display = api.get_platform_display(EGL_PLATFORM_DEVICE_EXT,
                                                  handles[static_cast<size_t>(d.index)], nullptr);
    if (display == EGL_NO_DISPLAY)
      return Result{nullptr,
                    what + ": eglGetPlatformDisplayEXT failed: " + egl_error_string(eglGetError())};
    auto made = open(display, what);
    if (made.context) {
      made.context->opened_ = "device " + std::to_string(d.index);
      made.context->hardware_ = !d.software;
    }
    return made;
  };

  switch (device.kind) {
    case Kind::index:
      if (static_cast<size_t>(device.index) >= survey.devices.size())
        return {nullptr, "CS_RENDER_DEVICE=" + std::to_string(device.index) +
                             ": no such EGL device (" + device_list_text(survey) + ")"};
      return open_device(survey.devices[static_cast<size_t>(device.index)]);
    case Kind::render_node:
      for (const auto& d : survey.devices)
        if (d.render_node == device.path || d.drm_file == device.path) return open_device(d);
      return {nullptr, "CS_RENDER_DEVICE=" + device.path + ": no EGL device has that node (" +
                           device_list_text(survey) + ")"};
    case Kind::auto_select:
    case Kind::surfaceless:
      break;
  }
  // auto: the first hardware device, else surfaceless (Mesa's llvmpipe, as
  // fast as its software device and there without EGL_EXT_device_*).
  for (const auto& d : survey.devices) {
    if (d.software) continue;
    auto made = open_device(d);
    if (made.context) return made;
    log::warn("renderer: ", made.error, "; falling back to the EGL surfaceless platform");
    break;
  }
  return open_surfaceless();
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
