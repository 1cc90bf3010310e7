/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestRowOrder -- frames that know their row order (IMAGESTREAM_FRAME_BOTTOMUP),
 * between a server process and a client process in lockstep:
 * - extended layout: a bottom-up frame (putframeformat, and acquireformat of
 *   a volume) is stored as given and marked; the client's frameflags() says
 *   BOTTOMUP, lock() hands out the rows as stored, copyframe(0) gives them
 *   top row first and copyframe(1) bottom row first, byte for byte; a plain
 *   frame after it says 0 (the flag belongs to the frame, not the buffer);
 *   a client of EnSight's API (no IMAGESTREAM_OPTIONS_ANYFORMAT), which reads
 *   frame->buffer top row first, gets an RGB8 bottom-up frame as an upright
 *   copy that says 0;
 * - EnSight layout (always top row first): the same frames arrive reversed
 *   into top-row-first order and say 0, whole and split over both blocks;
 * - a flag not written with its frame (an earlier server publishing into a
 *   buffer whose header still holds a later server's flags: flags_check is
 *   not the frame's sequence) and flag bits this version does not know are
 *   ignored (bytes changed by hand, from Core/LAYOUT.md);
 * - describe() writes the struct's first version only; unknown flags, a too
 *   small size and NULL are refused.
 */
#include "smi_test.h"

typedef struct frame_t {
    int ensight;      /* EnSight layout */
    int acquire;      /* acquireformat + publish, else putframeformat */
    uint32_t flags;   /* IMAGESTREAM_FRAME_* given */
    uint32_t format, w, h, d;
    uint32_t seed;
} frame_t;

static size_t row_bytes(const frame_t *f)
{
    return (size_t)f->w * SharedMemoryImageStream_formatsize(f->format);
}

static size_t frame_bytes(const frame_t *f)
{
    return row_bytes(f) * f->h * f->d;
}

static SharedMemoryImageDesc desc_of(const frame_t *f)
{
    SharedMemoryImageDesc d = SMI_DESC_INIT;
    d.format = f->format;
    d.width = f->w;
    d.height = f->h;
    d.depth = f->d;
    d.flags = f->flags;
    return d;
}

/* `out` is `in` with the rows of each slice reversed (reverse != 0) or equal. */
static void assert_rows(const frame_t *f, const uint8_t *out, const uint8_t *in, int reverse,
                        const char *what)
{
    size_t row = row_bytes(f);
    for (uint32_t z = 0; z < f->d; z++)
        for (uint32_t y = 0; y < f->h; y++) {
            uint32_t from = reverse ? f->h - 1 - y : y;
            ASSERT_MSG(memcmp(out + (z * f->h + y) * row, in + (z * f->h + from) * row, row) == 0,
                       "%s: row %u of slice %u differs", what, y, z);
        }
}

/* Server side: publish frame f (pixels smi_fill(seed), in the order given). */
static void publish(SharedMemoryImageStream server, const frame_t *f)
{
    SharedMemoryImageDesc d = desc_of(f);
    size_t n = frame_bytes(f);
    if (f->acquire) {
        SharedMemoryFrame fr;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquireformat(server, &d, &fr));
        uint32_t flags = 99;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_frameflags(server, &flags));
        ASSERT(flags == f->flags);
        smi_fill(fr->buffer, n, f->seed);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_publish(server));
        return;
    }
    uint8_t *px = malloc(n);
    ASSERT(px);
    smi_fill(px, n, f->seed);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(server, &d, 0, px));
    free(px);
}

/* Client side: lock frame f and check its order, as stored and as copied. */
static void receive(SharedMemoryImageStream client, const frame_t *f)
{
    size_t n = frame_bytes(f);
    uint8_t *in = malloc(n), *out = malloc(n);
    ASSERT(in && out);
    smi_fill(in, n, f->seed);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(client, 10000));
    SharedMemoryFrame fr;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &fr));
    uint32_t flags = 99;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_frameflags(client, &flags));
    /* Stored as given in the extended layout; upright in EnSight's. */
    int given_bottom_up = (f->flags & IMAGESTREAM_FRAME_BOTTOMUP) != 0;
    int stored_bottom_up = given_bottom_up && !f->ensight;
    ASSERT_MSG(flags == (stored_bottom_up ? IMAGESTREAM_FRAME_BOTTOMUP : 0u),
               "frame %u: flags %u", f->seed, flags);
    assert_rows(f, fr->buffer, in, given_bottom_up != stored_bottom_up, "as stored");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(client, out, n, 0));
    assert_rows(f, out, in, given_bottom_up, "copied top row first");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(client, out, n, 1));
    assert_rows(f, out, in, !given_bottom_up, "copied bottom row first");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    free(in);
    free(out);
}

