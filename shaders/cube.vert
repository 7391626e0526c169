#version 300 es
// Cube vertex shader. Each face is flat, so its lit colour is the same at
// every one of its vertices: lighting and the colour-space conversion are done
// here, once per vertex, and the fragment shader only writes a flat value. On
// llvmpipe the fragment stage is the per-pixel cost, so this keeps it minimal.
//
// Lambert lighting from one directional light plus ambient, so each face keeps
// its own hue while the rotation stays visible. u_output picks what is
// written: the colour itself (RGBA target), its luma (the Y plane) or its
// chroma (the interleaved UV plane of NV12), BT.601 limited range, so that
// the frame leaves the GPU side already in the encoder's format.
layout(location = 0) in vec3 a_position;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec3 a_color;

uniform mat4 u_model;
uniform mat4 u_view_projection;
uniform vec3 u_light_direction;
uniform int u_output;  // 0 = RGB, 1 = Y, 2 = UV

flat out vec4 v_output;

const vec3 kY = vec3(0.257, 0.504, 0.098);
const vec3 kU = vec3(-0.148, -0.291, 0.439);
const vec3 kV = vec3(0.439, -0.368, -0.071);

void main() {
  vec3 normal = normalize(mat3(u_model) * a_normal);
  float diffuse = max(dot(normal, -u_light_direction), 0.0);
  vec3 rgb = a_color * (0.35 + 0.65 * diffuse);
  if (u_output == 1) {
    v_output = vec4(dot(rgb, kY) + 16.0 / 255.0, 0.0, 0.0, 1.0);
  } else if (u_output == 2) {
    v_output = vec4(dot(rgb, kU) + 128.0 / 255.0, dot(rgb, kV) + 128.0 / 255.0, 0.0, 1.0);
  } else {
    v_output = vec4(rgb, 1.0);
  }
  gl_Position = u_view_projection * u_model * vec4(a_position, 1.0);
}
