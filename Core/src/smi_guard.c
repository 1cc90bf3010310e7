/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_guard.c -- the library's own frame copies survive a file truncated
 * under them. Touching a page of a mapping past the end of its file raises
 * SIGBUS; another process may truncate the stream file at any moment, even
 * in the middle of a copy that began after the size check. So the copies of
 * putframe() and copyframe() run "guarded": a SIGBUS handler, installed once
 * by the library, turns a fault inside the guarded range of the current
 * thread's guarded copy into an error return; any other SIGBUS goes to the
 * handler that was there before (or kills the process, as it would have).
 *
 * Pixels a caller reads or writes in place (a locked frame's buffer, an
 * acquired buffer) are the caller's accesses: a truncation can still fault
 * those (Core/LAYOUT.md, "Truncation").
 */
#include "smi_internal.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

typedef struct smi_guard_t {
    sigjmp_buf jump;
    const uint8_t *lo, *hi; /* the mapping being copied from or to */
} smi_guard_t;

static _Thread_local smi_guard_t *volatile smi_guard_current;
static struct sigaction smi_guard_previous;
static pthread_once_t smi_guard_once = PTHREAD_ONCE_INIT;
static int smi_guard_installed;

static void smi_guard_handler(int sig, siginfo_t *info, void *context)
{
    smi_guard_t *g = smi_guard_current;
    const uint8_t *at = (const uint8_t *)info->si_addr;
    if (g && at >= g->lo && at < g->hi)
        siglongjmp(g->jump, 1);
    /* Not a fault of a guarded copy: what would have happened without us. */
    if (smi_guard_previous.sa_flags & SA_SIGINFO) {
        smi_guard_previous.sa_sigaction(sig, info, context);
    } else if (smi_guard_previous.sa_handler == SIG_IGN ||
               smi_guard_previous.sa_handler == SIG_DFL) {
        /* Back to the default action: the faulting access runs again and
           the signal takes its default course (the process ends). */
        signal(SIGBUS, SIG_DFL);
    } else {
        smi_guard_previous.sa_handler(sig);
    }
}

static void smi_guard_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = smi_guard_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    smi_guard_installed = sigaction(SIGBUS, &sa, &smi_guard_previous) == 0;
}

int smi_guarded(const uint8_t *map, uint64_t map_size, void (*fn)(void *ctx), void *ctx)
{
    pthread_once(&smi_guard_once, smi_guard_install);
    if (!smi_guard_installed) {
        fn(ctx);
        return IMAGESTREAM_NOERROR;
    }
    smi_guard_t g;
    g.lo = map;
    g.hi = map + map_size;
    if (sigsetjmp(g.jump, 1) != 0) {
        smi_guard_current = NULL;
        return IMAGESTREAM_BAD_FILE_SIZE; /* the file was truncated under fn */
    }
    smi_guard_current = &g;
    fn(ctx);
    smi_guard_current = NULL;
    return IMAGESTREAM_NOERROR;
}
