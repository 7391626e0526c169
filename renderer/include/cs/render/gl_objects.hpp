#pragma once
// Move-only owners of GL object names. Render thread only.
#include <GLES3/gl3.h>

#include <utility>

namespace cs::render {

template <void (*Delete)(GLuint)>
class GlName {
 public:
  GlName() = default;
  explicit GlName(GLuint name) : name_(name) {}
  ~GlName() { reset(); }
  GlName(GlName&& other) noexcept : name_(std::exchange(other.name_, 0)) {}
  GlName& operator=(GlName&& other) noexcept {
    if (this != &other) {
      reset();
      name_ = std::exchange(other.name_, 0);
    }
    return *this;
  }
  GlName(const GlName&) = delete;
  GlName& operator=(const GlName&) = delete;
  GLuint get() const { return name_; }
  void reset() {
    if (name_ != 0) Delete(name_);
    name_ = 0;
  }

 private:
  GLuint name_ = 0;
};

namespace detail {
inline void delete_program(GLuint n) {
  glDeleteProgram(n);
}
inline void delete_shader(GLuint n) {
  glDeleteShader(n);
}
inline void delete_buffer(GLuint n) {
  glDeleteBuffers(1, &n);
}
inline void delete_vertex_array(GLuint n) {
  glDeleteVertexArrays(1, &n);
}
inline void delete_texture(GLuint n) {
  glDeleteTextures(1, &n);
}
inline void delete_framebuffer(GLuint n) {
  glDeleteFramebuffers(1, &n);
}
}  // namespace detail

using GlProgram = GlName<detail::delete_program>;
using GlShader = GlName<detail::delete_shader>;
using GlBuffer = GlName<detail::delete_buffer>;
using GlVertexArray = GlName<detail::delete_vertex_array>;
using GlTexture = GlName<detail::delete_texture>;
using GlFramebuffer = GlName<detail::delete_framebuffer>;

}  // namespace cs::render
