#version 300 es
precision mediump float;
// Writes the face's value computed in cube.vert (see there for why).
flat in vec4 v_output;

out vec4 frag_color;

void main() { frag_color = v_output; }
