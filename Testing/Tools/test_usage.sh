#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Usage errors exit with 2 and a message on stderr; --help prints the usage
# on stdout and exits with 0.
. "$(dirname "$0")/tools_test_lib.sh"

for tool in "$SMI_INFO" "$SMI_PUBLISH" "$SMI_READ"; do
    name=${tool##*/}
    expect_rc help 0 "$tool" --help
    expect_in help.out "^Usage: $name "
    [ ! -s "$WORK/help.err" ] || fail "$name --help wrote to stderr"
    expect_rc help_short 0 "$tool" -h
    expect_in help_short.out "^Usage: $name "

    expect_rc no_args 2 "$tool"
    expect_in no_args.err "^$name: no FILE given"
    [ ! -s "$WORK/no_args.out" ] || fail "$name: usage error wrote to stdout"
    expect_rc unknown_long 2 "$tool" --no-such-option "$STREAM"
    expect_in unknown_long.err "^$name: unknown option '--no-such-option'"
    expect_rc unknown_short 2 "$tool" -Z "$STREAM"
    expect_in unknown_short.err "^$name: unknown option '-Z'"
done

p() { expect_rc "$1" 2 "$SMI_PUBLISH" "${@:2}"; }
p size_bad --size 640 "$STREAM";            expect_in size_bad.err "^smi-publish: --size"
p size_zero --size 0x480 "$STREAM"
p size_junk --size 64x48x "$STREAM"
p rate_neg --rate -1 "$STREAM";             expect_in rate_neg.err "^smi-publish: --rate"
p rate_junk --rate 60hz "$STREAM"
p rate_missing "$STREAM" --rate;            expect_in rate_missing.err "option '--rate' needs a value"
p frames_junk --frames ten "$STREAM"
p seconds_zero --seconds 0 "$STREAM"
p format_bad --format yuv "$STREAM";        expect_in format_bad.err "^smi-publish: --format"
expect_in format_bad.err "wants one of rgb8, rgba8, gray8, gray16, float32, int16, int32, uint32, float64: 'yuv'"
p ensight_int16 --ensight --format int16 "$STREAM"
expect_rc help_formats 0 "$SMI_PUBLISH" --help
expect_in help_formats.out "--format FMT +one of rgb8, rgba8, gray8, gray16, float32, int16, int32, uint32, float64"
p flip_alone --flip "$STREAM";              expect_in flip_alone.err "add --copy"
p ensight_gray --ensight --format gray8 "$STREAM"
p buffers_big --buffers 9 "$STREAM";       expect_in buffers_big.err "^smi-publish: --buffers"
p buffers_order --buffers 4:2 "$STREAM"
p buffers_junk --buffers 2:x "$STREAM"
p buffers_ensight --ensight --buffers 2 "$STREAM"; expect_in buffers_ensight.err "two blocks"
p two_files "$STREAM" "$STREAM.2";          expect_in two_files.err "extra argument"

r() { expect_rc "$1" 2 "$SMI_READ" "${@:2}"; }
r frames_zero --frames 0 "$STREAM"
r timeout_junk --timeout soon "$STREAM";    expect_in timeout_junk.err "^smi-read: --timeout"
r save_ext --save frame.jpg "$STREAM";      expect_in save_ext.err "^smi-read: --save"
r save_frame_alone --save-frame 3 "$STREAM"; expect_in save_frame_alone.err "needs --save"
r keep_alone --keep-going "$STREAM"
r two_files "$STREAM" "$STREAM.2"

# Nothing was created by any of these.
[ ! -e "$STREAM" ] || fail "a usage error created $STREAM"
echo "PASS"
