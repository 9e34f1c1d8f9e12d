#!/usr/bin/env bash
# Set-up for a Debian 12 machine: installs what is missing (apt, as root or through sudo), builds, and then
#   run   – starts the product (the console with its bundled server; the server alone if the console is not built)
#   test  – runs every test through ctest
#   build – only installs and builds
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-run}"
shift || true
build_dir="${DISPATCH_BUILD_DIR:-$here/build/release}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Everything the build, the product and the tests need, from Debian 12's own archive.
packages=(
    build-essential cmake ninja-build pkg-config ccache git file
    qt6-base-dev qt6-base-dev-tools qt6-l10n-tools qt6-charts-dev libqt6opengl6-dev qt6-networkauth-dev
    qtkeychain-qt6-dev libqscintilla2-qt6-dev libgl-dev libqt6svg6 fonts-dejavu-core
    nlohmann-json3-dev libspdlog-dev libboost1.81-dev libsqlite3-dev libarchive-dev libssl-dev librhonabwy-dev
    bubblewrap curl openssl
    gnome-keyring dbus dbus-daemon                        # tests: the keychain (QtKeychain) inside dbus-run-session
    dpkg-dev lintian desktop-file-utils appstream nsis    # tests/packaging: cpack DEB, checks, makensis
    python3 python3-venv python3-requests
    default-jdk-headless libgoogle-gson-java maven          # java images; maven resolves a pom.xml's dependencies
)
# Node.js: keep an existing installation (e.g. NodeSource's, which bundles npm and conflicts with Debian's npm).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake_args=(-S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON)
if [ "${CI:-}" = "true" ]; then
    cmake_args+=(-DDISPATCH_WARNINGS_AS_ERRORS=ON)
fi
echo "== configuring $build_dir"
cmake "${cmake_args[@]}" >/dev/null
echo "== building (this takes a few minutes on a 2-core machine)"
cmake --build "$build_dir" -j "$(nproc)"

case "$mode" in
    build)
        ;;
    test)
        # The identity tests' OpenID provider (npm oidc-provider, pinned by tests/oidc/package-lock.json).
        echo "== installing the test identity provider (tests/oidc)"
        (cd "$here/tests/oidc" && npm ci --no-audit --no-fund --silent)
        echo "== running the tests"
        export QT_QPA_PLATFORM=offscreen
        ctest --test-dir "$build_dir" --output-on-failure --timeout 900 "$@"
        ;;
    run)
        if [ -x "$build_dir/app/dispatch-console" ]; then
            exec "$build_dir/app/dispatch-console" "$@"
        fi
        data="${XDG_DATA_HOME:-$HOME/.local/share}/dispatch-server"
        echo "== starting dispatch-server (API http://127.0.0.1:8080, gateway :8081, data in $data)"
        exec "$build_dir/backend/dispatch-server" --data-dir "$data" "$@"
        ;;
    *)
        echo "usage: $0 [run|test|build] [arguments for the program or ctest]" >&2
        exit 2
        ;;
esac