/* A client of EnSight's API (extended layout): RGB8 frames of depth 1 come
   top row first in frame->buffer, whatever their stored order; others are
   skipped. */
static void receive_plain(SharedMemoryImageStream plain, const frame_t *f)
{
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(plain, 10000));
    SharedMemoryFrame fr;
    int rc = SharedMemoryImageStream_lock(plain, &fr);
    if (f->format != IMAGESTREAM_FORMAT_RGB8 || f->d != 1) {
        ASSERT_RC(IMAGESTREAM_FORMAT_SKIPPED, rc);
        return;
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, rc);
    size_t n = frame_bytes(f);
    uint8_t *in = malloc(n), *out = malloc(n);
    ASSERT(in && out);
    smi_fill(in, n, f->seed);
    uint32_t flags = 99;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_frameflags(plain, &flags));
    ASSERT_MSG(flags == 0, "an EnSight-API client's frame %u says %u", f->seed, flags);
    int given_bottom_up = (f->flags & IMAGESTREAM_FRAME_BOTTOMUP) != 0;
    assert_rows(f, fr->buffer, in, given_bottom_up, "EnSight-API client's buffer");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(plain, out, n, 0));
    assert_rows(f, out, in, given_bottom_up, "EnSight-API client's copy");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(plain));
    free(in);
    free(out);
}

/* A server process publishes each of `frames` when the client asks for it
   (one byte through a pipe), the client process checks each. */
static void run(const char *tag, const frame_t *frames, int count)
{
    const char *path = smi_test_path(tag);
    /* Extended: buffers for the largest frame. EnSight: the 20 MiB file its
       client asks for, so that a frame over 10 MiB is split over both blocks. */
    SharedMemoryImageDesc max = desc_of(&frames[0]);
    max.flags = 0;
    if (!frames[0].ensight) {
        max.format = IMAGESTREAM_FORMAT_GRAY8;
        max.width = 1;
        max.depth = 1;
        for (int i = 0; i < count; i++)
            if (frame_bytes(&frames[i]) > max.height)
                max.height = (uint32_t)frame_bytes(&frames[i]);
    }
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(
                  path, frames[0].ensight ? IMAGESTREAM_LAYOUT_ENSIGHT : IMAGESTREAM_LAYOUT_EXTENDED,
                  &max));
    int go[2], ready[2];
    ASSERT(pipe(go) == 0 && pipe(ready) == 0);
    pid_t pid = smi_test_fork("server");
    if (pid == 0) {
        uint32_t options = IMAGESTREAM_OPTIONS_SERVER |
                           (frames[0].ensight ? 0u : (uint32_t)IMAGESTREAM_OPTIONS_EXTENDED);
        SharedMemoryImageStream server;
        ASSERT(SharedMemoryImageStream_create(path, options, &server) >= 0);
        ASSERT(write(ready[1], "s", 1) == 1);
        for (int i = 0; i < count; i++) {
            char c;
            ASSERT(read(go[0], &c, 1) == 1);
            publish(server, &frames[i]);
        }
        SharedMemoryImageStream_destroy(server);
        exit(0);
    }
    char c;
    ASSERT(read(ready[0], &c, 1) == 1);
    SharedMemoryImageStream client, plain = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &client));
    if (!frames[0].ensight) /* (EnSight's layout has one client) */
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &plain));
    for (int i = 0; i < count; i++) {
        ASSERT(write(go[1], "g", 1) == 1);
        receive(client, &frames[i]);
        if (plain)
            receive_plain(plain, &frames[i]);
    }
    ASSERT_CHILD_OK(pid, 20000);
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(plain);
    close(go[0]);
    close(go[1]);
    close(ready[0]);
    close(ready[1]);
    unlink(path);
}

/* Byte level: flags not written with the frame, and unknown flag bits, are
   ignored; describe() writes the first version of its struct only. */
