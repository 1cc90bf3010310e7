/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_extended.pml -- a Promela model of the extended layout's protocol
 * (Core/src/smi_extended.c, Core/LAYOUT.md section 4), checked with spin.
 * Names follow the code: buffers[b].state / .sequence, slots[j].claim /
 * .hold / .waiting, file.publish_count (the futex word), last_sequence;
 * smi_ext_take_buffer, smi_ext_held, smi_ext_sweep, smi_ext_publish,
 * smi_ext_newest, smi_ext_lock, smi_ext_unlock, smi_ext_wait. Every shared
 * access is one atomic step, as the code's sequentially consistent
 * operations are. A client's liveness is its slot's kernel byte lock:
 * `alive[j]`, dropped by the kernel when the process dies.
 *
 * One server publishes FRAMES frames into 2 buffers, trying them in the
 * code's order; when live clients hold every buffer it adds one (buffer 2:
 * smi_ext_grow; the layout allows 8, the model NB = 3), and only when that
 * is held too or the limit is reached does it drop a frame (it tries again
 * with the next one); NC clients attach, wait, lock
 * the newest frame, read it and unlock; the last client may die at any
 * moment, holding a buffer or not. Checked:
 *   - no torn read: a client reads a buffer's pixels only while the server
 *     is not writing them (assertion); the read takes two steps, between
 *     which the server may publish any number of frames, so this also
 *     covers a frame held for long (the ParaView source's zero-copy array
 *     keeps its lock until VTK frees it: one slot per frame held);
 *   - a live client's lock is never taken: the sweep that reclaims dead
 *     holders leaves its claim alone while it reads (assertion);
 *   - no lost wake-up, no deadlock: every live client ends having seen
 *     the last frame; one asleep in the futex with nobody to wake it is an
 *     invalid end state.
 * Not claimed: freedom from livelock. Under a scheduler that always
 * interleaves a client's lock (hold, then state) with the server's choice
 * of the same buffer (state, then holds), both back off for ever (spin
 * finds this cycle with -DNP -l -f on the progress_publish label); the code
 * bounds a lock's retries (SMI_LOCK_RETRIES) and real schedulers do not
 * keep such a rhythm.
 * Run: Testing/Model/check_model.sh (spin -a, cc -DCOLLAPSE, pan -m400000).
 */

#define NB 3      /* buffer headers: the stream starts with 2 and may grow to NB */
#define NC 2      /* client slots; client NC-1 may die */
#define FRAMES 3

#define EMPTY 0
#define WRITING 1
#define READY 2

byte nb = 2;          /* file.buffer_count: buffers in use (smi_ext_grow adds one) */
byte state[NB];       /* buffers[b].state */
byte sequence[NB];    /* buffers[b].sequence */
bit pixels_busy[NB];  /* the server is writing buffer b's pixels (no field: the assertion's) */
byte claim[NC];       /* slots[j].claim; 0: free */
byte hold[NC];        /* slots[j].hold: b + 1, 0 for none */
bit waiting[NC];      /* slots[j].waiting */
bit alive[NC];        /* slot j's byte lock is held */
bit sleeping[NC];     /* in FUTEX_WAIT on publish_count (the kernel's) */
byte publish_count;   /* file.publish_count */
byte last_sequence;   /* file.last_sequence */
bit server_done;

/* FUTEX_WAKE on publish_count: every sleeper wakes. */
inline futex_wake() {
    atomic {
        k = 0;
        do
        :: k < NC -> sleeping[k] = 0; k++
        :: else -> break
        od
    }
}

/* smi_ext_held: does a claimed slot hold buffer b? (after storing WRITING) */
inline smi_ext_held() {
    held = 0;
    j = 0;
    do
    :: j < NC ->
        if
        :: claim[j] != 0 && hold[j] == b + 1 -> held = 1
        :: else -> skip
        fi;
        j++
    :: else -> break
    od
}

/* smi_ext_sweep(s, 1): free the claims of dead holders (byte lock gone). */
inline smi_ext_sweep() {
    freed = 0;
    j = 0;
    do
    :: j < NC ->
        if
        :: claim[j] != 0 && hold[j] != 0 && !alive[j] -> claim[j] = 0; freed = 1
        :: else -> skip
        fi;
        j++
    :: else -> break
    od
}

/* Try candidate b: mark it WRITING, then give it back if a slot holds it. */
inline try_buffer() {
    old = state[b];
    state[b] = WRITING;
    smi_ext_held();
    if
    :: held -> state[b] = old /* a client holds it: contents untouched */
    :: else -> got = 1
    fi
}

