#version 300 es
precision highp float;
precision highp int;
// Packs the scene into I420 so that read-back carries 1.5 bytes a pixel and
// no CPU colour conversion is needed. The target is (W/4) x (3H/2) RGBA8:
// each output texel holds four consecutive bytes of the I420 image laid out
// as rows of W bytes (Y: H rows, then U: H/4 rows, then V: H/4 rows).
// BT.601 limited range, which is what the H.264 caps announce.
uniform sampler2D u_scene;   // W x H, rows already top-down
uniform ivec2 u_size;        // W, H

out vec4 frag_color;

const vec3 kY = vec3(0.257, 0.504, 0.098);
const vec3 kU = vec3(-0.148, -0.291, 0.439);
const vec3 kV = vec3(0.439, -0.368, -0.071);

float luma(ivec2 p) { return dot(texelFetch(u_scene, p, 0).rgb, kY) + 16.0 / 255.0; }

// Average of the 2x2 block whose top-left pixel is p.
vec3 block(ivec2 p) {
  return 0.25 * (texelFetch(u_scene, p, 0).rgb + texelFetch(u_scene, p + ivec2(1, 0), 0).rgb +
                 texelFetch(u_scene, p + ivec2(0, 1), 0).rgb + texelFetch(u_scene, p + ivec2(1, 1), 0).rgb);
}

float chroma(int index, vec3 weights) {
  int half_width = u_size.x / 2;
  ivec2 p = ivec2(index % half_width, index / half_width) * 2;
  return dot(block(p), weights) + 128.0 / 255.0;
}

void main() {
  ivec2 out_pos = ivec2(gl_FragCoord.xy);
  int width = u_size.x;
  int height = u_size.y;
  if (out_pos.y < height) {
    ivec2 p = ivec2(out_pos.x * 4, out_pos.y);
    frag_color = vec4(luma(p), luma(p + ivec2(1, 0)), luma(p + ivec2(2, 0)), luma(p + ivec2(3, 0)));
    return;
  }
  int chroma_row = out_pos.y - height;
  int quarter = height / 4;
  vec3 weights = chroma_row < quarter ? kU : kV;
  int first = (chroma_row % quarter) * width + out_pos.x * 4;
  frag_color = vec4(chroma(first, weights), chroma(first + 1, weights), chroma(first + 2, weights),
                    chroma(first + 3, weights));
}
