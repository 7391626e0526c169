#version 300 es
precision mediump float;
// Lambert lighting from one directional light plus ambient, so each face keeps
// its own hue while the rotation stays visible.
in vec3 v_normal;
in vec3 v_color;

uniform vec3 u_light_direction;

out vec4 frag_color;

void main() {
  float diffuse = max(dot(normalize(v_normal), -u_light_direction), 0.0);
  frag_color = vec4(v_color * (0.35 + 0.65 * diffuse), 1.0);
}
