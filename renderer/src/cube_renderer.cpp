#include "cs/render/cube_renderer.hpp"

#include <array>
#include <glm/glm.hpp>
#include <glm/gtc/matrix_transform.hpp>
#include <glm/gtc/type_ptr.hpp>

#include "cs/embedded.hpp"

namespace cs::shaders {
const cs::EmbeddedFiles& files();
}

namespace cs::render {
namespace {

struct Vertex {
  float position[3];
  float normal[3];
  float color[3];
};

// Six faces, each its own saturated colour so that any view shows a cube.
std::array<Vertex, 36> cube_vertices() {
  struct Face {
    glm::vec3 normal, u, v, color;
  };
  const Face faces[6] = {
      {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {0.95f, 0.20f, 0.20f}},   // red
      {{0, 0, -1}, {-1, 0, 0}, {0, 1, 0}, {0.20f, 0.85f, 0.25f}},  // green
      {{1, 0, 0}, {0, 0, -1}, {0, 1, 0}, {0.20f, 0.40f, 0.95f}},   // blue
      {{-1, 0, 0}, {0, 0, 1}, {0, 1, 0}, {0.95f, 0.85f, 0.15f}},   // yellow
      {{0, 1, 0}, {1, 0, 0}, {0, 0, -1}, {0.90f, 0.25f, 0.90f}},   // magenta
      {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}, {0.15f, 0.90f, 0.90f}},   // cyan
  };
  std::array<Vertex, 36> out{};
  size_t i = 0;
  for (const auto& f : faces) {
    const glm::vec3 corners[4] = {f.normal - f.u - f.v, f.normal + f.u - f.v,
                                  f.normal + f.u + f.v, f.normal - f.u + f.v};
    for (int index : {0, 1, 2, 0, 2, 3}) {
      const glm::vec3 p = corners[index] * 0.5f;
      out[i++] = {{p.x, p.y, p.z}, {f.normal.x, f.normal.y, f.normal.z},
                  {f.color.x, f.color.y, f.color.z}};
    }
  }
  return out;
}

GlShader compile(GLenum type, std::string_view source, std::string& error) {
  GlShader shader(glCreateShader(type));
  const char* text = source.data();
  const GLint length = static_cast<GLint>(source.size());
  glShaderSource(shader.get(), 1, &text, &length);
  glCompileShader(shader.get());
  GLint ok = GL_FALSE;
  glGetShaderiv(shader.get(), GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[1024] = {};
    glGetShaderInfoLog(shader.get(), sizeof log, nullptr, log);
    error = std::string("shader compile failed: ") + log;
    return {};
  }
  return shader;
}

GlProgram link(const char* vertex_name, const char* fragment_name, std::string& error) {
  auto vertex_source = cs::shaders::files().find(vertex_name);
  auto fragment_source = cs::shaders::files().find(fragment_name);
  if (!vertex_source || !fragment_source) {
    error = std::string("embedded shader missing: ") + vertex_name + " or " + fragment_name;
    return {};
  }
  GlShader vs = compile(GL_VERTEX_SHADER, *vertex_source, error);
  if (!vs.get()) return {};
  GlShader fs = compile(GL_FRAGMENT_SHADER, *fragment_source, error);
  if (!fs.get()) return {};
  GlProgram program(glCreateProgram());
  glAttachShader(program.get(), vs.get());
  glAttachShader(program.get(), fs.get());
  glLinkProgram(program.get());
  GLint ok = GL_FALSE;
  glGetProgramiv(program.get(), GL_LINK_STATUS, &ok);
  if (!ok) {
    char log[1024] = {};
    glGetProgramInfoLog(program.get(), sizeof log, nullptr, log);
    error = std::string("program link failed (") + fragment_name + "): " + log;
    return {};
  }
  return program;
}

GLuint gen(void (*fn)(GLsizei, GLuint*)) {
  GLuint name = 0;
  fn(1, &name);
  return name;
}

bool complete(GLenum target, std::string& error, const char* what) {
  const GLenum status = glCheckFramebufferStatus(target);
  if (status == GL_FRAMEBUFFER_COMPLETE) return true;
  error = std::string(what) + " framebuffer incomplete: status 0x" + std::to_string(status);
  return false;
}

}  // namespace

std::size_t frame_bytes(const RenderSettings& s) {
  const auto pixels = static_cast<std::size_t>(s.width) * static_cast<std::size_t>(s.height);
  return s.format == PixelFormat::rgba ? pixels * 4 : pixels * 3 / 2;
}

