/* SPDX-License-Identifier: BSD-3-Clause */
/* smi_clock.c -- monotonic and wall clocks, sleeping to a deadline. */
#include "smi_clock.h"

#include <errno.h>
#include <time.h>

uint64_t smi_tool_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double smi_tool_now_s(void)
{
    return (double)smi_tool_now_ns() * 1e-9;
}

double smi_tool_unix_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void smi_tool_sleep_us(uint64_t us)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(us / 1000000u);
    ts.tv_nsec = (long)(us % 1000000u) * 1000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void smi_tool_sleep_until_ns(uint64_t deadline_ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
    ts.tv_nsec = (long)(deadline_ns % 1000000000u);
    /* EINTR ends the sleep on purpose: the caller checks smi_tool_stop. */
    (void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}
