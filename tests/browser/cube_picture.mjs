// Is the cube in a screenshot of the viewer page? The renderer draws each
// face in its own saturated colour on a dark background (renderer/src/
// cube_renderer.cpp), centred, and the other checks of the picture call a
// pixel the cube's when it is clearly chromatic (tests/unit/renderer_test.cpp,
// tests/client/frame_stats.cpp: max >= 80, max - min >= 50). Here: the
// centre pixel and a good part of the centre of the picture are such pixels,
// the dark corner is not, and the hues found are named after the faces.
import { readFileSync } from 'node:fs';
import { decodePngRows } from './png_rows.mjs';

// Hue (degrees) of each face's colour, lit or shaded alike.
const FACES = { red: 0, yellow: 53, green: 127, cyan: 180, blue: 225, magenta: 300 };
// The centre box (fractions of the picture) the cube fills much of, clear of
// the overlay in the top-right corner; and what of it must be the cube.
const BOX = { x0: 0.35, x1: 0.65, y0: 0.3, y1: 0.8 };
const MIN_CUBE_FRACTION = 0.2;
// A face counts as seen when it covers this share of the box.
const MIN_FACE_FRACTION = 0.02;

export function saturated(r, g, b) {
  const hi = Math.max(r, g, b);
  const lo = Math.min(r, g, b);
  return hi >= 80 && hi - lo >= 50;
}

function hue(r, g, b) {
  const hi = Math.max(r, g, b);
  const d = hi - Math.min(r, g, b);
  let h;
  if (hi === r) h = ((g - b) / d) % 6;
  else if (hi === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

function nearestFace(h) {
  let best = null;
  let bestD = Infinity;
  for (const [name, fh] of Object.entries(FACES)) {
    const d = Math.min(Math.abs(h - fh), 360 - Math.abs(h - fh));
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best;
}

// Returns { ok, why, width, height, centreSaturated, cubeFraction,
// cornerSaturated, faces: { red: fraction, ... } } for a PNG file.
export function checkCubePicture(path) {
  const img = decodePngRows(readFileSync(path), Infinity);
  const { width, height, channels, rows } = img;
  const at = (x, y) => {
    const i = (y * width + x) * channels;
    return [rows[i], rows[i + 1], rows[i + 2]];
  };
  const centreSaturated = saturated(...at(width >> 1, height >> 1));
  const cornerSaturated = saturated(...at(20, height - 20));
  const faces = Object.fromEntries(Object.keys(FACES).map((k) => [k, 0]));
  let total = 0;
  let cube = 0;
  for (let y = Math.floor(height * BOX.y0); y < height * BOX.y1; y++) {
    for (let x = Math.floor(width * BOX.x0); x < width * BOX.x1; x++) {
      total += 1;
      const [r, g, b] = at(x, y);
      if (!saturated(r, g, b)) continue;
      cube += 1;
      faces[nearestFace(hue(r, g, b))] += 1;
    }
  }
  for (const k of Object.keys(faces)) faces[k] = Math.round((faces[k] / total) * 1000) / 1000;
  const cubeFraction = Math.round((cube / total) * 1000) / 1000;
  const seen = Object.keys(faces).filter((k) => faces[k] >= MIN_FACE_FRACTION);
  let why = null;
  if (!centreSaturated) why = 'the centre pixel is not a face colour';
  else if (cubeFraction < MIN_CUBE_FRACTION) why = `only ${cubeFraction} of the centre is face colours`;
  else if (cornerSaturated) why = 'the bottom-left corner is coloured, not the dark background';
  else if (seen.length === 0) why = 'no face colour covers enough of the centre';
  return { ok: why === null, why, width, height, centreSaturated, cubeFraction, cornerSaturated,
    facesSeen: seen, faces };
}
