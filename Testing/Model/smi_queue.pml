/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_queue.pml -- a Promela model of queue reading in the extended layout
 * (Core/src/smi_extended.c, Core/LAYOUT.md section 4, "Queue reading"),
 * checked with spin. Names follow the code: buffers[b].state / .sequence,
 * slots[j].claim / .hold / .mode / .last_sequence, file.publish_count and
 * file.consume_count (the futex words), file.server_waiting;
 * smi_ext_take_buffer, smi_ext_blocked, smi_ext_unread, smi_ext_take_or_wait,
 * smi_ext_publish, smi_ext_find, smi_ext_lock, smi_ext_unlock,
 * smi_ext_consumed, smi_ext_queue_start. Every shared access is one atomic
 * step, as the code's sequentially consistent operations are; a client's
 * liveness is its slot's byte lock, `alive[j]`.
 *
 * One server publishes FRAMES frames into NB buffers, oldest frame
 * overwritten first (a queue reader is attached), waiting for a buffer when
 * none can be taken (setacquiretimeout: it sleeps on consume_count and
 * looks again every 10 ms, which the model lets happen once the reliable
 * reader is dead). Client 0 is a reliable queue reader that may die at any
 * moment; client 1 a plain queue reader. Both attach while the server runs.
 * Checked:
 *   - no torn read (a client reads a buffer only while the server is not
 *     writing it);
 *   - no frame handed out twice: each reader's sequences strictly increase;
 *   - none skipped without being counted: at each frame `lost` grows by the
 *     gap, and a reader that reaches the last frame has got + lost = the
 *     frames published after its start;
 *   - a reliable reader is never overrun: the server never takes a buffer
 *     whose frame a live reliable reader has not read, and that reader's
 *     frames come without a gap;
 *   - a dead reliable reader never blocks the server: woken by nobody, the
 *     server's next timed look releases its claim (or takes a buffer);
 *   - no lost wake-up of a reader (publish_count) nor of the waiting server
 *     (consume_count), no deadlock: invalid end states.
 * Run: Testing/Model/check_model.sh smi_queue.pml WORKDIR.
 */

#define NB 2
#define NC 2      /* slot 0: reliable reader (mortal); slot 1: queue reader */
#define FRAMES 3

#define EMPTY 0
#define WRITING 1
#define READY 2

byte state[NB];
byte sequence[NB];
bit pixels_busy[NB];
byte claim[NC];
byte hold[NC];
byte slot_last[NC];    /* slots[j].last_sequence */
bit reliable[NC];      /* slots[j].mode bit 1 */
bit waiting[NC];
bit alive[NC];
bit sleeping[NC];      /* a reader in FUTEX_WAIT on publish_count */
byte publish_count;
byte consume_count;
bit server_waiting;
bit server_sleeping;   /* the server in FUTEX_WAIT on consume_count */
byte last_sequence;
bit started;           /* the reliable reader has set its start (the assertions') */

/* The reliable reader is dead, still claimed, and a ready frame it has not
   read is in a buffer: what only the server's timed look can find. */
#define dead_blocks (!alive[0] && claim[0] != 0 && \
                     ((state[0] == READY && sequence[0] > slot_last[0]) || \
                      (state[1] == READY && sequence[1] > slot_last[0])))

/* smi_ext_wake_readers: publish_count moves, sleepers wake. */
inline wake_readers() {
    publish_count = (publish_count + 1) % 8; /* (the code's u32: wrapped small here) */
    /* (the scan of the slots' waiting flags in one step: they are read
       after the word, which is what matters) */
    d_step {
        if
        :: (claim[0] != 0 && waiting[0]) || (claim[1] != 0 && waiting[1]) ->
            sleeping[0] = 0; sleeping[1] = 0 /* FUTEX_WAKE */
        :: else -> skip
        fi
    }
}

/* smi_ext_unread + smi_ext_blocked for slot j: a slot holds b, or a live
   reliable reader has not read its frame (key: the frame's sequence, 0:
   none); a dead reliable reader's claim is released. Two steps per slot, as
   the code reads last_sequence before hold. */
