#!/bin/sh
# Runs a test in its own D-Bus session with a freshly unlocked gnome-keyring (the Secret Service that QtKeychain
# uses on Linux), so keychain tests touch neither the user's keyring nor need a desktop session.
# Usage: with-keyring.sh <program> [arguments]
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export HOME="$home" XDG_DATA_HOME="$home/.local/share" XDG_RUNTIME_DIR="$home/run"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
dbus-run-session -- sh -c '
    printf "test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    "$@"' sh "$@"
