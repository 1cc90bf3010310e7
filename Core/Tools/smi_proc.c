/* SPDX-License-Identifier: BSD-3-Clause */
/* smi_proc.c -- tracked child processes, reaping with a timeout, CPU pinning. */
#include "smi_proc.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smi_clock.h"

static volatile sig_atomic_t smi_proc_children[SMI_PROC_MAX];

static int smi_proc_remember(pid_t pid)
{
    for (int i = 0; i < SMI_PROC_MAX; i++)
        if (smi_proc_children[i] == 0) {
            smi_proc_children[i] = pid;
            return 0;
        }
    return -1;
}

void smi_proc_forget(pid_t pid)
{
    for (int i = 0; i < SMI_PROC_MAX; i++)
        if (smi_proc_children[i] == pid)
            smi_proc_children[i] = 0;
}

void smi_proc_kill_all(void)
{
    for (int i = 0; i < SMI_PROC_MAX; i++)
        if (smi_proc_children[i] > 0)
            kill((pid_t)smi_proc_children[i], SIGKILL);
}

pid_t smi_proc_fork(int flags)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        for (int i = 0; i < SMI_PROC_MAX; i++)
            smi_proc_children[i] = 0;
        if (flags & SMI_PROC_DIE_WITH_PARENT) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) /* the parent died before prctl */
                _exit(1);
        }
        return 0;
    }
    if (smi_proc_remember(pid) != 0) {
        smi_proc_kill9(pid, NULL);
        errno = EAGAIN;
        return -1;
    }
    return pid;
}

int smi_proc_reap(pid_t pid, int timeout_ms, int *wstatus)
{
    uint64_t deadline = smi_tool_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, timeout_ms < 0 ? 0 : WNOHANG);
        if (r == pid) {
            smi_proc_forget(pid);
            if (wstatus)
                *wstatus = st;
            return 1;
        }
        if (r < 0 && errno != EINTR) {
            smi_proc_forget(pid);
            return -1;
        }
        if (r == 0 && smi_tool_now_ns() >= deadline)
            return 0;
        if (r == 0)
            smi_tool_sleep_us(1000);
    }
}

void smi_proc_kill9(pid_t pid, int *wstatus)
{
    kill(pid, SIGKILL);
    smi_proc_reap(pid, -1, wstatus);
}

int smi_proc_join(pid_t pid, int timeout_ms)
{
    int st = 0;
    int r = smi_proc_reap(pid, timeout_ms, &st);
    if (r < 0)
        return -3;
    if (r == 0) {
        smi_proc_kill9(pid, NULL);
        return -1;
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -2;
}

int smi_proc_pin_cpu(int cpu)
{
    if (cpu < 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}
