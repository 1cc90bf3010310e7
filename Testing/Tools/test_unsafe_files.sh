#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Stream files are input from other users (Core/LAYOUT.md, "Opening files"):
# a FIFO, a symbolic link, a file others may write (in a folder they may
# enter), or another user's file at the stream path is refused by the tools,
# at once and with a message that says what the path is or which rule failed:
# - smi-info and smi-read exit with 1 promptly on a FIFO (opening it used to
#   block for ever); smi-read --wait-file --timeout 1 exits with its timeout
#   status 3 within about 2 s, and SIGTERM ends a smi-read waiting on a FIFO
#   or on a file that never appears;
# - smi-publish refuses a FIFO and a planted symbolic link (the file the link
#   points to is left as it was);
# - a served stream made writable by others in a folder others may enter,
#   or given to another user (as root), is refused by smi-read (the message
#   names the rule and the fix, chmod o-w FILE, and --any-file) and still
#   shown by smi-info; smi-read --any-file reads it;
# - --any-file: smi-read and smi-info follow a symbolic link, smi-publish
#   serves through one;
# - under umask 002 in a 0700 folder (pyensight's mkdtemp case) a 0664 file
#   is served and read with no option at all.
. "$(dirname "$0")/tools_test_lib.sh"

now() { date +%s.%N; }
# took T0 T1 MIN MAX WHAT: MIN <= T1 - T0 < MAX seconds.
took() {
    "$PYTHON" -c "import sys; d = $2 - $1; sys.exit(0 if $3 <= d < $4 else 1)" ||
        fail "$5 took $("$PYTHON" -c "print(round($2 - $1, 2))") s (expected $3 .. $4 s)"
}
# gone_within PID SECONDS WHAT: the process ends within SECONDS (else it is
# killed and the test fails); its exit status must be 4 (smi-read stopped
# before any frame came).
gone_within() {
    local pid=$1 limit=$2 i=0 rc
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt $((limit * 20)) ]; then
            kill -KILL "$pid" 2>/dev/null
            fail "$3 still running $limit s after SIGTERM"
        fi
        sleep 0.05
    done
    wait "$pid"
    rc=$?
    BG_PIDS=$(echo "$BG_PIDS" | tr ' ' '\n' | grep -vx "$pid" | tr '\n' ' ')
    # (4: stopped before any frame came)
    [ "$rc" -eq 4 ] || fail "$3 exited with $rc after SIGTERM, expected 4"
    echo "ok: $3: ended by SIGTERM"
}

unsafe='the stream file is a symbolic link, not a regular file, owned by another user, or another user could write or replace it'
linkfix='is a symbolic link (never followed at the last component of a path): name the file itself'
optin='; or pass --any-file to use it as it is)'
# expect_fixed NAME TEXT: the output file NAME holds TEXT (no pattern).
expect_fixed() {
    grep -q -F -- "$2" "$WORK/$1" || fail "$1 does not hold \"$2\""
}

# ---- A FIFO at the stream path ------------------------------------------------
fifo=$WORK/fifo.smi
mkfifo "$fifo" || fail "mkfifo"
t0=$(now)
expect_rc info_fifo 1 timeout 10 "$SMI_INFO" "$fifo"
t1=$(now)
took "$t0" "$t1" 0 2 "smi-info on a FIFO"
expect_in info_fifo.err "^smi-info: $fifo: $unsafe \\($fifo is a FIFO, not a regular file\\)$"
expect_rc info_fifo_json 1 timeout 10 "$SMI_INFO" --json "$fifo"
"$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); assert d["error"] == -17, d' \
    <"$WORK/info_fifo_json.out" || fail "JSON error for a FIFO"

expect_rc read_fifo 1 timeout 10 "$SMI_READ" "$fifo"
expect_in read_fifo.err "^smi-read: cannot attach to $fifo: $unsafe \\($fifo is a FIFO, not a regular file\\)$"

t0=$(now)
expect_rc read_fifo_wait 3 timeout 10 "$SMI_READ" --wait-file --timeout 1 "$fifo"
t1=$(now)
took "$t0" "$t1" 0.9 2.5 "smi-read --wait-file --timeout 1 on a FIFO"
expect_in read_fifo_wait.err "^smi-read: timeout: $fifo is not a served stream after 1 s: $unsafe \\($fifo is a FIFO, not a regular file\\)$"

t0=$(now)
expect_rc read_never 3 timeout 10 "$SMI_READ" -w -T 1 "$WORK/never.smi"
t1=$(now)
took "$t0" "$t1" 0.9 2.5 "smi-read -w -T 1 on a file that never appears"

# SIGTERM ends the wait, for a FIFO and for a file that never appears.
start_bg read_fifo_term "$SMI_READ" --wait-file "$fifo"
pid=$BG_PID
sleep 0.5
kill -0 "$pid" 2>/dev/null || fail "smi-read --wait-file on a FIFO ended by itself"
kill -TERM "$pid"
gone_within "$pid" 2 "smi-read --wait-file on a FIFO"
start_bg read_never_term "$SMI_READ" --wait-file "$WORK/never.smi"
pid=$BG_PID
sleep 0.5
kill -TERM "$pid"
gone_within "$pid" 2 "smi-read --wait-file on a missing file"

expect_rc publish_fifo 1 timeout 10 "$SMI_PUBLISH" --frames 1 --quiet "$fifo"
expect_in publish_fifo.err "$unsafe"
[ -p "$fifo" ] || fail "the FIFO was replaced"