inline blocked_by() {
    d_step {
        if
        :: claim[j] != 0 && key != 0 && reliable[j] && slot_last[j] < key ->
            if
            :: alive[j] -> blk = 1
            :: else -> claim[j] = 0 /* CAS(claim, seen, 0) */
            fi
        :: else -> skip
        fi
    }
    d_step {
        if
        :: claim[j] != 0 && hold[j] == b + 1 -> blk = 1
        :: else -> skip
        fi
    }
}

inline smi_ext_blocked() {
    blk = 0;
    j = 0;
    blocked_by();
    j = 1;
    blocked_by();
    j = 0
}

/* One candidate: skipped when blocked; else WRITING, then looked at again. */
inline try_buffer() {
    key = (state[b] == READY -> sequence[b] : 0);
    smi_ext_blocked();
    if
    :: blk -> skip
    :: else ->
        old = state[b];
        state[b] = WRITING;
        smi_ext_blocked();
        if
        :: blk ->
            state[b] = old;
            if
            :: old == READY -> wake_readers() /* a reader may have seen WRITING */
            :: else -> skip
            fi;
            old = 0
        :: else ->
            got = 1;
            /* never overrun: a frame taken was read by the live reliable
               reader, or came before its start */
            assert(key == 0 || !(claim[0] != 0 && alive[0] && started && slot_last[0] < key))
        fi
    fi
}

/* smi_ext_take_buffer: empty first, then ready oldest first. */
inline take_buffer() {
    got = 0;
    if
    :: (state[0] == READY -> sequence[0] : 0) <= (state[1] == READY -> sequence[1] : 0) -> first = 0
    :: else -> first = 1
    fi;
    b = first;
    try_buffer();
    if
    :: !got -> b = 1 - first; try_buffer()
    :: else -> skip
    fi
}

proctype server()
{
    byte n = 0, b, old, j, first, key, seen;
    bit blk, got, timed;
    do
    :: n < FRAMES ->
        take_buffer();
        /* smi_ext_take_or_wait */
        do
        :: got -> break
        :: else ->
            server_waiting = 1;
            seen = consume_count;
            take_buffer();
            /* a dead reader never blocks: one look releases its claim */
            assert(!timed || got || claim[0] == 0);
            timed = 0;
            if
            :: got -> skip
            :: else ->
                atomic {
                    if
                    :: consume_count == seen -> server_sleeping = 1
                    :: else -> skip
                    fi
                }
                /* woken, or the 10 ms look: what finds a dead reliable
                   reader that holds frames back (it wakes nobody) */
                (server_sleeping == 0 || dead_blocks);
                timed = server_sleeping;
                server_sleeping = 0
            fi
        od;
        server_waiting = 0;
        seen = 0;
        /* smi_ext_publish */
        key = 0;
        pixels_busy[b] = 1;
        pixels_busy[b] = 0;
        last_sequence++;
        sequence[b] = last_sequence;
        state[b] = READY;
        wake_readers();
        n++
    :: else -> break
    od
}

/* smi_ext_find(oldest): the ready buffer with the smallest sequence above
   mine (one step: it only reads; lock checks the state again after hold).
   A reliable reader takes none while a buffer being written still holds a
   frame it has not read before that one (`behind`): the server puts such a
   buffer back (its check sees the reader), it never overwrites it. */
inline find_oldest() {
    d_step {
        best = NB;
        best_seq = 0;
        k = 0;
        do
        :: k < NB ->
            if
            :: state[k] == READY && sequence[k] > my_last &&
               (best == NB || sequence[k] < best_seq) -> best = k; best_seq = sequence[k]
            :: else -> skip
            fi;
            k++
        :: else -> break
        od;
        k = 0;
        if
        :: me == 0 && best < NB &&
           ((state[0] == WRITING && sequence[0] > my_last && sequence[0] < best_seq) ||
            (state[1] == WRITING && sequence[1] > my_last && sequence[1] < best_seq)) ->
            best = NB /* wait for it: NO_FRAMEAVAILABLE, the caller looks again */
        :: else -> skip
        fi
    }
}

