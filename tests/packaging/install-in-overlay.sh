#!/usr/bin/env bash
# Part of packaging.deb: installs the .deb for real, with dpkg and its maintainer scripts, into a throw-away
# copy-on-write view of this machine (an overlay of / in a private mount namespace, entered with chroot), then
# removes and purges it. Nothing reaches the real system: every write lands in a temporary upper directory.
#   - postinst creates the system user "dispatch" with its home /var/lib/dispatch-server;
#   - the service is not enabled; /etc/dispatch-server/config.json is a conffile;
#   - the installed server runs as "dispatch" with the packaged config and its data dir /var/lib/dispatch-server
#     (what the unit does, without systemd's sandboxing) and answers /healthz;
#   - "dpkg -r" keeps the conffile; "dpkg -P" removes it and the data dir.
# Needs root with CAP_SYS_ADMIN (unshare, mount); exits 77 when that is not available.
# Usage: install-in-overlay.sh <package.deb> <scratch dir>
# SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

deb="$(readlink -f "${1:?usage: install-in-overlay.sh <package.deb> <scratch dir>}")"
scratch="${2:?usage: install-in-overlay.sh <package.deb> <scratch dir>}"

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1 || ! command -v chroot >/dev/null 2>&1; then
    echo "SKIP: the install test needs root, unshare and chroot"
    exit 77
fi
mkdir -p "$scratch/upper" "$scratch/work" "$scratch/root"

# Everything below runs in a private mount namespace: the mounts vanish with it.
exec unshare --mount --propagation private bash -s "$deb" "$scratch" <<'INNER'
set -uo pipefail
deb="$1"; scratch="$2"; root="$scratch/root"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$scratch/upper,workdir=$scratch/work" "$root" 2>/dev/null; then
    echo "SKIP: cannot mount an overlay of / here (no CAP_SYS_ADMIN or no overlayfs)"
    exit 77
fi
for d in proc dev sys; do mount --rbind "/$d" "$root/$d"; done
mount -t tmpfs tmpfs "$root/run"          # no /run/systemd/system: the scripts skip systemctl, as in a chroot
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root/tmp/pkg" && cp "$deb" "$root/tmp/pkg/"
pkg="/tmp/pkg/$(basename "$deb")"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

failures=0
pass() { echo "ok:   $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

if in_root getent passwd dispatch >/dev/null; then
    echo "SKIP: this machine already has a user 'dispatch'; the install test needs a clean one"
    exit 77
fi
# --force-depends: this test is about our scripts, not about what else the build machine has installed.
if in_root dpkg --force-depends -i "$pkg" >"$scratch/dpkg-install.log" 2>&1; then
    pass "dpkg -i (maintainer scripts ran)"
else
    cat "$scratch/dpkg-install.log"; fail "dpkg -i failed"
fi
status="$(in_root dpkg-query -W -f='${db:Status-Status}' dispatch-console 2>/dev/null)"
[ "$status" = installed ] && pass "dpkg status: installed" || fail "dpkg status: '$status'"
entry="$(in_root getent passwd dispatch)"
case "$entry" in
    dispatch:*:/var/lib/dispatch-server:*) pass "user dispatch: $entry" ;;
    *) fail "postinst did not create the user dispatch with home /var/lib/dispatch-server ('$entry')" ;;
esac
in_root getent group dispatch >/dev/null && pass "group dispatch" || fail "no group dispatch"
[ "$(in_root stat -c %U /var/lib/dispatch-server 2>/dev/null)" = dispatch ] &&
    pass "/var/lib/dispatch-server owned by dispatch" || fail "/var/lib/dispatch-server missing or not owned by dispatch"
if find "$root/etc/systemd/system" -name 'dispatch-server.service' 2>/dev/null | grep -q .; then
    fail "dispatch-server.service is enabled after installation"
else
    pass "dispatch-server.service is not enabled"
fi
in_root dpkg-query -W -f='${Conffiles}\n' dispatch-console | grep -q "/etc/dispatch-server/config.json" &&
    pass "/etc/dispatch-server/config.json is a conffile" || fail "config.json is not registered as a conffile"

# The service's command line, as the service user, without systemd: the packaged config, with free ports.
# setpriv execs (no PAM, no fork), so $spid is the server itself.
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/dispatch-server LANG=C.UTF-8 \
    setpriv --reuid=dispatch --regid=dispatch --init-groups -- /usr/libexec/dispatch-console/dispatch-server \
    --config /etc/dispatch-server/config.json --port 0 --gateway-port 0 --ready-file /tmp/ready.json \
    >"$scratch/service.log" 2>&1 &
spid=$!
for _ in $(seq 1 300); do
    [ -s "$root/tmp/ready.json" ] && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
done
if [ -s "$root/tmp/ready.json" ]; then
    port="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apiPort"])' "$root/tmp/ready.json")"
    health="$(curl -fsS --max-time 10 "http://127.0.0.1:$port/healthz")" &&
        pass "as user dispatch with /etc/dispatch-server/config.json: /healthz $health" || fail "/healthz as dispatch"
    [ -f "$root/var/lib/dispatch-server/dispatch.db" ] && pass "data in /var/lib/dispatch-server" ||
        fail "no dispatch.db in /var/lib/dispatch-server"
    kill -TERM "$spid"; wait "$spid"
else
    fail "the installed server did not start as user dispatch"; cat "$scratch/service.log"
    kill -KILL "$spid" 2>/dev/null
fi

in_root dpkg -r dispatch-console >"$scratch/dpkg-remove.log" 2>&1 && pass "dpkg -r" ||
    { cat "$scratch/dpkg-remove.log"; fail "dpkg -r"; }
[ -f "$root/etc/dispatch-server/config.json" ] && pass "removed: the conffile stays" ||
    fail "dpkg -r deleted the conffile"
[ ! -e "$root/usr/libexec/dispatch-console/dispatch-server" ] && [ ! -e "$root/usr/bin/dispatch-server" ] &&
    pass "removed: the executables are gone" || fail "dpkg -r left executables behind"
in_root dpkg -P dispatch-console >"$scratch/dpkg-purge.log" 2>&1 && pass "dpkg -P" ||
    { cat "$scratch/dpkg-purge.log"; fail "dpkg -P"; }
[ ! -e "$root/etc/dispatch-server/config.json" ] && [ ! -e "$root/var/lib/dispatch-server" ] &&
    pass "purged: the config and /var/lib/dispatch-server are gone" || fail "dpkg -P left the config or the data"

exit $((failures > 0))
INNER
