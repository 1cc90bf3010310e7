/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestShrinkRefresh -- no pointer a client hands out, and no byte it copies,
 * lies outside the mapping it holds, whatever another process does to the
 * file's size and header between its calls (both layouts).
 *
 * Extended layout, the reproduction of a client left with a geometry its
 * mapping no longer covers: a client that has read frames sees the header
 * change (a third buffer) while the file is shrunk to two pages, so its
 * refresh maps the small file and finds the geometry does not add up; then
 * the old header comes back, with a new frame in buffer 1, but the file stays
 * small. Every call must answer an error (the pixels of buffer 1 lie past the
 * two pages it has mapped), info() and inspect() too, and nothing may crash
 * (ASan: no read outside a mapping). Once the file has its size and pixels
 * back, the same handle locks the new frame and copies it byte for byte:
 * the handle attaches again by itself.
 *
 * The same with the header intact and only the size changed (a few bytes,
 * one page, half the file, the header page alone), and with the file grown
 * larger than before; and for the EnSight layout (one client), where a file
 * shorter than the mapping answers BAD_FILE_SIZE until it is whole again.
 *
 * The file is written with pwrite()/ftruncate() by this process, as a hostile
 * writer would: there is no server mapping to fault.
 */
#include "smi_test.h"

#include <pthread.h>

#define W 64u
#define H 48u
#define FRAME_BYTES (W * H * 3u)
#define BS ((uint64_t)1 << 20) /* buffer size: far past a small mapping */
#define FILE_BYTES (SMI_X_HEADER + 2 * BS)
#define HEADER_BYTES 1280u /* file and buffer headers; the slots stay the client's */

typedef struct {
    int fd;
    off_t size;
    unsigned delay_us;
} shrinker_t;

static void *shrink_later(void *arg)
{
    const shrinker_t *sh = arg;
    smi_test_sleep_ms(sh->delay_us / 1000.0);
    ASSERT_EQ(ftruncate(sh->fd, sh->size), 0);
    return NULL;
}

static void pwrite_all(int fd, const void *p, size_t n, off_t off)
{
    ASSERT_EQ(pwrite(fd, p, n, off), (ssize_t)n);
}

/* Buffer b of an extended header in hdr: ready, frame `frame`, pixels of
   seed `frame` written to the file. */
static void x_publish(int fd, uint8_t *hdr, uint32_t b, uint32_t frame, int write_pixels)
{
    if (write_pixels) {
        uint8_t px[FRAME_BYTES];
        smi_fill_tagged(px, FRAME_BYTES, frame);
        pwrite_all(fd, px, FRAME_BYTES, (off_t)(SMI_X_HEADER + b * BS));
    }
    smi_x_put_buffer(hdr, b, 2, IMAGESTREAM_FORMAT_RGB8, frame, frame, W, H, 1, BS);
    pwrite_all(fd, hdr, HEADER_BYTES, 0);
}

/* Every call of client c answers an error now: nothing handed out. */
static void expect_refused(SharedMemoryImageStream c, const char *path, const char *when)
{
    snprintf(smi_test_who, sizeof smi_test_who, "%s", when);
    SharedMemoryFrame f = NULL;
    int rc = SharedMemoryImageStream_lock(c, &f);
    ASSERT_MSG(rc < 0, "lock answered %d (%s)", rc, SharedMemoryImageStream_errorstring(rc));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(c));
    rc = SharedMemoryImageStream_wait(c, 0);
    ASSERT_MSG(rc < 0, "wait answered %d (%s)", rc, SharedMemoryImageStream_errorstring(rc));
    SharedMemoryStreamInfo info;
    (void)SharedMemoryImageStream_info(c, &info); /* any answer; no crash */
    (void)SharedMemoryImageStream_inspect(path, &info);
    snprintf(smi_test_who, sizeof smi_test_who, "main");
}

/* Client c locks frame `frame` and copies it byte for byte. */
static void expect_frame(SharedMemoryImageStream c, uint32_t frame)
{
    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 1000));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(f->iFrame, frame);
    uint8_t copy[FRAME_BYTES];
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(c, copy, sizeof copy, 0));
    uint32_t seed = 0;
    ASSERT_EQ(smi_check_tagged(copy, FRAME_BYTES, &seed), -1);
    ASSERT_EQ(seed, frame);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
}

