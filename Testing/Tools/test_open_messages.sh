#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Every tool says what a path that cannot be opened is, and what to do: a
# folder, a file in a folder that does not exist, a missing file (from the
# library's one classification, SharedMemoryImageStream_checkfile()). Nothing
# is created meanwhile.
. "$(dirname "$0")/tools_test_lib.sh"

folder=$WORK/a-folder
mkdir "$folder"
nofolder=$WORK/no-such-folder/view.smi
missing=$WORK/missing.smi

for tool in info read publish; do
    case $tool in
    info) cmd=("$SMI_INFO") ;;
    read) cmd=("$SMI_READ" --quiet --frames 1) ;;
    publish) cmd=("$SMI_PUBLISH" --quiet --seconds 1) ;;
    esac
    expect_rc "$tool-folder" 1 "${cmd[@]}" "$folder"
    expect_in "$tool-folder.err" "$folder is a folder, not a stream file: name a file in it, e.g. $folder/view.smi"
    expect_rc "$tool-nofolder" 1 "${cmd[@]}" "$nofolder"
    expect_in "$tool-nofolder.err" "the folder $WORK/no-such-folder does not exist: create it with mkdir -p"
    [ -e "$WORK/no-such-folder" ] && fail "$tool created the missing folder"
done
# A missing file: a reader is told to start its server (a server creates it).
for tool in info read; do
    case $tool in
    info) cmd=("$SMI_INFO") ;;
    read) cmd=("$SMI_READ" --quiet --frames 1) ;;
    esac
    expect_rc "$tool-missing" 1 "${cmd[@]}" "$missing"
    expect_in "$tool-missing.err" "$missing does not exist yet: start its server first"
    [ -e "$missing" ] && fail "$tool created $missing"
done
echo PASS
