#pragma once
// A headless EGL display + OpenGL ES 3 context, current on the thread that
// created it. Move-only; owned by the render thread, which alone makes GL calls.
// Where the display offers it the context is robust (a GPU reset loses the
// context instead of taking the process down), so that a lost context can be
// reported and replaced by a new one.
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

  // After a failed frame (slow path, never per frame): what EGL and GL say
  // about this context, e.g. "EGL_CONTEXT_LOST (0x300e)" or "GPU reset
  // (GL_GUILTY_CONTEXT_RESET)"; empty when both find nothing wrong.
  std::string diagnose() const;

 private:
  using ResetStatusFn = unsigned (*)();
  EglContext(EGLDisplay display, EGLContext context, std::string description,
             ResetStatusFn reset_status)
      : display_(display),
        context_(context),
        description_(std::move(description)),
        reset_status_(reset_status) {}
  EGLDisplay display_;
  EGLContext context_;
  std::string description_;
  ResetStatusFn reset_status_;  // glGetGraphicsResetStatus(KHR|EXT), or null
};

// "EGL_BAD_ALLOC (0x3003)" and so on.
std::string egl_error_string(EGLint code);

}  // namespace cs::render