static void test_extended_geometry_flip(void)
{
    const char *path = smi_test_path("shrink-refresh");
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT(fd >= 0);
    ASSERT_EQ(ftruncate(fd, (off_t)FILE_BYTES), 0);
    uint8_t hdr[SMI_X_HEADER];
    smi_x_init(hdr, 2, BS, 32);
    pwrite_all(fd, hdr, SMI_X_HEADER, 0);
    x_publish(fd, hdr, 0, 1, 1);

    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &c));
    expect_frame(c, 1);

    /* A third buffer appears in the header before the file has grown for
       it: the client's refresh finds a geometry that does not add up and
       reads it again for a few milliseconds, mapping the file each time.
       Meanwhile the file shrinks to two pages (a thread, after a delay that
       sweeps that window), so the refresh ends on a mapping of the small
       file. Then the old header comes back with a new frame in buffer 1,
       the file still small: buffer 1 lies far outside that mapping. */
    uint8_t grown[SMI_X_HEADER];
    memcpy(grown, hdr, sizeof grown);
    smi_put_u32(grown + 16, 3);
    smi_put_u64(grown + 32, SMI_X_HEADER + 3 * BS);
    smi_put_u64(grown + SMI_X_BUF(2) + 32, SMI_X_HEADER + 2 * BS);
    uint32_t frame = 2;
    for (int round = 0; round < 40; round++, frame++) {
        pwrite_all(fd, grown, HEADER_BYTES, 0);
        shrinker_t sh = {fd, 2 * 4096, 150 * (round % 20)};
        pthread_t t;
        ASSERT_EQ(pthread_create(&t, NULL, shrink_later, &sh), 0);
        SharedMemoryFrame f = NULL;
        int rc = SharedMemoryImageStream_lock(c, &f);
        ASSERT_MSG(rc < 0, "lock answered %d (%s)", rc, SharedMemoryImageStream_errorstring(rc));
        ASSERT_EQ(pthread_join(t, NULL), 0);
        x_publish(fd, hdr, frame % 2, frame, 0);
        expect_refused(c, path, "small file, old header");
        ASSERT_EQ(ftruncate(fd, (off_t)FILE_BYTES), 0);
        x_publish(fd, hdr, frame % 2, frame, 1);
        expect_frame(c, frame);
    }

    /* The size alone, header intact: a few bytes, one page, the header page
       and half a buffer, half the file; each followed by a new frame while
       small, then the file whole again. */
    static const uint64_t sizes[] = {7, 4096, SMI_X_HEADER + BS / 2, SMI_X_HEADER + BS};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++, frame++) {
        char when[64];
        snprintf(when, sizeof when, "file of %llu bytes", (unsigned long long)sizes[i]);
        ASSERT_EQ(ftruncate(fd, (off_t)sizes[i]), 0);
        if (sizes[i] >= SMI_X_HEADER)
            x_publish(fd, hdr, frame % 2, frame, 0);
        expect_refused(c, path, when);
        ASSERT_EQ(ftruncate(fd, (off_t)FILE_BYTES), 0);
        pwrite_all(fd, hdr, HEADER_BYTES, 0); /* (a truncation below it zeroed it) */
        x_publish(fd, hdr, frame % 2, frame, 1);
        expect_frame(c, frame);
    }

    /* Larger than before (a server that re-sized it): frames go on. */
    ASSERT_EQ(ftruncate(fd, (off_t)(FILE_BYTES + 5 * BS)), 0);
    x_publish(fd, hdr, frame % 2, frame, 1);
    expect_frame(c, frame);

    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    close(fd);
}

static void test_ensight(void)
{
    const char *path = smi_test_path("shrink-ensight");
    const uint64_t L = 2 * 24 + 2 * (uint64_t)BS;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT(fd >= 0);
    ASSERT_EQ(ftruncate(fd, (off_t)L), 0);
    uint8_t h0[24] = {0}, h1[24] = {0};
    h0[20] = h1[20] = 4; /* initialized, no client yet */
    pwrite_all(fd, h0, 24, 0);
    pwrite_all(fd, h1, 24, (off_t)(24 + BS));

    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &c));
    uint32_t frame = 1;
    static const uint64_t sizes[] = {0, 7, 4096, 24 + BS, 24 + BS + 30};
    for (size_t i = 0; i <= sizeof sizes / sizeof sizes[0]; i++, frame++) {
        /* Block 1 holds frame `frame` (pixels, header, state 2 last). */
        uint8_t px[FRAME_BYTES];
        smi_fill_tagged(px, FRAME_BYTES, frame);
        uint8_t h[24] = {0};
        smi_put_u32(h, frame);
        smi_put_u32(h + 4, W);
        smi_put_u32(h + 8, H);
        smi_put_u32(h + 16, H);
        h[20] = 2;
        if (i < sizeof sizes / sizeof sizes[0]) {
            char when[64];
            snprintf(when, sizeof when, "EnSight file of %llu bytes", (unsigned long long)sizes[i]);
            ASSERT_EQ(ftruncate(fd, (off_t)sizes[i]), 0);
            if (sizes[i] >= 24 + BS + 24)
                pwrite_all(fd, h, 24, (off_t)(24 + BS));
            expect_refused(c, path, when);
            ASSERT_EQ(ftruncate(fd, (off_t)L), 0);
        }
        pwrite_all(fd, px, FRAME_BYTES, (off_t)(24 + BS + 24));
        pwrite_all(fd, h, 24, (off_t)(24 + BS));
        expect_frame(c, frame);
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    close(fd);
}

int main(void)
{
    smi_test_watchdog(120);
    test_extended_geometry_flip();
    test_ensight();
    printf("TestShrinkRefresh: ok\n");
    return 0;
}
