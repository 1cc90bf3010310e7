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
#  - or, with SMI_GUI_TRIGGER set too, starts smi-publish only once that file
#    appears: the test script makes it when ParaView is ready for the server
#    (a source opened before its server) by publishing its render view there
#    with the toolbar button. Then it takes screenshots of the view (frames of
#    that stream, saved by smi-read) until one shows the test pattern in its
#    true colors (SMI_GUI_CHECK: check_pattern_shot.py), keeping the last one
#    in SMI_GUI_SHOT. (The view's own pixels: in test mode ParaView leaves the
#    X window black, so a screenshot of the screen shows nothing.)
#    the test fails when none does;
# Environment: SMI_PARAVIEW (the client), SMI_PUBLISH and SMI_GUI_STREAM
# (optional: the publisher and its stream), SMI_GUI_CLEAN (optional: more
# stream files to remove before and after the run), SMI_GUI_TRIGGER,
# SMI_GUI_SHOT, SMI_GUI_CHECK, SMI_GUI_PYTHON and SMI_READ (optional, see
# above).
set -u
: "${SMI_PARAVIEW:?SMI_PARAVIEW must name the ParaView client}"
stream=${SMI_GUI_STREAM:-}
trigger=${SMI_GUI_TRIGGER:-}
clean=("${stream}" "${trigger}" ${SMI_GUI_CLEAN:-})

home=$(mktemp -d "${TMPDIR:-/tmp}/smi-gui-home.XXXXXX") || exit 1
pub=
client=
late=
cleanup() {
  [ -n "$client" ] && kill "$client" 2>/dev/null
  [ -n "$late" ] && kill "$late" 2>/dev/null
  [ -n "$pub" ] && kill "$pub" 2>/dev/null
  [ -s "$home/late-publisher.pid" ] && kill "$(cat "$home/late-publisher.pid")" 2>/dev/null
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

# Serve the test pattern in $stream (32x24 RGB); returns once the file is there.
publish() {
  : "${SMI_PUBLISH:?SMI_PUBLISH must name smi-publish}"
  # --seconds: the publisher ends by itself even if this script is killed outright.
  "$SMI_PUBLISH" --quiet --size 32x24 --rate 30 --seconds 120 "$stream" \
    </dev/null >/dev/null &
  pub=$!
  for _ in $(seq 200); do
    [ -s "$stream" ] && return 0
    kill -0 "$pub" 2>/dev/null || { echo "smi-publish exited early" >&2; return 1; }
    sleep 0.05
  done
  echo "smi-publish did not create $stream" >&2
  return 1
}

# Once $trigger exists: serve the stream, then take the view's frames until one
# shows the pattern in true colors (10 tries, a second apart). Exit 0 when it did.
publish_late_and_look() {
  local shot=${SMI_GUI_SHOT:-$home/shot.png}
  mkdir -p "$(dirname "$shot")"
  for _ in $(seq 600); do [ -e "$trigger" ] && break; sleep 0.1; done
  [ -e "$trigger" ] || { echo "the test never made $trigger" >&2; return 1; }
  publish || return 1
  echo "$pub" > "$home/late-publisher.pid" # (this runs in a subshell: see cleanup)
  for _ in $(seq 10); do
    sleep 1
    "$SMI_READ" --quiet --timeout 5 --save "$shot" "$trigger" >"$home/shot.log" 2>&1 ||
      continue
    "$SMI_GUI_PYTHON" "$SMI_GUI_CHECK" "$shot" 32 24 && return 0
  done
  echo "no screenshot showed the stream in its true colors (the last: $shot)" >&2
  cat "$home/shot.log" >&2
  return 1
}

for f in "${clean[@]}"; do [ -n "$f" ] && rm -f "$f"; done
if [ -n "$stream" ] && [ -n "$trigger" ]; then
  publish_late_and_look &
  late=$!
elif [ -n "$stream" ]; then
  publish || exit 1
fi

# In the background, so that a TERM from the driver reaches the traps at once.
"$SMI_PARAVIEW" "$@" &
client=$!
wait "$client"
rc=$?
client=
if [ -n "$late" ]; then
  wait "$late"
  looked=$?
  late=
  [ "$rc" -eq 0 ] && rc=$looked
fi
exit "$rc"
