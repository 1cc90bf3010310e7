/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_clock.h -- the clocks the tools, the benchmarks and the tests pace and
 * time their loops with (the one "now in UNIX time" of all of them).
 */
#ifndef SMI_CLOCK_H
#define SMI_CLOCK_H

#include <stdint.h>

/** Nanoseconds on CLOCK_MONOTONIC (never jumps; start point unspecified). */
uint64_t smi_tool_now_ns(void);

/** Seconds on CLOCK_MONOTONIC, as a double. */
double smi_tool_now_s(void);

/** Seconds since the UNIX epoch (CLOCK_REALTIME). */
double smi_tool_unix_time(void);

/** Sleep `us` microseconds; a signal does not cut the sleep short. */
void smi_tool_sleep_us(uint64_t us);

/** Sleep until CLOCK_MONOTONIC reaches deadline_ns. Returns early (and
    without error) when a signal arrives, so callers re-check smi_tool_stop. */
void smi_tool_sleep_until_ns(uint64_t deadline_ns);

#endif /* SMI_CLOCK_H */
