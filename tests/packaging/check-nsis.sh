#!/usr/bin/env bash
# shellcheck disable=SC2015  # pass/fail/echo always succeed, so "test && pass || fail" is safe here
# packaging.nsis: compiles the Windows installer on Linux.
#   1. installers/windows/dispatch-console.nsi with makensis, warnings as errors, on a placeholder payload laid out
#      like a Windows install tree (bin/dispatch-console.exe, Qt's plugins, the shims, the licence);
#   2. the CPack path (cpack -G NSIS with installers/windows/NSIS.template.in) on this build's install tree.
# Both produce a 64-bit PE installer; neither can be run here (see installers/README.md).
# Usage: check-nsis.sh <source dir> <build dir>
# SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

src="$(cd "${1:?usage: check-nsis.sh <source dir> <build dir>}" && pwd)"
build="$(cd "${2:?usage: check-nsis.sh <source dir> <build dir>}" && pwd)"
if ! command -v makensis >/dev/null 2>&1; then
    echo "SKIP: makensis is not installed (apt-get install nsis; installers/setup.sh does it)"
    exit 77
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/dispatch-nsis.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
failures=0

echo "== makensis $(makensis -VERSION) on installers/windows/dispatch-console.nsi (placeholder payload)"
stage="$tmp/stage"
mkdir -p "$stage/bin/platforms" "$stage/share/doc/dispatch-console" "$stage/share/dispatch-console"
for f in bin/dispatch-console.exe bin/Qt6Core.dll bin/platforms/qwindows.dll; do
    printf 'placeholder for %s, made by tests/packaging/check-nsis.sh\n' "$f" >"$stage/$f"
done
cp -r "$src/resources/runtimes" "$stage/share/dispatch-console/runtimes"
cp "$src/COPYING" "$stage/share/doc/dispatch-console/COPYING"
version="$(sed -n 's/^project(DispatchConsole VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")"
if makensis -WX -V2 "-DVERSION=${version:-0.0.0}" "-DSTAGING=$stage" "-DOUTFILE=$tmp/dispatch-console-installer.exe" \
    "$src/installers/windows/dispatch-console.nsi"; then
    if file "$tmp/dispatch-console-installer.exe" | grep -q "PE32+ executable (GUI) x86-64"; then
        echo "ok:   $(file -b "$tmp/dispatch-console-installer.exe" | cut -d, -f1), $(du -h "$tmp/dispatch-console-installer.exe" | cut -f1)"
    else
        echo "FAIL: the installer is not a 64-bit PE: $(file -b "$tmp/dispatch-console-installer.exe")"
        failures=$((failures + 1))
    fi
else
    echo "FAIL: makensis could not compile installers/windows/dispatch-console.nsi"
    failures=$((failures + 1))
fi

echo
echo "== cpack -G NSIS (installers/windows/NSIS.template.in) on this build's install tree"
if (cd "$tmp" && cpack --config "$build/CPackConfig.cmake" -G NSIS -B "$tmp/cpack") >"$tmp/cpack.log" 2>&1; then
    exe="$(find "$tmp/packages" -maxdepth 1 -name '*.exe' 2>/dev/null | head -n 1)"
    if [ -n "$exe" ] && file "$exe" | grep -q "PE32+ executable (GUI) x86-64"; then
        echo "ok:   $(basename "$exe") ($(du -h "$exe" | cut -f1); Linux payload, compiled only)"
    else
        echo "FAIL: cpack -G NSIS made no 64-bit PE installer"
        cat "$tmp/cpack.log"
        failures=$((failures + 1))
    fi
else
    echo "FAIL: cpack -G NSIS"
    cat "$tmp/cpack.log"
    find "$tmp/cpack" -name 'NSISOutput.log' -exec tail -n 30 {} \;
    failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] && echo "packaging.nsis: all checks passed" || { echo "packaging.nsis: $failures failure(s)"; exit 1; }
