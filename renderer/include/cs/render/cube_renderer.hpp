#pragma once
// Draws the rotating cube and the timecode strip into an offscreen
// framebuffer and reads the frame back, upright (top row first). Create and
// use on the render thread, with an EglContext current.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cs/render/gl_objects.hpp"
#include "cs/timecode.hpp"

namespace cs::render {

enum class PixelFormat {
  rgba,  // 4 bytes a pixel
  i420,  // planar 4:2:0, converted on the GPU side: 1.5 bytes a pixel
};

struct RenderSettings {
  int width = 1280;
  int height = 720;
  bool timecode = true;
  PixelFormat format = PixelFormat::i420;
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

  // Draws the scene at `scene_seconds` with `stamp` in the strip.
  bool draw(double scene_seconds, timecode::Stamp stamp);
  // Reads the frame drawn last into `out` (frame_bytes(settings) bytes).
  bool read_back(std::uint8_t* out);

  const RenderSettings& settings() const { return settings_; }
  // The first GL error since the last call, as text, or empty.
  static std::string take_gl_error();

 private:
  explicit CubeRenderer(const RenderSettings& settings) : settings_(settings) {}
  bool init(std::string& error);
  void draw_cube(double scene_seconds);
  void draw_timecode(timecode::Stamp stamp);
  void convert_to_i420();

  RenderSettings settings_;
  GlProgram cube_program_;
  GlProgram convert_program_;
  GlVertexArray cube_vao_;
  GlVertexArray empty_vao_;
  GlBuffer cube_vbo_;
  GlTexture scene_texture_;
  GlRenderbuffer depth_buffer_;
  GlFramebuffer scene_fbo_;
  GlTexture i420_texture_;
  GlFramebuffer i420_fbo_;
  GLint u_model_ = -1, u_view_projection_ = -1, u_light_ = -1;
  GLint u_scene_ = -1, u_size_ = -1;
};

}  // namespace cs::render
