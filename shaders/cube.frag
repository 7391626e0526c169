#version 300 es
precision mediump float;
// Lambert lighting from one directional light plus ambient, so each face keeps
// its own hue while the rotation stays visible. u_output picks what is
// written: the colour itself (RGBA target), its luma (the Y plane) or its
// chroma (the interleaved UV plane of NV12), BT.601 limited range, so that
// the frame leaves the GPU side already in the encoder's format.
in vec3 v_normal;
in vec3 v_color;

uniform vec3 u_light_direction;
uniform int u_output;  // 0 = RGB, 1 = Y, 2 = UV

out vec4 frag_color;

const vec3 kY = vec3(0.257, 0.504, 0.098);
const vec3 kU = vec3(-0.148, -0.291, 0.439);
const vec3 kV = vec3(0.439, -0.368, -0.071);

void main() {
  float diffuse = max(dot(normalize(v_normal), -u_light_direction), 0.0);
  vec3 rgb = v_color * (0.35 + 0.65 * diffuse);
  if (u_output == 1) {
    frag_color = vec4(dot(rgb, kY) + 16.0 / 255.0, 0.0, 0.0, 1.0);
  } else if (u_output == 2) {
    frag_color = vec4(dot(rgb, kU) + 128.0 / 255.0, dot(rgb, kV) + 128.0 / 255.0, 0.0, 1.0);
  } else {
    frag_color = vec4(rgb, 1.0);
  }
}
