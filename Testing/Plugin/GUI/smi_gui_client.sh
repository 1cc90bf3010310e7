#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The client that the GUI tests' driver (smTestDriver) runs in place of
# ParaView. It:
#  - gives ParaView a private HOME whose settings turn the welcome dialog off
#    (and keeps the -dr settings file ParaView writes out of the real HOME);
#  - with SMI_GUI_STREAM set, starts smi-publish on that stream (a small RGB
#    test pattern) and waits until the stream file is there;
#  - runs ParaView with the arguments it was given;
#  - stops the publisher and removes the stream and the HOME, whatever happens.
# Environment: SMI_PARAVIEW (the client), SMI_PUBLISH and SMI_GUI_STREAM
# (optional: the publisher and its stream), SMI_GUI_CLEAN (optional: more
# stream files to remove before and after the run).
set -u
: "${SMI_PARAVIEW:?SMI_PARAVIEW must name the ParaView client}"
stream=${SMI_GUI_STREAM:-}
clean=("${stream}" ${SMI_GUI_CLEAN:-})

home=$(mktemp -d "${TMPDIR:-/tmp}/smi-gui-home.XXXXXX") || exit 1
pub=
client=
cleanup() {
  [ -n "$client" ] && kill "$client" 2>/dev/null
  [ -n "$pub" ] && kill "$pub" 2>/dev/null
  wait 2>/dev/null
  for f in "${clean[@]}"; do [ -n "$f" ] && rm -f "$f"; done
  rm -rf "$home"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

mkdir -p "$home/.config/ParaView" "$home/runtime"
chmod 700 "$home/runtime"
for ini in ParaView5.11.0.ini ParaView5.11.0-dr.ini; do
  printf '[General]\nGeneralSettings.ShowWelcomeDialog=false\n' \
    > "$home/.config/ParaView/$ini"
done
export HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_RUNTIME_DIR="$home/runtime"

for f in "${clean[@]}"; do [ -n "$f" ] && rm -f "$f"; done
if [ -n "$stream" ]; then
  : "${SMI_PUBLISH:?SMI_PUBLISH must name smi-publish}"
  # -t: the publisher ends by itself even if this script is killed outright.
  "$SMI_PUBLISH" --quiet --size 32x24 --rate 30 --seconds 120 "$stream" \
    </dev/null >/dev/null &
  pub=$!
  for _ in $(seq 200); do
    [ -s "$stream" ] && break
    kill -0 "$pub" 2>/dev/null || { echo "smi-publish exited early" >&2; exit 1; }
    sleep 0.05
  done
  [ -s "$stream" ] || { echo "smi-publish did not create $stream" >&2; exit 1; }
fi

# In the background, so that a TERM from the driver reaches the traps at once.
"$SMI_PARAVIEW" "$@" &
client=$!
wait "$client"
rc=$?
client=
exit "$rc"
