#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# One file, every face: the same situation gives the same text from the
# tools (smi-info, smi-read, smi-publish), the GStreamer elements (smisrc,
# smisink) and both Python modules (shared_memory_image's Client and
# Server, ensight_grpc_shmem), because each asks the library
# (SharedMemoryImageStream_openerrorstring, _attach, _serve) instead of
# keeping its own rules. Situations: a symbolic link planted at the path
# (unsafe: the rule and the fix, and each face's own way to opt in), a
# file of a user's notes (not a stream: refused by every server and left
# byte for byte as it was), a path in a folder that does not exist. The
# ParaView source, which needs pvpython, goes through the same three in
# Plugin.Python.TestSourceSameFile.
. "$(dirname "$0")/gst_test_lib.sh"
needs_python_module

# expect_all NAME TEXT [FACE...]: the output of every face (or of those
# named) for situation NAME holds TEXT.
FACES=(info read publish src sink py_client py_server eshm)
expect_all() {
    local name=$1 text=$2 face
    shift 2
    [ $# -gt 0 ] || set -- "${FACES[@]}"
    for face in "$@"; do
        cat "$WORK/$name-$face.out" "$WORK/$name-$face.err" >"$WORK/$name-$face.all"
        grep -q -F -- "$text" "$WORK/$name-$face.all" || fail "$name, $face: no \"$text\""
    done
    echo "ok: $name: $* say \"$text\""
}

# expect_gst_fails NAME PIPELINE...: gst-launch-1.0 fails with an error
# (exit status 1 or 255, not a signal) within 30 s.
expect_gst_fails() {
    local name=$1 rc
    shift
    timeout 30 "$GST_LAUNCH" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    [ "$rc" -eq 1 ] || [ "$rc" -eq 255 ] || fail "$name: gst-launch-1.0 exited with $rc"
    echo "ok: $name: exit $rc"
}

# run_all NAME PATH: the situation at PATH through every face (each fails).
run_all() {
    local name=$1 path=$2
    expect_rc "$name-info" 1 "$SMI_INFO" "$path"
    expect_rc "$name-read" 1 "$SMI_READ" --timeout 1 "$path"
    expect_rc "$name-publish" 1 "$SMI_PUBLISH" --frames 1 --quiet "$path"
    expect_gst_fails "$name-src" smisrc location="$path" ! fakesink
    expect_gst_fails "$name-sink" videotestsrc num-buffers=3 ! smisink location="$path"
    expect_rc "$name-py_client" 0 "$PYTHON" -c '
import sys, shared_memory_image as smi
try:
    smi.Client(sys.argv[1])
except smi.Error as e:
    print(e)' "$path"
    expect_rc "$name-py_server" 0 "$PYTHON" -c '
import sys, shared_memory_image as smi
try:
    smi.Server(sys.argv[1], max_size=(64, 48))
except smi.Error as e:
    print(e)' "$path"
    expect_rc "$name-eshm" 0 "$PYTHON" -c '
import sys, ensight_grpc_shmem as shm
try:
    shm.stream_create(sys.argv[1])
except RuntimeError as e:
    print(e)' "$path"
}

# ---- A symbolic link at the path ----------------------------------------------
printf 'precious data\n' >"$WORK/victim.txt"
link=$WORK/link.smi
ln -s "$WORK/victim.txt" "$link"
run_all link "$link"
expect_all link "$(errorstring -17) ($link is a symbolic link (never followed at the last component of a path): name the file itself (readlink -f $link)"
# ... and each face's own way to opt in.
for face in info read publish; do expect_in "link-$face.all" '; or pass --any-file to use it as it is\)'; done
expect_in link-py_client.all '; or pass any_file=True to use it as it is\)'
expect_in link-py_server.all '; or pass any_file=True to use it as it is\)'
expect_in link-eshm.all '; or pass options=OPTIONS_ANYFILE to use it as it is\)'
[ "$(cat "$WORK/victim.txt")" = "precious data" ] || fail "the link's target was changed"
[ -L "$link" ] || fail "the link was replaced"

# ---- A file of notes --------------------------------------------------------------
notes=$WORK/notes.txt
for i in $(seq 1 500); do echo "line $i of a user's notes, not a stream"; done >"$notes"
chmod 600 "$notes"
touch -d '1 minute ago' "$notes" # (not a header being written)
cp "$notes" "$WORK/notes.orig"
run_all notes "$notes"
expect_all notes "$(errorstring -12)" read src py_client eshm
expect_all notes "$(errorstring -19)" publish sink py_server
cmp -s "$notes" "$WORK/notes.orig" || fail "a face changed a file that is not a stream"

# ---- A folder that does not exist --------------------------------------------------
nofolder=$WORK/no-such-folder/view.smi
run_all nofolder "$nofolder"
expect_all nofolder "the folder $WORK/no-such-folder does not exist: create it with mkdir -p"
[ -e "$WORK/no-such-folder" ] && fail "a face created the missing folder"
echo "PASS"
