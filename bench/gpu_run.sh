#!/usr/bin/env bash
# The renderer on a lent GPU machine (the device tool's `run`, issue 16): the
# renderer tests and cs-render-bench on the GPU's EGL device and on Mesa's
# llvmpipe (surfaceless) on the same machine. The machine has the NVIDIA
# driver but neither the glvnd loaders nor Mesa: both travel in CARRY.
#
# Here, once (bench/gpu_pack.sh makes CARRY):   bash bench/gpu_pack.sh .gpu16
# There (one `run`, carry [".gpu16"]):           bash .gpu16/gpu_run.sh .gpu16
# Writes $OUT/*.log and $OUT/{gpu,mesa}-N.json (cs-render-bench --json).
set -u
carry="${1:-.gpu16}"
out="${OUT:-/tmp/gpu-out}"
mkdir -p "$out"
frames="${CS_BENCH_FRAMES:-200}"
runs="${CS_BENCH_RUNS:-3}"
log() { echo "== $*"; }

# Debian's glvnd loaders (libEGL.so.1 and friends), as the device README says.
for f in "$carry"/gl/*.deb; do dpkg -x "$f" /; done
ldconfig
# Mesa (llvmpipe and its LLVM), under /tmp/mesa only: unpacked into / they
# could replace the image's own libraries.
mkdir -p /tmp/mesa
for f in "$carry"/mesa/*.deb; do dpkg -x "$f" /tmp/mesa || { echo "cannot unpack $f"; exit 1; }; done
mesa_lib=/tmp/mesa/usr/lib/x86_64-linux-gnu

log "machine"
nproc
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
ls -l /dev/dri 2>&1 | head -5
for d in /usr/share/glvnd/egl_vendor.d /etc/glvnd/egl_vendor.d /usr/local/nvidia/share/glvnd/egl_vendor.d; do
  ls "$d" 2>/dev/null | sed "s|^|$d/|"
done
nvidia_icd=$(ls /usr/share/glvnd/egl_vendor.d/*nvidia*.json /etc/glvnd/egl_vendor.d/*nvidia*.json \
  /usr/local/nvidia/share/glvnd/egl_vendor.d/*nvidia*.json 2>/dev/null | head -1)
echo "NVIDIA EGL vendor ICD: ${nvidia_icd:-none}"
[[ -n "$nvidia_icd" ]] && cat "$nvidia_icd"
ldconfig -p | grep -E 'libEGL_nvidia|libEGL.so.1|libGLESv2.so.2' || true
if ! ldconfig -p | grep -q libEGL_nvidia; then
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu; do
    [[ -e "$d/libEGL_nvidia.so.0" ]] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
fi
# Both vendors: EGL then lists the GPU and Mesa's software device.
export __EGL_VENDOR_LIBRARY_FILENAMES="${nvidia_icd:+$nvidia_icd:}/tmp/mesa/usr/share/glvnd/egl_vendor.d/50_mesa.json"
export LD_LIBRARY_PATH="$mesa_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LIBGL_DRIVERS_PATH=$mesa_lib/dri
env | grep -E '^(__EGL|LD_LIBRARY|LIBGL)' 

bin="$carry/bin"
mesa_only=/tmp/mesa/usr/share/glvnd/egl_vendor.d/50_mesa.json
parts="${CS_GPU_PARTS:-tests nvidia gpu mesa}"
# NVIDIA's EGL offers EGL_MESA_platform_surfaceless too: with both vendors
# loaded, "surfaceless" renders on the GPU. Mesa's llvmpipe is the software
# device's index with both vendors, or surfaceless with Mesa's vendor alone.
if [[ " $parts " == *" tests "* ]]; then
  log "renderer tests, CS_RENDER_DEVICE=auto (both vendors)"
  timeout 120 "$bin/cs-renderer-tests" 2>&1 | tee "$out/tests-auto.log" |
    grep -E 'rendering on|device [0-9]+:|test cases|ERROR|FAILED' | sort -u
  soft=$(grep -oE 'device [0-9]+: [^(]*\(Mesa software device\)' "$out/tests-auto.log" | head -1 | grep -oE '^device [0-9]+' | grep -oE '[0-9]+')
  echo "Mesa's software device: ${soft:-none}"
  log "renderer tests, CS_RENDER_DEVICE=${soft:-none} (Mesa's software device, both vendors)"
  [[ -n "$soft" ]] && CS_RENDER_DEVICE=$soft timeout 180 "$bin/cs-renderer-tests" 2>&1 |
    tee "$out/tests-software.log" | grep -E 'rendering on|test cases|ERROR|FAILED' | sort -u
  log "renderer tests, CS_RENDER_DEVICE=surfaceless, NVIDIA's vendor alone"
  CS_TEST_NO_MESA=1 __EGL_VENDOR_LIBRARY_FILENAMES="$nvidia_icd" CS_RENDER_DEVICE=surfaceless timeout 120 "$bin/cs-renderer-tests" 2>&1 |
    tee "$out/tests-nv-surfaceless.log" | grep -E 'rendering on|test cases|ERROR|FAILED' | sort -u
  log "renderer tests, CS_RENDER_DEVICE=surfaceless, Mesa's vendor alone (llvmpipe)"
  __EGL_VENDOR_LIBRARY_FILENAMES="$mesa_only" CS_RENDER_DEVICE=surfaceless timeout 180 "$bin/cs-renderer-tests" 2>&1 |
    tee "$out/tests-mesa-surfaceless.log" | grep -E 'rendering on|test cases|ERROR|FAILED' | sort -u
fi
if [[ " $parts " == *" nvidia "* ]]; then
  # NVIDIA's vendor alone, as in a container with the driver and no Mesa.
  for device in auto 0; do
    log "renderer tests, CS_RENDER_DEVICE=$device, NVIDIA's vendor alone"
    CS_TEST_NO_MESA=1 __EGL_VENDOR_LIBRARY_FILENAMES="$nvidia_icd" CS_RENDER_DEVICE=$device timeout 120 \
      "$bin/cs-renderer-tests" 2>&1 | tee "$out/tests-nv-$device.log" |
      grep -E 'rendering on|device [0-9]+:|test cases|ERROR|FAILED' | sort -u
  done
fi
if [[ " $parts " == *" gpu "* ]]; then
  for i in $(seq 1 "$runs"); do
    log "cs-render-bench on the GPU (auto), run $i"
    timeout 200 "$bin/cs-render-bench" "$frames" --json "$out/gpu-$i.json" 2>&1 | tee -a "$out/bench-gpu.log"
  done
fi
if [[ " $parts " == *" mesa "* ]]; then
  for i in $(seq 1 "$runs"); do
    log "cs-render-bench on Mesa llvmpipe (surfaceless, Mesa's vendor alone, $(nproc) cores), run $i"
    __EGL_VENDOR_LIBRARY_FILENAMES="$mesa_only" timeout 200 "$bin/cs-render-bench" "$((frames / 2))" \
      --device surfaceless --json "$out/mesa-$i.json" 2>&1 | tee -a "$out/bench-mesa.log"
  done
fi
log "done"
