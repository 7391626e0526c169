#include "cs/render/cube_renderer.hpp"

#include <array>
#include <cstring>
#include <glm/glm.hpp>
#include <glm/gtc/matrix_transform.hpp>
#include <glm/gtc/type_ptr.hpp>
#include <utility>

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
      {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {0.95f, 0.20f, 0.20f}},    // red
      {{0, 0, -1}, {-1, 0, 0}, {0, 1, 0}, {0.20f, 0.85f, 0.25f}},  // green
      {{1, 0, 0}, {0, 0, -1}, {0, 1, 0}, {0.20f, 0.40f, 0.95f}},   // blue
      {{-1, 0, 0}, {0, 0, 1}, {0, 1, 0}, {0.95f, 0.85f, 0.15f}},   // yellow
      {{0, 1, 0}, {1, 0, 0}, {0, 0, -1}, {0.90f, 0.25f, 0.90f}},   // magenta
      {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}, {0.15f, 0.90f, 0.90f}},   // cyan
  };
  std::array<Vertex, 36> out{};
  size_t i = 0;
  for (const auto& f : faces) {
    const glm::vec3 corners[4] = {f.normal - f.u - f.v, f.normal + f.u - f.v, f.normal + f.u + f.v,
                                  f.normal - f.u + f.v};
    for (int index : {0, 1, 2, 0, 2, 3}) {
      const glm::vec3 p = corners[index] * 0.5f;
      out[i++] = {
          {p.x, p.y, p.z}, {f.normal.x, f.normal.y, f.normal.z}, {f.color.x, f.color.y, f.color.z}};
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

namespace {
std::string gl_error_text(GLenum e) {
  const char* name = nullptr;
  switch (e) {
    case GL_INVALID_ENUM:
      name = "GL_INVALID_ENUM";
      break;
    case GL_INVALID_VALUE:
      name = "GL_INVALID_VALUE";
      break;
    case GL_INVALID_OPERATION:
      name = "GL_INVALID_OPERATION";
      break;
    case GL_OUT_OF_MEMORY:
      name = "GL_OUT_OF_MEMORY";
      break;
    case GL_INVALID_FRAMEBUFFER_OPERATION:
      name = "GL_INVALID_FRAMEBUFFER_OPERATION";
      break;
    case 0x0507:  // GL_CONTEXT_LOST (GLES 3.2, KHR_robustness)
      name = "GL_CONTEXT_LOST";
      break;
    default:
      break;
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%04x", e);
  return name ? std::string(name) + " (" + hex + ")" : std::string("GL error ") + hex;
}
}  // namespace

std::string CubeRenderer::take_gl_error() {
  const GLenum e = glGetError();
  if (e == GL_NO_ERROR) return {};
  // A lost context reports GL_CONTEXT_LOST for every call: stop after a few.
  for (int i = 0; i < 8 && glGetError() != GL_NO_ERROR; ++i) {
  }
  return gl_error_text(e);
}

std::string CubeRenderer::failure() const {
  return failed_with_ == GL_NO_ERROR ? std::string() : gl_error_text(failed_with_);
}

CubeRenderer::Result CubeRenderer::create(const RenderSettings& settings) {
  if (settings.format == PixelFormat::nv12 && (settings.width % 4 != 0 || settings.height % 2 != 0))
    return {nullptr, "NV12 read-back needs a width divisible by 4 and an even height"};
  std::unique_ptr<CubeRenderer> r(new CubeRenderer(settings));
  std::string error;
  if (!r->init(error)) return {nullptr, error};
  return {std::move(r), {}};
}

CubeRenderer::~CubeRenderer() {
  for (auto& slot : ring_)
    if (slot.fence) glDeleteSync(slot.fence);
}

bool CubeRenderer::make_target(Target& t, Output output, GLenum internal_format, GLenum read_format,
                               int width, int height, std::string& error) {
  t.output = output;
  t.clear = background(output);
  t.width = width;
  t.height = height;
  t.read_format = read_format;
  t.colour = GlTexture(gen(glGenTextures));
  glBindTexture(GL_TEXTURE_2D, t.colour.get());
  glTexStorage2D(GL_TEXTURE_2D, 1, internal_format, width, height);
  glBindTexture(GL_TEXTURE_2D, 0);
  t.fbo = GlFramebuffer(gen(glGenFramebuffers));
  glBindFramebuffer(GL_FRAMEBUFFER, t.fbo.get());
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, t.colour.get(), 0);
  if (!complete(GL_FRAMEBUFFER, error, "offscreen")) return false;
  if (read_format != GL_RGBA) {
    // GLES guarantees only RGBA read-back; R8/RG8 need the implementation's
    // own read format to match.
    GLint format = 0, type = 0;
    glGetIntegerv(GL_IMPLEMENTATION_COLOR_READ_FORMAT, &format);
    glGetIntegerv(GL_IMPLEMENTATION_COLOR_READ_TYPE, &type);
    if (static_cast<GLenum>(format) != read_format || type != GL_UNSIGNED_BYTE) {
      error = "this GL cannot read back single- and two-channel targets (use RGBA)";
      return false;
    }
  }
  return true;
}

bool CubeRenderer::init(std::string& error) {
  cube_program_ = link("cube.vert", "cube.frag", error);
  if (!cube_program_.get()) return false;
  u_model_ = glGetUniformLocation(cube_program_.get(), "u_model");
  u_view_projection_ = glGetUniformLocation(cube_program_.get(), "u_view_projection");
  u_light_ = glGetUniformLocation(cube_program_.get(), "u_light_direction");
  u_output_ = glGetUniformLocation(cube_program_.get(), "u_output");

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
  if (settings_.format == PixelFormat::rgba) {
    if (!make_target(main_, Output::rgb, GL_RGBA8, GL_RGBA, w, h, error)) return false;
  } else {
    if (!make_target(main_, Output::luma, GL_R8, GL_RED, w, h, error)) return false;
    if (!make_target(chroma_, Output::chroma, GL_RG8, GL_RG, w / 2, h / 2, error)) return false;
  }
  if (settings_.read_back == ReadBackMode::ring) {
    for (auto& slot : ring_) {
      slot.buffer = GlBuffer(gen(glGenBuffers));
      glBindBuffer(GL_PIXEL_PACK_BUFFER, slot.buffer.get());
      glBufferData(GL_PIXEL_PACK_BUFFER, static_cast<GLsizeiptr>(frame_bytes(settings_)), nullptr,
                   GL_STREAM_READ);
    }
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
  }
  set_fixed_uniforms();
  // Rows of R8 and RG8 targets are not 4-byte multiples at every size.
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  if (auto e = take_gl_error(); !e.empty()) {
    error = "GL set-up failed: " + e;
    return false;
  }
  return true;
}

// The background colour in each output form (BT.601 limited range).
std::array<float, 4> CubeRenderer::background(Output output) {
  const float r = 0.08f, g = 0.09f, b = 0.12f;
  switch (output) {
    case Output::luma:
      return {0.257f * r + 0.504f * g + 0.098f * b + 16.0f / 255.0f, 0, 0, 1};
    case Output::chroma:
      return {-0.148f * r - 0.291f * g + 0.439f * b + 128.0f / 255.0f,
              0.439f * r - 0.368f * g - 0.071f * b + 128.0f / 255.0f, 0, 1};
    case Output::rgb:
      break;
  }
  return {r, g, b, 1};
}

// The camera, the projection and the light never change: uniforms keep their
// values in the program, so they are set once.
void CubeRenderer::set_fixed_uniforms() {
  const float aspect = static_cast<float>(settings_.width) / static_cast<float>(settings_.height);
  // The y flip makes glReadPixels' bottom-up rows come out top-down: the
  // image is upright in memory with no row copy.
  const glm::mat4 flip = glm::scale(glm::mat4(1.0f), glm::vec3(1.0f, -1.0f, 1.0f));
  const glm::mat4 projection = flip * glm::perspective(glm::radians(45.0f), aspect, 0.1f, 100.0f);
  const glm::mat4 view = glm::lookAt(glm::vec3(0, 0, 3.2f), glm::vec3(0), glm::vec3(0, 1, 0));
  const glm::mat4 view_projection = projection * view;
  const glm::vec3 light = glm::normalize(glm::vec3(-0.4f, -0.6f, -1.0f));
  glUseProgram(cube_program_.get());
  glUniformMatrix4fv(u_view_projection_, 1, GL_FALSE, glm::value_ptr(view_projection));
  glUniform3fv(u_light_, 1, glm::value_ptr(light));
  glUseProgram(0);
}

void CubeRenderer::draw_pass(const Target& target) {
  glBindFramebuffer(GL_FRAMEBUFFER, target.fbo.get());
  glViewport(0, 0, target.width, target.height);
  glClearColor(target.clear[0], target.clear[1], target.clear[2], target.clear[3]);
  glClear(GL_COLOR_BUFFER_BIT);
  glUniform1i(u_output_, static_cast<int>(target.output));
  glDrawArrays(GL_TRIANGLES, 0, 36);
}

bool CubeRenderer::draw(const ScenePose& pose, timecode::Stamp stamp) {
  const auto angle = static_cast<float>(pose.spin);
  // A viewer's drag turns the spinning cube as seen from the camera.
  glm::mat4 model = glm::rotate(glm::mat4(1.0f), pose.pitch, glm::vec3(1, 0, 0));
  model = glm::rotate(model, pose.yaw, glm::vec3(0, 1, 0));
  model = glm::rotate(model, angle * 0.9f, glm::vec3(0, 1, 0));
  model = glm::rotate(model, angle * 0.55f, glm::vec3(1, 0, 0));

  glUseProgram(cube_program_.get());
  glUniformMatrix4fv(u_model_, 1, GL_FALSE, glm::value_ptr(model));
  glBindVertexArray(cube_vao_.get());
  // A convex cube needs no depth buffer: culling back faces is enough, and
  // on llvmpipe skipping the depth clear and test is measurably cheaper.
  // The y flip turns the faces' counter-clockwise winding clockwise.
  glEnable(GL_CULL_FACE);
  glCullFace(GL_BACK);
  glFrontFace(GL_CW);
  draw_pass(main_);
  if (settings_.format == PixelFormat::nv12) draw_pass(chroma_);
  glDisable(GL_CULL_FACE);
  glBindVertexArray(0);
  glUseProgram(0);
  stamp_ = stamp;
  return gl_ok();
}

bool CubeRenderer::read_back(std::uint8_t* out) {
  glBindFramebuffer(GL_READ_FRAMEBUFFER, main_.fbo.get());
  glReadPixels(0, 0, main_.width, main_.height, main_.read_format, GL_UNSIGNED_BYTE, out);
  if (settings_.format == PixelFormat::nv12) {
    glBindFramebuffer(GL_READ_FRAMEBUFFER, chroma_.fbo.get());
    glReadPixels(0, 0, chroma_.width, chroma_.height, chroma_.read_format, GL_UNSIGNED_BYTE,
                 out + static_cast<std::size_t>(main_.width) * main_.height);
  }
  if (!gl_ok()) return false;
  if (settings_.timecode) write_timecode(out, stamp_);
  return true;
}

// glReadPixels of the frame drawn last into `buffer`: returns at once, the
// GPU copies while the CPU goes on.
bool CubeRenderer::read_into_pack_buffer(GLuint buffer) {
  glBindBuffer(GL_PIXEL_PACK_BUFFER, buffer);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, main_.fbo.get());
  glReadPixels(0, 0, main_.width, main_.height, main_.read_format, GL_UNSIGNED_BYTE, nullptr);
  if (settings_.format == PixelFormat::nv12) {
    glBindFramebuffer(GL_READ_FRAMEBUFFER, chroma_.fbo.get());
    glReadPixels(0, 0, chroma_.width, chroma_.height, chroma_.read_format, GL_UNSIGNED_BYTE,
                 reinterpret_cast<void*>(static_cast<std::size_t>(main_.width) * main_.height));
  }
  glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
  return gl_ok();
}

// Waits for `fence` (the read into `buffer`) and copies the frame out.
bool CubeRenderer::copy_from_pack_buffer(GLuint buffer, GLsync fence, std::uint8_t* out) {
  // A second is far past any frame: a GPU that takes longer has hung.
  constexpr GLuint64 kTimeoutNs = 1'000'000'000;
  const GLenum waited = glClientWaitSync(fence, GL_SYNC_FLUSH_COMMANDS_BIT, kTimeoutNs);
  if (waited != GL_ALREADY_SIGNALED && waited != GL_CONDITION_SATISFIED) {
    // GL_TIMEOUT_EXPIRED has no GL error of its own: report it as lost.
    failed_with_ = waited == GL_TIMEOUT_EXPIRED ? 0x0507 : glGetError();
    if (failed_with_ == GL_NO_ERROR) failed_with_ = 0x0507;
    return false;
  }
  const std::size_t bytes = frame_bytes(settings_);
  glBindBuffer(GL_PIXEL_PACK_BUFFER, buffer);
  const void* mapped =
      glMapBufferRange(GL_PIXEL_PACK_BUFFER, 0, static_cast<GLsizeiptr>(bytes), GL_MAP_READ_BIT);
  if (mapped == nullptr) {
    gl_ok();
    if (failed_with_ == GL_NO_ERROR) failed_with_ = GL_OUT_OF_MEMORY;
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    return false;
  }
  std::memcpy(out, mapped, bytes);
  const GLboolean intact = glUnmapBuffer(GL_PIXEL_PACK_BUFFER);
  glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
  if (!gl_ok()) return false;
  if (!intact) {
    // The buffer's contents were lost while mapped (GLES 3: "corrupt").
    failed_with_ = 0x0507;
    return false;
  }
  return true;
}

CubeRenderer::ReadBack CubeRenderer::read_back_frame(std::uint8_t* out, const FrameInfo& drawn,
                                                     FrameInfo& delivered) {
  if (settings_.read_back == ReadBackMode::sync) {
    if (!read_back(out)) return ReadBack::failed;
    delivered = drawn;
    return ReadBack::frame;
  }
  // Start the read of the frame drawn last first, so that the GPU copies it
  // while the CPU maps and copies the frame before it.
  PackSlot& slot = ring_[ring_next_];
  if (slot.fence) {
    glDeleteSync(slot.fence);
    slot.fence = nullptr;
  }
  if (!read_into_pack_buffer(slot.buffer.get())) return ReadBack::failed;
  slot.fence = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
  if (slot.fence == nullptr) {
    gl_ok();
    return ReadBack::failed;
  }
  glFlush();
  slot.info = drawn;
  slot.stamp = stamp_;
  ring_next_ = (ring_next_ + 1) % ring_.size();
  const bool had_pending = std::exchange(pending_, true);
  if (!had_pending) return ReadBack::none_yet;
  PackSlot& older = ring_[ring_next_];
  if (!copy_from_pack_buffer(older.buffer.get(), older.fence, out)) return ReadBack::failed;
  delivered = older.info;
  if (settings_.timecode) write_timecode(out, older.stamp);
  return ReadBack::frame;
}

// The strip is written into the read-back frame rather than drawn: on
// llvmpipe, 64 scissored clears (each one a quad draw inside Mesa) cost
// about 0.3 ms of CPU a frame, the copy below a few microseconds. The stamp
// still carries the render time sampled before drawing (SPEC.md).
void CubeRenderer::write_timecode(std::uint8_t* frame, timecode::Stamp stamp) const {
  const int w = settings_.width, h = settings_.height;
  if (settings_.format == PixelFormat::rgba) {
    timecode::encode_rgba(stamp, frame, w, h, w * 4);
  } else {
    timecode::encode_nv12(stamp, frame, w, frame + static_cast<std::size_t>(w) * h, w, w, h);
  }
}

}  // namespace cs::render