std::string CubeRenderer::take_gl_error() {
  const GLenum e = glGetError();
  if (e == GL_NO_ERROR) return {};
  while (glGetError() != GL_NO_ERROR) {
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%04x", e);
  return std::string("GL error ") + hex;
}

CubeRenderer::Result CubeRenderer::create(const RenderSettings& settings) {
  if (settings.format == PixelFormat::i420 && (settings.width % 8 != 0 || settings.height % 4 != 0))
    return {nullptr, "I420 read-back needs a width divisible by 8 and a height divisible by 4"};
  std::unique_ptr<CubeRenderer> r(new CubeRenderer(settings));
  std::string error;
  if (!r->init(error)) return {nullptr, error};
  return {std::move(r), {}};
}

CubeRenderer::~CubeRenderer() = default;

bool CubeRenderer::init(std::string& error) {
  cube_program_ = link("cube.vert", "cube.frag", error);
  if (!cube_program_.get()) return false;
  u_model_ = glGetUniformLocation(cube_program_.get(), "u_model");
  u_view_projection_ = glGetUniformLocation(cube_program_.get(), "u_view_projection");
  u_light_ = glGetUniformLocation(cube_program_.get(), "u_light_direction");

  const auto vertices = cube_vertices();
  cube_vao_ = GlVertexArray(gen(glGenVertexArrays));
  cube_vbo_ = GlBuffer(gen(glGenBuffers));
  glBindVertexArray(cube_vao_.get());
  glBindBuffer(GL_ARRAY_BUFFER, cube_vbo_.get());
  glBufferData(GL_ARRAY_BUFFER, sizeof(vertices), vertices.data(), GL_STATIC_DRAW);
  const auto stride = static_cast<GLsizei>(sizeof(Vertex));
  glVertexAttribPointer(0, 3, GL_FLOAT, GL_FALSE, stride, reinterpret_cast<void*>(0));
  glVertexAttribPointer(1, 3, GL_FLOAT, GL_FALSE, stride,
                        reinterpret_cast<void*>(offsetof(Vertex, normal)));
  glVertexAttribPointer(2, 3, GL_FLOAT, GL_FALSE, stride,
                        reinterpret_cast<void*>(offsetof(Vertex, color)));
  for (GLuint i = 0; i < 3; ++i) glEnableVertexAttribArray(i);
  glBindVertexArray(0);

  const int w = settings_.width, h = settings_.height;
  scene_texture_ = GlTexture(gen(glGenTextures));
  glBindTexture(GL_TEXTURE_2D, scene_texture_.get());
  glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, w, h);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  depth_buffer_ = GlRenderbuffer(gen(glGenRenderbuffers));
  glBindRenderbuffer(GL_RENDERBUFFER, depth_buffer_.get());
  glRenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH_COMPONENT24, w, h);
  scene_fbo_ = GlFramebuffer(gen(glGenFramebuffers));
  glBindFramebuffer(GL_FRAMEBUFFER, scene_fbo_.get());
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D,
                         scene_texture_.get(), 0);
  glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER,
                            depth_buffer_.get());
  if (!complete(GL_FRAMEBUFFER, error, "scene")) return false;

  if (settings_.format == PixelFormat::i420) {
    convert_program_ = link("fullscreen.vert", "rgba_to_i420.frag", error);
    if (!convert_program_.get()) return false;
    u_scene_ = glGetUniformLocation(convert_program_.get(), "u_scene");
    u_size_ = glGetUniformLocation(convert_program_.get(), "u_size");
    empty_vao_ = GlVertexArray(gen(glGenVertexArrays));
    i420_texture_ = GlTexture(gen(glGenTextures));
    glBindTexture(GL_TEXTURE_2D, i420_texture_.get());
    glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, w / 4, h * 3 / 2);
    i420_fbo_ = GlFramebuffer(gen(glGenFramebuffers));
    glBindFramebuffer(GL_FRAMEBUFFER, i420_fbo_.get());
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D,
                           i420_texture_.get(), 0);
    if (!complete(GL_FRAMEBUFFER, error, "I420")) return false;
  }
  glBindTexture(GL_TEXTURE_2D, 0);
  glPixelStorei(GL_PACK_ALIGNMENT, 4);
  if (auto e = take_gl_error(); !e.empty()) {
    error = "GL set-up failed: " + e;
    return false;
  }
  return true;
}

