/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_test.h -- tiny assertion helpers for the core tests (libuv-style).
 * Each test is one executable whose main() returns 0 on success; a failed
 * ASSERT prints file, line, the expression and, for return codes, the
 * library's error string, then exits 1.
 */
#ifndef SMI_TEST_H
#define SMI_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared_memory_image_client_priv.h"

#define SMI_FAIL(...)                                                      \
    do {                                                                   \
        fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__);            \
        fprintf(stderr, __VA_ARGS__);                                      \
        fputc('\n', stderr);                                               \
        exit(1);                                                           \
    } while (0)

#define ASSERT(expr)                                                       \
    do {                                                                   \
        if (!(expr)) SMI_FAIL("%s", #expr);                                \
    } while (0)

#define ASSERT_EQ(a, b)                                                    \
    do {                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                \
        if (a_ != b_) SMI_FAIL("%s == %s (%lld != %lld)", #a, #b, a_, b_); \
    } while (0)

/* Compare return codes, naming both in words. */
#define ASSERT_RC(expected, call)                                          \
    do {                                                                   \
        int e_ = (expected), r_ = (call);                                  \
        if (e_ != r_)                                                      \
            SMI_FAIL("%s: expected %d (%s), got %d (%s)", #call, e_,       \
                     SharedMemoryImageStream_errorstring(e_), r_,          \
                     SharedMemoryImageStream_errorstring(r_));             \
    } while (0)

/* A fresh, unique path for a stream file; removed by smi_test_cleanup(). */
static char smi_test_path_buf[256];
static inline const char *smi_test_path(const char *tag)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(smi_test_path_buf, sizeof smi_test_path_buf, "%s/smi-test-%s-%ld.smi", dir, tag,
             (long)getpid());
    unlink(smi_test_path_buf);
    return smi_test_path_buf;
}

#endif /* SMI_TEST_H */
