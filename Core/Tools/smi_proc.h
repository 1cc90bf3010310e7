/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_proc.h -- child processes for the tools, the benchmarks and the tests:
 * fork a tracked child, reap it with a timeout, kill it, pin a process to a
 * CPU. smi-bench, smi-soak and Testing/Core/smi_test.h share these (the
 * clocks are in smi_clock.h). Not part of the library's API; needs nothing
 * of the library, so sanitized test builds can link it.
 *
 * The children forked here are remembered in a fixed table (SMI_PROC_MAX at
 * once) until they are reaped or forgotten, so that a signal handler or a
 * watchdog can kill them all with smi_proc_kill_all(), which is
 * async-signal-safe.
 */
#ifndef SMI_PROC_H
#define SMI_PROC_H

#include <stdint.h>
#include <sys/types.h>

#define SMI_PROC_MAX 64

/** Ask fork for a child that is killed (SIGKILL) when this process dies. */
#define SMI_PROC_DIE_WITH_PARENT 1

/**
 * fork() after flushing stdio; the parent remembers the child. The child
 * starts with an empty table (its parent's children are not its own) and,
 * with SMI_PROC_DIE_WITH_PARENT in flags, dies with its parent.
 * @return the child's pid in the parent, 0 in the child, -1 (errno set) when
 *   fork failed or the table is full (then the child was killed and reaped).
 */
pid_t smi_proc_fork(int flags);

/** Forget a child (reaped by other means). */
void smi_proc_forget(pid_t pid);

/** Send SIGKILL to every child still remembered (async-signal-safe). */
void smi_proc_kill_all(void);

/**
 * Wait at most timeout_ms for the child to end (0: only look; negative: no
 * limit) and reap it.
 * @return 1 when it was reaped (*wstatus, if not NULL, holds waitpid's
 *   status; it is forgotten); 0 when it is still running; -1 when it is not
 *   a child of this process any more (reaped elsewhere; it is forgotten).
 */
int smi_proc_reap(pid_t pid, int timeout_ms, int *wstatus);

/** SIGKILL the child and reap it (waitpid's status into *wstatus if not NULL). */
void smi_proc_kill9(pid_t pid, int *wstatus);

/**
 * Wait at most timeout_ms for the child, killing and reaping it after that.
 * @return its exit status, 128 + the signal that ended it, -1 when it was
 *   still running (killed now), -2 when it ended otherwise, -3 when it was
 *   not a child any more.
 */
int smi_proc_join(pid_t pid, int timeout_ms);

/** Pin the calling process to one CPU (nothing when cpu < 0).
    @return 0, or -1 (errno set) from sched_setaffinity. */
int smi_proc_pin_cpu(int cpu);

#endif /* SMI_PROC_H */
