#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Check a protocol model of the extended layout with spin (smi_extended.pml:
# locking; smi_queue.pml: queue reading): assertions (no torn read, a live
# client's lock never taken; frames in order, each once, every loss
# counted, a reliable reader never overrun nor blocking the server once
# dead) and invalid end states (lost wake-ups, deadlocks). Then show that
# the check can fail: each mutant (one rule of the protocol broken) must be
# caught.
#   check_model.sh MODEL.pml WORKDIR
# A check is deterministic: once a model, its mutants (this script) and spin
# have passed, the same again is not checked again (the suite runs twice;
# the queue model alone takes minutes of a CPU). Remove WORKDIR to force it.
set -euo pipefail
model="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$2"
mkdir -p "$work"
cd "$work"
key=$( (cat "$model" "${BASH_SOURCE[0]}"; spin -V) | sha256sum | cut -d' ' -f1)
if [ -f passed ] && [ "$(cat passed)" = "$key" ]; then
  echo "model: unchanged since its check passed ($(date -r passed '+%F %T')); not checked again"
  exit 0
fi
rm -f passed

# check FILE: prints the error count of one spin run (safety only: -DSAFETY)
check() {
  rm -f pan pan.c ./*.trail
  spin -a "$1" > /dev/null
  cc -O2 -DCOLLAPSE -DSAFETY -o pan pan.c
  ./pan -m400000 > "$1.out" 2>&1 || true
  sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$1.out" | head -n 1
}

status=0
cp "$model" model.pml
errors=$(check model.pml)
stored=$(sed -n 's/^ *\([0-9e.+]*\) states, stored.*/\1/p' model.pml.out | head -n 1)
echo "model: $errors errors, $stored states"
[ "$errors" = 0 ] || { cat model.pml.out; status=1; }

# mutant NAME 'sed expression': the broken model must fail the check.
mutant() {
  sed "$2" model.pml > "$1.pml"
  if cmp -s model.pml "$1.pml"; then
    echo "mutant $1: the edit did not apply (the model changed?)"; status=1; return
  fi
  errors=$(check "$1.pml")
  if [ "${errors:-0}" -ge 1 ]; then
    echo "mutant $1: caught ($(grep -m1 -o 'assertion violated.*\|invalid end state' "$1.pml.out"))"
  else
    echo "mutant $1: NOT caught"; status=1
  fi
}
if [ "$(basename "$model")" = smi_queue.pml ]; then
  # the server overwrites frames a live reliable reader has not read
  mutant no-unread-check 's/:: claim\[j\] != 0 \&\& key != 0 \&\& reliable\[j\] \&\& slot_last\[j\] < key ->/:: false ->/'
  # a dead reliable reader's claim is kept: it blocks the server
  mutant dead-reader-kept 's/:: else -> claim\[j\] = 0 \/\* CAS(claim, seen, 0) \*\//:: else -> blk = 1/'
  # a ready buffer put back without waking readers: a lost wake-up
  mutant no-wake-on-put-back 's/:: old == READY -> wake_readers()/:: false -> skip/'
  # a queue reader starts before the oldest ready frame, not before the run
  # that ends with the newest: a frame a server took before the claim is lost
  mutant start-at-oldest 's/:: state\[k\] == READY \&\& sequence\[k\] > best_seq -> best_seq = sequence\[k\]/:: state[k] == READY \&\& (best_seq == 0 || sequence[k] < best_seq) -> best_seq = sequence[k]/'
  [ "$status" = 0 ] && echo "$key" > passed
  exit $status
fi
# lock without looking at the state again after storing hold: torn reads
mutant no-recheck-after-hold 's/:: state\[best\] != READY -> hold\[me\] = 0/:: false -> skip/'
# wait without looking again after announcing the sleep: a lost wake-up
mutant no-recheck-after-waiting '/waiting\[me\] = 1;/{n;n;s/smi_ext_newest();/best = NB;/}'
# the sweep frees a live client's slot: its lock is taken
mutant sweep-frees-live 's/&& hold\[j\] != 0 && !alive\[j\] ->/\&\& hold[j] != 0 ->/'
# the grown buffer taken without the held check, and the wrong one (buffer 0,
# which a client holds): shows the growth path is reached, and checked
mutant grow-takes-held 's/b = nb - 1;/b = 0; got = 1; nb = nb;/;/^            try_buffer()$/d'
[ "$status" = 0 ] && echo "$key" > passed
exit $status
