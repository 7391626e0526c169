#pragma once
// Draws the rotating cube into an offscreen framebuffer and reads the frame
// back, upright (top row first), with the timecode strip written in. Create and
// use on the render thread, with an EglContext current.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cs/config.hpp"
#include "cs/render/frame_target.hpp"
#include "cs/render/gl_objects.hpp"
#include "cs/render/scene.hpp"
#include "cs/timecode.hpp"

namespace cs::render {

enum class PixelFormat {
  rgba,  // 4 bytes a pixel
  nv12,  // Y plane + interleaved UV at half resolution, drawn directly by
         // the GPU side: 1.5 bytes a pixel and no CPU colour conversion
};

struct RenderSettings {
  int width = 1280;
  int height = 720;
  bool timecode = true;
  PixelFormat format = PixelFormat::nv12;
  // How read_back_frame() reads (CS_READBACK). The ring hands each frame
  // over one frame period later than sync: frame N comes out of the call
  // that read frame N+1, 33 ms more glass-to-glass latency at 30 fps.
  ReadBackMode read_back = ReadBackMode::sync;
};

std::size_t frame_bytes(const RenderSettings& settings);

class CubeRenderer {
 public:
  struct Result {
    std::unique_ptr<CubeRenderer> renderer;
    std::string error;
  };
  static Result create(const RenderSettings& settings);
  ~CubeRenderer();

  // Draws the cube at `pose`; `stamp` goes into its strip.
  // False on a GL error (then failure() says which).
  bool draw(const ScenePose& pose, timecode::Stamp stamp);
  // Reads the frame drawn last into `out` (frame_bytes(settings) bytes),
  // with the timecode strip of its stamp when settings().timecode. False on
  // a GL error.
  bool read_back(std::uint8_t* out);

  // The render loop's read-back, as settings().read_back says. sync: as
  // read_back(), `delivered` = `drawn`. ring: starts reading the frame drawn
  // last into a pixel-pack buffer (glReadPixels into PBO N%2, a fence,
  // glFlush) and copies the frame before it, whose read the GPU has finished
  // meanwhile (glClientWaitSync, glMapBufferRange), into `out`; `delivered`
  // is that frame's info. `drawn` is the info of the frame drawn last.
  enum class ReadBack { failed, frame, none_yet };
  ReadBack read_back_frame(std::uint8_t* out, const FrameInfo& drawn, FrameInfo& delivered);
  // Forgets the frames in the ring (on resume, or a frame the target skipped).
  void discard_pending() { pending_ = false; }

  const RenderSettings& settings() const { return settings_; }
  // The GL error that failed the last draw() or read_back(), as text.
  std::string failure() const;
  // The first GL error since the last call, as text, or empty.
  static std::string take_gl_error();

 private:
  enum class Output { rgb = 0, luma = 1, chroma = 2 };  // cube.vert's u_output
  // One offscreen colour target.
  struct Target {
    Output output = Output::rgb;   // what the cube shader writes into it
    std::array<float, 4> clear{};  // the background in that form
    GlTexture colour;
    GlFramebuffer fbo;
    int width = 0, height = 0;
    GLenum read_format = GL_RGBA;  // what glReadPixels gives for it
  };

  explicit CubeRenderer(const RenderSettings& settings) : settings_(settings) {}
  bool init(std::string& error);
  bool make_target(Target& target, Output output, GLenum internal_format, GLenum read_format,
                   int width, int height, std::string& error);
  static std::array<float, 4> background(Output output);
  void set_fixed_uniforms();
  void draw_pass(const Target& target);
  void write_timecode(std::uint8_t* frame, timecode::Stamp stamp) const;
  // One glGetError a call: the frame path's only check.
  bool gl_ok() {
    failed_with_ = glGetError();
    return failed_with_ == GL_NO_ERROR;
  }

  bool read_into_pack_buffer(GLuint buffer);
  bool copy_from_pack_buffer(GLuint buffer, GLsync fence, std::uint8_t* out);

  // The pixel-pack ring (ReadBackMode::ring): two buffers; while frame N is
  // read into one, frame N-1 is mapped from the other.
  struct PackSlot {
    GlBuffer buffer;
    GLsync fence = nullptr;
    FrameInfo info{};
    timecode::Stamp stamp{0, 0, 0};
  };
  std::array<PackSlot, 2> ring_;
  std::size_t ring_next_ = 0;  // the slot the next frame is read into
  bool pending_ = false;       // the other slot holds a frame not yet handed over

  RenderSettings settings_;
  GlProgram cube_program_;
  GlVertexArray cube_vao_;
  GlBuffer cube_vbo_;
  Target main_;                     // RGBA, or the Y plane
  Target chroma_;                   // NV12's UV plane
  timecode::Stamp stamp_{0, 0, 0};  // of the frame drawn last
  GLenum failed_with_ = GL_NO_ERROR;
  GLint u_model_ = -1, u_view_projection_ = -1, u_light_ = -1, u_output_ = -1;
};

}  // namespace cs::render
