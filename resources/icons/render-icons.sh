#!/usr/bin/env bash
# Regenerates the checked-in renderings of the application icon from dispatch-console.svg:
#   png/dispatch-console-<N>.png for the freedesktop hicolor sizes, dispatch-console.ico (Windows installer and
#   executable) and dispatch-console.icns (macOS bundle).
# Needs rsvg-convert (Debian: librsvg2-bin) and python3. Run it after editing the SVG and commit the results;
# the build itself never renders anything.
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
command -v rsvg-convert >/dev/null || { echo "rsvg-convert not found (apt-get install librsvg2-bin)" >&2; exit 1; }

sizes=(16 22 24 32 48 64 128 256 512)
mkdir -p png
for s in "${sizes[@]}"; do
    rsvg-convert --width "$s" --height "$s" dispatch-console.svg --output "png/dispatch-console-$s.png"
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rsvg-convert --width 1024 --height 1024 dispatch-console.svg --output "$tmp/dispatch-console-1024.png"

python3 pack_icons.py ico dispatch-console.ico \
    png/dispatch-console-{16,24,32,48,64,256}.png
python3 pack_icons.py icns dispatch-console.icns \
    png/dispatch-console-{16,32,64,128,256,512}.png "$tmp/dispatch-console-1024.png"
echo "rendered: ${sizes[*]} px, dispatch-console.ico, dispatch-console.icns"