/* smi_ext_consumed: the word, then the server's flag. */
inline consumed() {
    consume_count++;
    if
    :: server_waiting -> server_sleeping = 0 /* FUTEX_WAKE on consume_count */
    :: else -> skip
    fi
}

inline maybe_die() {
    if
    :: me == 0 -> alive[me] = 0; goto dead
    :: true -> skip
    fi
}

proctype client(byte me)
{
    byte my_last, start, best, best_seq, seen, k, q, got = 0, lost = 0;
    /* attach (smi_ext_claim_slot): mode, a reliable reader's last 0, claim */
    alive[me] = 1;
    hold[me] = 0;
    waiting[me] = 0;
    reliable[me] = (me == 0);
    slot_last[me] = 0;
    claim[me] = me + 1;
    /* smi_ext_queue_start: before the run of consecutive ready frames
       that ends with the newest one (a frame missing below it may be gone
       already, overwritten by a server that looked before the claim) */
    d_step {
        best_seq = 0;
        k = 0;
        do
        :: k < NB ->
            if
            :: state[k] == READY && sequence[k] > best_seq -> best_seq = sequence[k]
            :: else -> skip
            fi;
            k++
        :: else -> break
        od;
        do
        :: best_seq > 1 && ((state[0] == READY && sequence[0] == best_seq - 1) ||
                            (state[1] == READY && sequence[1] == best_seq - 1)) -> best_seq--
        :: else -> break
        od;
        my_last = (best_seq != 0 -> best_seq - 1 : last_sequence);
        /* not before a frame being overwritten now */
        if
        :: state[0] == WRITING && sequence[0] > my_last -> my_last = sequence[0]
        :: else -> skip
        fi;
        if
        :: state[1] == WRITING && sequence[1] > my_last -> my_last = sequence[1]
        :: else -> skip
        fi;
        best_seq = 0;
        k = 0
    }
    d_step {
        slot_last[me] = my_last;
        started = started || me == 0
    }
    if
    :: me == 0 -> consumed() /* frames before the start are free: tell a waiting server */
    :: else -> skip
    fi;
    start = my_last;
    do
    :: my_last == FRAMES -> break
    :: else ->
        /* smi_ext_wait */
        find_oldest();
        if
        :: best == NB ->
            waiting[me] = 1;
            seen = publish_count;
            find_oldest();
            if
            :: best == NB ->
                atomic {
                    if
                    :: publish_count == seen -> sleeping[me] = 1
                    :: else -> skip
                    fi
                }
                (sleeping[me] == 0);
                waiting[me] = 0
            :: else -> waiting[me] = 0
            fi;
            seen = 0
        :: else -> skip
        fi;
        maybe_die();
        /* smi_ext_lock (next) */
        find_oldest();
        if
        :: best < NB ->
            hold[me] = best + 1;
            if
            :: state[best] != READY -> hold[me] = 0
            :: else ->
                q = sequence[best];
                if
                :: q <= my_last -> hold[me] = 0
                :: else ->
                    /* smi_ext_advance */
                    assert(q > my_last); /* each frame once */
                    assert(me != 0 || q == my_last + 1); /* reliable: no gap */
                    lost = lost + q - my_last - 1;
                    got++;
                    my_last = q;
                    slot_last[me] = q;
                    if
                    :: me == 0 -> consumed()
                    :: else -> skip
                    fi;
                    assert(!pixels_busy[best]);
                    maybe_die();
                    assert(!pixels_busy[best]);
                    hold[me] = 0; /* smi_ext_unlock */
                    consumed()
                fi
            fi
        :: else -> skip
        fi;
        d_step { best = 0; best_seq = 0; q = 0 }
    od;
    assert(got + lost == FRAMES - start); /* nothing skipped uncounted */
    claim[me] = 0;
    alive[me] = 0;
dead:
    skip
}

init {
    atomic {
        run server();
        run client(0);
        run client(1)
    }
}
