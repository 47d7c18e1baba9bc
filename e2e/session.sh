#!/usr/bin/env bash
# Runs a command inside a throwaway desktop session with no real display: an X server (Xvfb), a D-Bus session bus,
# an unlocked GNOME Keyring (the Secret Service the app stores passwords in) and a notification daemon (dunst) whose
# history the tests read back. Everything started here ends with the command.
#
#   bash e2e/session.sh COMMAND [ARGS…]
set -euo pipefail

if [ "${PARLOR_E2E_INSIDE:-}" != 1 ]; then
    # Outer half: a free display number, Xvfb on it, then the inner half inside a new D-Bus session and kernel
    # keyring session (gnome-keyring needs the latter for its own secrets).
    display=99
    while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
    Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
    xvfb=$!
    trap 'kill "$xvfb" 2>/dev/null || true' EXIT
    for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
    export DISPLAY=":$display" WEBKIT_DISABLE_DMABUF_RENDERER=1 PARLOR_E2E_INSIDE=1
    dbus-run-session -- keyctl session - bash "$0" "$@"
    exit $?
fi

# Inner half: inside the D-Bus session. The keyring must be unlocked with a non-empty password, or every Secret
# Service call fails with "no storage access".
# Its keyrings live in a throwaway directory: never the user's own, and never one left locked by an earlier run.
keyring_home=$(mktemp -d)
keyring_password="parlor-e2e-$RANDOM$RANDOM"
printf '%s' "$keyring_password" | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets >/dev/null
unset keyring_password
dunst >/dev/null 2>&1 &
dunst_pid=$!
trap 'kill "$dunst_pid" 2>/dev/null || true; rm -rf "$keyring_home"' EXIT
for _ in $(seq 50); do dunstctl count >/dev/null 2>&1 && break; sleep 0.1; done
"$@"
