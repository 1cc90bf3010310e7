/* SPDX-License-Identifier: BSD-3-Clause */
/* smi_bench_copy.h -- smi-bench part 8 (smi_bench_copy.c). */
#ifndef SMI_BENCH_COPY_H
#define SMI_BENCH_COPY_H

#include <stdint.h>

/* Print one size's rows of part 8: frames/s of copying a width x height RGB
   frame into and out of a stream-sized file in `dir`, memcpy through a
   mapping against the descriptor's pwrite/preadv (and the library's
   copyframe), in `rounds` alternating slices of `seconds` in all. src: at
   least width * height * 3 bytes. Returns 0, or 1 after a message. */
int smi_bench_copy(const char *dir, const char *name, uint32_t width, uint32_t height,
                   double seconds, unsigned rounds, const uint8_t *src);

#endif /* SMI_BENCH_COPY_H */