proctype server()
{
    byte n = 0, b, old, j, k, first, attempt;
    bit held, got, freed, any_waiting;
    do
    :: n < FRAMES ->
        /* smi_ext_take_buffer: empty buffers first, then ready ones, the
           newest frame last (keys: 0 for not ready, else the sequence; with
           two buffers that is the older first). The library's order among
           more ready buffers is a preference only: each candidate goes
           through the same try_buffer() handshake, and the grown buffer is
           tried last here. */
        if
        :: (state[0] == READY -> sequence[0] : 0) <= (state[1] == READY -> sequence[1] : 0) ->
            first = 0
        :: else -> first = 1
        fi;
        got = 0;
        attempt = 0;
        do
        :: attempt < 2 && !got ->
            b = first;
            try_buffer();
            if
            :: !got -> b = 1 - first; try_buffer()
            :: else -> skip
            fi;
            if
            :: !got && nb > 2 -> b = 2; try_buffer() /* a grown buffer, tried last */
            :: else -> skip
            fi;
            if
            :: !got && attempt == 0 ->
                smi_ext_sweep(); /* every buffer is held: are the holders alive? */
                if
                :: freed -> attempt++
                :: else -> attempt = 2
                fi
            :: else -> attempt = 2
            fi
        :: else -> break
        od;
        /* smi_ext_grow: every buffer is held by a live client: add one (its
           header is EMPTY; the server stores file_size, then buffer_count,
           one step here) and try it like any other. */
        if
        :: !got && nb < NB ->
            nb++;
            b = nb - 1;
            try_buffer()
        :: else -> skip
        fi;
        if
        :: got ->
            /* smi_ext_publish: pixels, READY, sequence, the futex word */
progress_publish:
            pixels_busy[b] = 1;
            pixels_busy[b] = 0;
            last_sequence++;
            sequence[b] = last_sequence;
            state[b] = READY;
            publish_count++;
            any_waiting = 0;
            j = 0;
            do
            :: j < NC ->
                if
                :: claim[j] != 0 && waiting[j] -> any_waiting = 1
                :: else -> skip
                fi;
                j++
            :: else -> break
            od;
            if
            :: any_waiting -> futex_wake()
            :: else -> skip
            fi;
            n++
        :: else -> skip /* NO_BUFFERAVAILABLE: dropped; the next frame tries again */
        fi
    :: else -> break
    od;
    server_done = 1
}

/* smi_ext_newest: the ready buffer with the largest sequence above mine. */
/* (One step: it only reads, and lock() checks the state again after storing
   hold, which is what makes the choice safe.) */
inline smi_ext_newest() {
    d_step {
        best = NB;
        best_seq = my_last;
        k = 0;
        do
        :: k < nb ->
            if
            :: state[k] == READY && sequence[k] > best_seq -> best = k; best_seq = sequence[k]
            :: else -> skip
            fi;
            k++
        :: else -> break
        od
    }
}

inline maybe_die() {
    if
    :: mortal -> alive[me] = 0; goto dead
    :: true -> skip
    fi
}

proctype client(byte me; bit mortal)
{
    byte my_last = 0, best, best_seq, seen, k;
    /* attach: the slot's byte lock, then claim */
    alive[me] = 1;
    hold[me] = 0;
    waiting[me] = 0;
    claim[me] = me + 1;
    do
    :: my_last == FRAMES -> break
    :: else ->
        /* smi_ext_wait */
        smi_ext_newest();
        if
        :: best == NB ->
            waiting[me] = 1;
            seen = publish_count;
            smi_ext_newest();
            if
            :: best == NB ->
                /* FUTEX_WAIT(publish_count, seen): sleeps only if unchanged */
                atomic {
                    if
                    :: publish_count == seen -> sleeping[me] = 1
                    :: else -> skip
                    fi
                }
                (sleeping[me] == 0);
                waiting[me] = 0
            :: else -> waiting[me] = 0
            fi
        :: else -> skip
        fi;
        maybe_die();
        /* smi_ext_lock */
        smi_ext_newest();
        if
        :: best < NB ->
            hold[me] = best + 1;
            if
            :: state[best] != READY -> hold[me] = 0 /* the server got there first */
            :: else ->
                if
                :: sequence[best] <= my_last -> hold[me] = 0
                :: else ->
                    my_last = sequence[best];
                    /* reading the pinned frame, in two steps */
                    assert(!pixels_busy[best]);
                    maybe_die();
                    assert(!pixels_busy[best]);
                    assert(claim[me] == me + 1);
                    hold[me] = 0 /* smi_ext_unlock */
                fi
            fi
        :: else -> skip
        fi
    od;
    claim[me] = 0; /* destroy */
    alive[me] = 0;
dead:
    skip
}

init {
    atomic {
        run server();
        run client(0, 0);
        run client(NC - 1, 1)
    }
}