static void check_hand_made_flags(void)
{
    const char *path = smi_test_path("rows-bytes");
    frame_t f = {0, 0, IMAGESTREAM_FRAME_BOTTOMUP, IMAGESTREAM_FORMAT_RGB8, 8, 4, 1, 5};
    SharedMemoryImageDesc d = desc_of(&f);
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &d));
    SharedMemoryImageStream server = smi_test_ext_server(path, IMAGESTREAM_NOERROR), client;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &client));
    uint64_t size;
    uint8_t *m = smi_test_map_file(path, &size);
    SharedMemoryFrame fr;
    uint32_t flags;
    /* (buffer i's header at 256 + 128 i: sequence at 8, flags at 104, flags_check at 108) */
    struct { uint32_t flags, check_delta, expect; } cases[] = {
        {IMAGESTREAM_FRAME_BOTTOMUP, 0, IMAGESTREAM_FRAME_BOTTOMUP},
        {IMAGESTREAM_FRAME_BOTTOMUP, 1, 0},    /* written by an earlier server's frame */
        {0xfffffffeu, 0, 0},                   /* bits this version does not know */
        {0xffffffffu, 0, IMAGESTREAM_FRAME_BOTTOMUP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t px[8 * 4 * 3] = {0};
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(server, &d, 0, px));
        SharedMemoryStreamInfo info;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
        int b = -1;
        for (uint32_t k = 0; k < info.buffer_count; k++)
            if (info.buffers[k].sequence == info.last_sequence)
                b = (int)k;
        ASSERT(b >= 0);
        uint8_t *h = m + 256 + 128 * b;
        ASSERT(smi_get_u32(h + 104) == IMAGESTREAM_FRAME_BOTTOMUP);
        ASSERT(smi_get_u32(h + 108) == (uint32_t)smi_get_u64(h + 8));
        smi_put_u32(h + 104, cases[i].flags);
        smi_put_u32(h + 108, (uint32_t)smi_get_u64(h + 8) + cases[i].check_delta);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &fr));
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_frameflags(client, &flags));
        ASSERT_MSG(flags == cases[i].expect, "case %zu: flags %u", i, flags);
        if (i == 0) {
            /* describe(): the first version of the struct, not a byte more. */
            unsigned char raw[sizeof(SharedMemoryImageDesc) + 8];
            memset(raw, 0xa5, sizeof raw);
            ASSERT_RC(IMAGESTREAM_NOERROR,
                      SharedMemoryImageStream_describe(client, (SharedMemoryImageDesc *)(void *)raw));
            SharedMemoryImageDesc got;
            memcpy(&got, raw, SMI_DESC_SIZE_V1);
            ASSERT(got.size == SMI_DESC_SIZE_V1 && got.width == 8 && got.height == 4);
            for (size_t k = SMI_DESC_SIZE_V1; k < sizeof raw; k++)
                ASSERT_MSG(raw[k] == 0xa5, "describe wrote byte %zu", k);
        }
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    }
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_frameflags(client, &flags));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_frameflags(NULL, &flags));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_frameflags(client, NULL));
    /* Flags this version does not know, and a size no version has. */
    SharedMemoryImageDesc bad = d;
    bad.flags = 2;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_acquireformat(server, &bad, &fr));
    bad = d;
    bad.size = SMI_DESC_SIZE_V1 - 8;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_acquireformat(server, &bad, &fr));
    /* A caller of the first version: whatever lies past its struct is not read. */
    bad = d;
    bad.size = SMI_DESC_SIZE_V1;
    bad.flags = 0xdeadbeef;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquireformat(server, &bad, &fr));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_frameflags(server, &flags));
    ASSERT(flags == 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_abandon(server));
    munmap(m, size);
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(server);
    unlink(path);
}

int main(void)
{
    smi_test_watchdog(120);
    const uint32_t up = IMAGESTREAM_FRAME_BOTTOMUP;
    const frame_t extended[] = {
        {0, 0, up, IMAGESTREAM_FORMAT_RGB8, 37, 21, 1, 1},
        {0, 1, up, IMAGESTREAM_FORMAT_GRAY16, 31, 17, 2, 2},
        {0, 0, 0, IMAGESTREAM_FORMAT_RGB8, 37, 21, 1, 3},
        {0, 1, up, IMAGESTREAM_FORMAT_RGBA8, 1, 1, 1, 4},
    };
    run("rows-ext", extended, 4);
    const frame_t ensight[] = {
        {1, 0, up, IMAGESTREAM_FORMAT_RGB8, 37, 21, 1, 11},
        {1, 1, up, IMAGESTREAM_FORMAT_RGB8, 37, 21, 1, 12},
        {1, 1, 0, IMAGESTREAM_FORMAT_RGB8, 37, 21, 1, 13},
        {1, 1, up, IMAGESTREAM_FORMAT_RGB8, 2400, 1700, 1, 14}, /* 12 MB: split over both blocks */
        {1, 0, up, IMAGESTREAM_FORMAT_RGB8, 2400, 1700, 1, 15},
    };
    run("rows-es", ensight, 5);
    check_hand_made_flags();
    puts("TestRowOrder: passed");
    return 0;
}
