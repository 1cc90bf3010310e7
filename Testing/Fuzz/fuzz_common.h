/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_common.h -- what the stream fuzzers share: a private stream file per
 * process, written from the fuzzer's bytes, and one pass of the public API
 * over it as a client and as servers of both layouts. Every call may fail;
 * none may crash, hang, or touch memory outside what it owns (the fuzzers
 * run under ASan and UBSan).
 */
#ifndef SMI_FUZZ_COMMON_H
#define SMI_FUZZ_COMMON_H

#include "shared_memory_image.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* This process's stream file (in /dev/shm when it exists). */
static const char *fuzz_path(void)
{
    static char path[128];
    if (!path[0])
        snprintf(path, sizeof path, "%s/smi-fuzz-%ld.smi",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
    return path;
}

/* Replace the file's contents with data[0, n). */
static void fuzz_write_file(const uint8_t *data, size_t n)
{
    int fd = open(fuzz_path(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    close(fd);
}

/* A client's pass: wait, lock, describe, copy (both orientations), unlock. */
static void fuzz_client_pass(SharedMemoryImageStream c, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        SharedMemoryStreamInfo info;
        (void)SharedMemoryImageStream_info(c, &info);
        (void)SharedMemoryImageStream_wait(c, 0);
        SharedMemoryFrame f = NULL;
        if (SharedMemoryImageStream_lock(c, &f) != IMAGESTREAM_NOERROR)
            continue;
        SharedMemoryImageDesc d;
        if (SharedMemoryImageStream_describe(c, &d) == IMAGESTREAM_NOERROR) {
            uint64_t n = (uint64_t)d.width * d.height * d.depth *
                         SharedMemoryImageStream_formatsize(d.format);
            if (n <= ((uint64_t)64 << 20)) {
                uint8_t *dst = malloc(n ? n : 1);
                if (dst) {
                    (void)SharedMemoryImageStream_copyframe(c, dst, n, i & 1);
                    free(dst);
                }
            }
            /* The in-place pointer covers the frame: read its ends. */
            if (n && f->buffer) {
                volatile uint8_t first = f->buffer[0], last = f->buffer[n - 1];
                (void)first;
                (void)last;
            }
        }
        (void)SharedMemoryImageStream_unlock(c);
    }
}

/* A server's pass: a small frame copied in and one written in place. */
static void fuzz_server_pass(SharedMemoryImageStream s)
{
    uint8_t px[16 * 8 * 3];
    memset(px, 0x5a, sizeof px);
    struct _SharedMemoryFrame in = {7, 16, 8, px};
    (void)SharedMemoryImageStream_putframe(s, &in);
    SharedMemoryFrame f = NULL;
    if (SharedMemoryImageStream_acquire(s, 8, 4, &f) == IMAGESTREAM_NOERROR) {
        memset(f->buffer, 0xa5, 8 * 4 * 3);
        (void)SharedMemoryImageStream_publish(s);
    }
    SharedMemoryStreamInfo info;
    (void)SharedMemoryImageStream_info(s, &info);
}

#endif /* SMI_FUZZ_COMMON_H */