void CubeRenderer::draw_cube(double t) {
  const float aspect = static_cast<float>(settings_.width) / static_cast<float>(settings_.height);
  // The y flip makes glReadPixels' bottom-up rows come out top-down: the
  // image is upright in memory with no row copy.
  const glm::mat4 flip = glm::scale(glm::mat4(1.0f), glm::vec3(1.0f, -1.0f, 1.0f));
  const glm::mat4 projection = flip * glm::perspective(glm::radians(45.0f), aspect, 0.1f, 100.0f);
  const glm::mat4 view = glm::lookAt(glm::vec3(0, 0, 3.2f), glm::vec3(0), glm::vec3(0, 1, 0));
  const glm::mat4 view_projection = projection * view;
  const auto angle = static_cast<float>(t);
  glm::mat4 model = glm::rotate(glm::mat4(1.0f), angle * 0.9f, glm::vec3(0, 1, 0));
  model = glm::rotate(model, angle * 0.55f, glm::vec3(1, 0, 0));
  const glm::vec3 light = glm::normalize(glm::vec3(-0.4f, -0.6f, -1.0f));

  glViewport(0, 0, settings_.width, settings_.height);
  glEnable(GL_DEPTH_TEST);
  glClearColor(0.08f, 0.09f, 0.12f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
  glUseProgram(cube_program_.get());
  glUniformMatrix4fv(u_model_, 1, GL_FALSE, glm::value_ptr(model));
  glUniformMatrix4fv(u_view_projection_, 1, GL_FALSE, glm::value_ptr(view_projection));
  glUniform3fv(u_light_, 1, glm::value_ptr(light));
  glBindVertexArray(cube_vao_.get());
  glDrawArrays(GL_TRIANGLES, 0, 36);
  glBindVertexArray(0);
  glDisable(GL_DEPTH_TEST);
}

// Scissored clears: 64 tiny rectangles, cheaper than another draw call setup.
// GL row 0 is the image's top row (see the flip in draw_cube).
void CubeRenderer::draw_timecode(timecode::Stamp stamp) {
  const auto g = timecode::Geometry::for_frame(settings_.width, settings_.height);
  glEnable(GL_SCISSOR_TEST);
  glScissor(0, 0, settings_.width, g.row_height * timecode::kRows);
  glClearColor(0, 0, 0, 1);
  glClear(GL_COLOR_BUFFER_BIT);
  glClearColor(1, 1, 1, 1);
  const std::uint32_t rows[timecode::kRows] = {stamp.render_ms, stamp.frame_number};
  for (int row = 0; row < timecode::kRows; ++row) {
    for (int i = 0; i < timecode::kBits; ++i) {
      if (!timecode::bit_at(rows[row], i)) continue;
      glScissor(i * g.block_width, row * g.row_height, g.block_width, g.row_height);
      glClear(GL_COLOR_BUFFER_BIT);
    }
  }
  glDisable(GL_SCISSOR_TEST);
}

void CubeRenderer::convert_to_i420() {
  glBindFramebuffer(GL_FRAMEBUFFER, i420_fbo_.get());
  glViewport(0, 0, settings_.width / 4, settings_.height * 3 / 2);
  glUseProgram(convert_program_.get());
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, scene_texture_.get());
  glUniform1i(u_scene_, 0);
  glUniform2i(u_size_, settings_.width, settings_.height);
  glBindVertexArray(empty_vao_.get());
  glDrawArrays(GL_TRIANGLES, 0, 3);
  glBindVertexArray(0);
  glBindTexture(GL_TEXTURE_2D, 0);
}

bool CubeRenderer::draw(double scene_seconds, timecode::Stamp stamp) {
  glBindFramebuffer(GL_FRAMEBUFFER, scene_fbo_.get());
  draw_cube(scene_seconds);
  if (settings_.timecode) draw_timecode(stamp);
  if (settings_.format == PixelFormat::i420) convert_to_i420();
  return take_gl_error().empty();
}

bool CubeRenderer::read_back(std::uint8_t* out) {
  if (settings_.format == PixelFormat::i420) {
    glBindFramebuffer(GL_READ_FRAMEBUFFER, i420_fbo_.get());
    glReadPixels(0, 0, settings_.width / 4, settings_.height * 3 / 2, GL_RGBA, GL_UNSIGNED_BYTE,
                 out);
  } else {
    glBindFramebuffer(GL_READ_FRAMEBUFFER, scene_fbo_.get());
    glReadPixels(0, 0, settings_.width, settings_.height, GL_RGBA, GL_UNSIGNED_BYTE, out);
  }
  return take_gl_error().empty();
}

}  // namespace cs::render
