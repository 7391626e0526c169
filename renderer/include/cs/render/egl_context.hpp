#pragma once
// A headless EGL display + OpenGL ES 3 context, current on the thread that
// created it. Move-only; owned by the render thread, which alone makes GL calls.
#include <EGL/egl.h>

#include <memory>
#include <string>

namespace cs::render {

class EglContext {
 public:
  struct Result {
    std::unique_ptr<EglContext> context;
    std::string error;  // why creation failed, when context is null
  };
  // Picks the EGL device platform when a real GPU (DRM device) is present,
  // otherwise Mesa's surfaceless platform; makes the context current.
  static Result create();

  ~EglContext();
  EglContext(const EglContext&) = delete;
  EglContext& operator=(const EglContext&) = delete;

  const std::string& description() const { return description_; }

 private:
  EglContext(EGLDisplay display, EGLContext context, std::string description)
      : display_(display), context_(context), description_(std::move(description)) {}
  EGLDisplay display_;
  EGLContext context_;
  std::string description_;
};

// "EGL_BAD_ALLOC (0x3003)" and so on.
std::string egl_error_string(EGLint code);

}  // namespace cs::render