# ---- A symbolic link planted at the stream path ------------------------------------
victim=$WORK/victim.txt
printf 'precious data\n' >"$victim"
link=$WORK/link.smi
ln -s "$victim" "$link"
expect_rc publish_link 1 timeout 10 "$SMI_PUBLISH" --frames 1 --quiet "$link"
expect_in publish_link.err "^smi-publish: cannot create $link .*: $unsafe \\($link "
expect_fixed publish_link.err "$link $linkfix (readlink -f $link)$optin"
[ "$(cat "$victim")" = "precious data" ] || fail "the link's target was changed"
[ -L "$link" ] || fail "the link was replaced"
expect_rc info_link 1 timeout 10 "$SMI_INFO" "$link"
expect_in info_link.err "^smi-info: $link: $unsafe \\($link "
expect_fixed info_link.err "$linkfix (readlink -f $link)$optin"
expect_rc read_link 1 timeout 10 "$SMI_READ" --timeout 1 "$link"
expect_fixed read_link.err "$linkfix (readlink -f $link)$optin"
# A dangling link: its target is not created.
ln -s "$WORK/target.smi" "$WORK/dangling.smi"
expect_rc publish_dangling 1 timeout 10 "$SMI_PUBLISH" --frames 1 --quiet "$WORK/dangling.smi"
[ ! -e "$WORK/target.smi" ] || fail "smi-publish created the dangling link's target"

# ---- A served stream with a careless mode, or another owner -------------------------
# (in a folder others may enter: in a 0700 folder no mode lets anyone else in)
chmod 0755 "$WORK"
start_bg publish "$SMI_PUBLISH" --size 64x48 --rate 50 --seconds 30 --quiet "$STREAM"
publisher=$BG_PID
wait_until 10 served "$STREAM" || fail "the publisher did not start"
chmod 0666 "$STREAM"
expect_rc read_mode 1 timeout 10 "$SMI_READ" --frames 1 --timeout 2 "$STREAM"
expect_in read_mode.err "^smi-read: cannot attach to $STREAM: $unsafe \\("
expect_fixed read_mode.err "$STREAM (mode 0666) is writable by others: chmod o-w $STREAM"
expect_fixed read_mode.err "; or pass --any-file to use it as it is)"
expect_rc read_mode_any 0 timeout 10 "$SMI_READ" --any-file --frames 2 --verify --timeout 5 --quiet "$STREAM"
ln -s "$STREAM" "$WORK/alias.smi"
expect_rc read_alias_any 0 timeout 10 "$SMI_READ" -A --frames 2 --verify --timeout 5 --quiet "$WORK/alias.smi"
expect_rc info_alias_any 0 timeout 10 "$SMI_INFO" --any-file "$WORK/alias.smi"
expect_in info_alias_any.out '^server: +alive'
rm -f "$WORK/alias.smi"
expect_rc info_mode 0 timeout 10 "$SMI_INFO" "$STREAM" # inspect only reads
expect_in info_mode.out '^server: +alive'
chmod 0644 "$STREAM"
expect_rc read_0644 0 timeout 10 "$SMI_READ" --frames 2 --verify --timeout 5 --quiet "$STREAM"
if [ "$(id -u)" -eq 0 ]; then
    chown 65534 "$STREAM" # the root publisher keeps its open file
    expect_rc read_owner 1 timeout 10 "$SMI_READ" --frames 1 --timeout 2 "$STREAM"
    expect_in read_owner.err "^smi-read: cannot attach to $STREAM: $unsafe \\("
    expect_fixed read_owner.err "belongs to nobody, not to this process's user (uid 0)"
    expect_rc read_owner_any 0 timeout 10 "$SMI_READ" --any-file --frames 1 --timeout 5 --quiet "$STREAM"
    expect_rc info_owner 0 timeout 10 "$SMI_INFO" "$STREAM"
    chown 0 "$STREAM"
else
    echo "note: not root: the other-owner check is left to Core.TestUnsafeFile"
fi
kill -TERM "$publisher"
wait_bg "$publisher" 0 "smi-publish"

# ---- smi-publish --any-file through a link; refusal names the rule ------------------
ln -s "$STREAM" "$WORK/alias.smi"
expect_rc publish_alias 1 timeout 10 "$SMI_PUBLISH" --frames 1 --quiet "$WORK/alias.smi"
expect_fixed publish_alias.err "$linkfix"
expect_rc publish_alias_any 0 timeout 20 "$SMI_PUBLISH" --any-file --size 64x48 --frames 3 --rate 0 --quiet "$WORK/alias.smi"
rm -f "$WORK/alias.smi"

# ---- umask 002 in a private folder: pyensight's case, no option needed ---------------
private=$(mktemp -d "$WORK/private.XXXXXX") || fail "mktemp"
chmod 0700 "$private"
(umask 002 && head -c $((25 << 20)) /dev/zero >"$private/shm")
[ "$(stat -c %a "$private/shm")" = 664 ] || fail "umask 002 did not make a 0664 file"
start_bg publish_private "$SMI_PUBLISH" --ensight --size 64x48 --rate 50 --seconds 30 --quiet "$private/shm"
publisher=$BG_PID
wait_until 10 served "$private/shm" || fail "the publisher did not serve the 0664 file"
expect_rc read_private 0 timeout 10 "$SMI_READ" --frames 3 --verify --timeout 5 --quiet "$private/shm"
kill -TERM "$publisher"
wait_bg "$publisher" 0 "smi-publish on the 0664 file"
echo "PASS"
