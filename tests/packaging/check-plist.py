#!/usr/bin/env python3
# packaging.macos: installers/macos/Info.plist.in, configured the way CMake does for a MACOSX_BUNDLE target, is a
# valid property list with the keys a bundle needs. (The bundle and the DMG themselves need macOS.)
# Usage: check-plist.py <source dir>
# SPDX-License-Identifier: GPL-3.0-or-later
import pathlib
import plistlib
import re
import sys

src = pathlib.Path(sys.argv[1])
template = (src / "installers/macos/Info.plist.in").read_text()
values = {
    "MACOSX_BUNDLE_EXECUTABLE_NAME": "Dispatch Console",
    "MACOSX_BUNDLE_ICON_FILE": "dispatch-console.icns",
    "MACOSX_BUNDLE_GUI_IDENTIFIER": "io.example.Test",
    "MACOSX_BUNDLE_BUNDLE_NAME": "Dispatch Console",
    "MACOSX_BUNDLE_SHORT_VERSION_STRING": "0.1.0",
    "MACOSX_BUNDLE_BUNDLE_VERSION": "0.1.0",
    "MACOSX_BUNDLE_COPYRIGHT": "GPL-3.0-or-later",
}
unknown = sorted(set(re.findall(r"\$\{(\w+)\}", template)) - set(values))
if unknown:
    sys.exit(f"FAIL: Info.plist.in uses variables CMake does not set for bundles: {unknown}")
configured = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)
plist = plistlib.loads(configured.encode())
required = ["CFBundleExecutable", "CFBundleIdentifier", "CFBundleIconFile", "CFBundlePackageType",
            "CFBundleShortVersionString", "CFBundleVersion", "NSHighResolutionCapable", "LSMinimumSystemVersion"]
missing = [k for k in required if k not in plist]
if missing:
    sys.exit(f"FAIL: Info.plist.in lacks {missing}")
if plist["CFBundlePackageType"] != "APPL":
    sys.exit("FAIL: CFBundlePackageType is not APPL")
icns = src / "resources/icons" / values["MACOSX_BUNDLE_ICON_FILE"]
if icns.read_bytes()[:4] != b"icns":
    sys.exit(f"FAIL: {icns} is not an icns file")
print(f"ok: Info.plist.in is a valid property list with {len(plist)} keys; {icns.name} is an icns file")
