#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build and the headless tests need, when any is missing;
# with --window also Xvfb and ImageMagick (a window without a display, screenshots).
# Run by scripts/test.sh; safe to run again.
set -euo pipefail
packages=(
  gcc libc6-dev pkg-config
  # burn-wgpu and the egui_kittest snapshots: Vulkan with Mesa's software driver (lavapipe)
  libvulkan1 mesa-vulkan-drivers
  # a window: X11 and Wayland client libraries winit loads at run time, GL for the glow renderer
  libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon0 libxkbcommon-x11-0
  libwayland-client0 libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri libglx-mesa0
)
if [ "${1:-}" = "--window" ]; then
  packages+=(xvfb imagemagick xdotool)
fi
if ! command -v dpkg >/dev/null 2>&1; then
  echo "not a Debian-like system: install the equivalents of: ${packages[*]}" >&2
  exit 0
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
