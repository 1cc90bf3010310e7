/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestExtendedRoundTrip -- the extended layout end to end across processes.
 * The main process is the server; two client processes attach:
 *   - an ANYFORMAT client, which must get every frame with every byte, the
 *     format, size, depth and metadata (SharedMemoryImageStream_describe);
 *   - a plain client (EnSight API), which must get the packed-RGB images and
 *     IMAGESTREAM_FORMAT_SKIPPED (no pointer, no unlock owed) for everything
 *     else: RGBA8, GRAY8, GRAY16, FLOAT32, INT16, INT32, UINT32, FLOAT64
 *     and RGB8 volumes.
 * Phase 1 goes in lock step through putframe, acquire/publish, putframeformat
 * and acquireformat with all formats, depth > 1, explicit and default
 * metadata, and frame numbers from 0 as the server gives them. Pixels are
 * arbitrary bytes, so multi-byte values of every bit pattern (NaNs with
 * payloads, infinities, -0.0, negative integers) go through exactly.
 * Phase 2: a new server with FLIPVERTICAL serves the stream again (NOERROR:
 * the last one ended cleanly); putframe and putframeformat flip rows within each slice,
 * acquire does not; numbers go on from the old server's. Phase 3: the server
 * publishes as fast as it can (tagged frames, half of them bottom-up through
 * putframe, half through acquire); both clients verify every frame they
 * lock, see strictly increasing numbers, and both see the last frame.
 */
#include "smi_test.h"

enum { PUT, ACQ, PUTF, ACQF };

typedef struct {
    int how;
    uint32_t format, w, h, d;
    uint32_t frame_in;  /* number given to the call (0: next) */
    uint32_t frame_out; /* number the clients must see */
    int meta;           /* explicit timestamp, spacing, origin */
} step_t;

#define F_RGB IMAGESTREAM_FORMAT_RGB8
#define F_RGBA IMAGESTREAM_FORMAT_RGBA8
#define F_G8 IMAGESTREAM_FORMAT_GRAY8
#define F_G16 IMAGESTREAM_FORMAT_GRAY16
#define F_F32 IMAGESTREAM_FORMAT_FLOAT32
#define F_I16 IMAGESTREAM_FORMAT_INT16
#define F_I32 IMAGESTREAM_FORMAT_INT32
#define F_U32 IMAGESTREAM_FORMAT_UINT32
#define F_F64 IMAGESTREAM_FORMAT_FLOAT64

static const step_t steps[] = {
    /* phase 1: server without FLIPVERTICAL; a new stream numbers from 0 */
    {PUT, F_RGB, 64, 48, 1, 0, 0, 0},
    {ACQ, F_RGB, 64, 48, 1, 0, 1, 0},
    {PUTF, F_RGBA, 64, 48, 1, 10, 10, 1},
    {PUTF, F_G8, 37, 23, 1, 0, 11, 0},
    {PUTF, F_G16, 64, 48, 1, 20, 20, 1},
    {PUTF, F_F32, 16, 12, 5, 21, 21, 1},
    {ACQF, F_G16, 8, 8, 3, 30, 30, 1},
    {PUT, F_RGB, 64, 48, 1, 31, 31, 0},
    {PUTF, F_RGB, 20, 10, 2, 32, 32, 1},   /* an RGB8 volume: plain clients skip it */
    {PUT, F_RGB, 1, 1, 1, 33, 33, 0},
    {ACQF, F_F32, 64, 48, 1, 0, 34, 0},
    {ACQF, F_RGB, 128, 96, 1, 0, 35, 1},
    /* phase 2: a new server with FLIPVERTICAL takes over: numbers that would
       go back are raised */
    {PUT, F_RGB, 64, 48, 1, 1, 36, 0},
    {PUTF, F_G16, 10, 6, 2, 0, 37, 1},
    {ACQ, F_RGB, 64, 48, 1, 0, 38, 0},
    {PUTF, F_F32, 7, 5, 3, 100, 100, 0},
    {PUTF, F_RGB, 33, 17, 1, 0, 101, 1},
    /* the instrument formats: rows of 2-, 4- and 8-byte values flipped by
       putframeformat, not by acquireformat */
    {PUTF, F_I16, 33, 7, 2, 0, 102, 1},
    {ACQF, F_I32, 16, 12, 1, 0, 103, 0},
    {PUTF, F_U32, 9, 5, 3, 200, 200, 1},
    {ACQF, F_F64, 17, 9, 2, 0, 201, 1},
    {PUTF, F_F64, 40, 30, 1, 0, 202, 0},
};
#define NSTEPS (sizeof steps / sizeof steps[0])
#define FLIP_FROM 12 /* first step of phase 2 */

#define FREE_FRAMES 400u
#define FREE_W 128u
#define FREE_H 96u

typedef struct {
    uint32_t server_up;
    uint32_t step;       /* steps published so far */
    uint32_t ack[2];     /* steps verified by each client */
    uint32_t attached[2];
    uint32_t seen[2];    /* phase 3: frames locked */
    double publish_time[NSTEPS];
} shared_t;

static uint64_t step_bytes(const step_t *s)
{
    return (uint64_t)s->w * s->h * s->d * smi_x_bpp(s->format);
}

static void step_meta(uint32_t k, SharedMemoryImageDesc *d)
{
    d->timestamp = 1000.25 + k;
    d->spacing[0] = 0.5;
    d->spacing[1] = 0.25;
    d->spacing[2] = 2.0 + k;
    d->origin[0] = -1.0;
    d->origin[1] = 2.5;
    d->origin[2] = (double)k;
}

/* The bytes of step k as the server's caller hands them over. */
static void step_input(uint32_t k, uint8_t *buf)
{
    smi_fill(buf, step_bytes(&steps[k]), 0x1000 + k);
}

/* The bytes of step k as they must be in the file: rows reversed within each
   slice when a FLIPVERTICAL server copies them (putframe, putframeformat). */
static void step_expected(uint32_t k, uint8_t *buf)
{
    const step_t *s = &steps[k];
    int flipped = k >= FLIP_FROM && (s->how == PUT || s->how == PUTF);
    uint64_t row = (uint64_t)s->w * smi_x_bpp(s->format), slice = row * s->h;
    for (uint32_t z = 0; z < s->d; z++)
        for (uint32_t y = 0; y < s->h; y++) {
            uint32_t src_y = flipped ? s->h - 1 - y : y;
            for (uint64_t i = 0; i < row; i++)
                buf[z * slice + y * row + i] =
                    smi_pattern_byte(0x1000 + k, z * slice + src_y * row + i);
        }
}

static void server_step(SharedMemoryImageStream server, uint32_t k, uint32_t preset_expected)
{
    const step_t *s = &steps[k];
    uint8_t *in = malloc(step_bytes(s));
    ASSERT(in != NULL);
    step_input(k, in);
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = s->format;
    d.width = s->w;
    d.height = s->h;
    d.depth = s->d;
    if (s->meta)
        step_meta(k, &d);
    SharedMemoryFrame f = NULL;
    switch (s->how) {
    case PUT: {
        struct _SharedMemoryFrame fr = {s->frame_in, s->w, s->h, in};
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &fr));
        break;
    }
    case PUTF:
        ASSERT_RC(IMAGESTREAM_NOERROR,
                  SharedMemoryImageStream_putframeformat(server, &d, s->frame_in, in));
        break;
    case ACQ:
    case ACQF:
        if (s->how == ACQ)
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, s->w, s->h, &f));
        else
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquireformat(server, &d, &f));
        ASSERT_MSG(f->iFrame == preset_expected, "step %u: acquire preset iFrame %u, expected %u",
                   k, f->iFrame, preset_expected);
        ASSERT_EQ(f->iWidth, s->w);
        ASSERT_EQ(f->iHeight, s->h);
        SharedMemoryImageDesc got;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_describe(server, &got));
        ASSERT_EQ(got.format, s->format);
        ASSERT_EQ(got.depth, s->d);
        memcpy(f->buffer, in, step_bytes(s));
        if (s->frame_in)
            f->iFrame = s->frame_in;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_publish(server));
        break;
    }
    free(in);
}

static void client_step(SharedMemoryImageStream c, uint32_t k, int anyformat, double publish_time)
{
    const step_t *s = &steps[k];
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 5000));
    SharedMemoryFrame f = (SharedMemoryFrame)(uintptr_t)0x1;
    int rgb = s->format == F_RGB && s->d == 1;
    if (!anyformat && !rgb) {
        ASSERT_RC(IMAGESTREAM_FORMAT_SKIPPED, SharedMemoryImageStream_lock(c, &f));
        ASSERT_MSG(f == (SharedMemoryFrame)(uintptr_t)0x1, "step %u: a skipped frame set the pointer", k);
        ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(c));
        SharedMemoryImageDesc d;
        ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_describe(c, &d));
        ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(c, &f));
        return;
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_MSG(f->iFrame == s->frame_out, "step %u: frame %u, expected %u", k, f->iFrame,
               s->frame_out);
    ASSERT_EQ(f->iWidth, s->w);
    ASSERT_EQ(f->iHeight, s->h);
    SharedMemoryImageDesc d;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_describe(c, &d));
    ASSERT_EQ(d.format, s->format);
    ASSERT_EQ(d.width, s->w);
    ASSERT_EQ(d.height, s->h);
    ASSERT_EQ(d.depth, s->d);
    if (s->meta) {
        SharedMemoryImageDesc want;
        memset(&want, 0, sizeof want);
        step_meta(k, &want);
        ASSERT_MSG(d.timestamp == want.timestamp, "step %u: timestamp %.17g", k, d.timestamp);
        for (int i = 0; i < 3; i++) {
            ASSERT_MSG(d.spacing[i] == want.spacing[i], "step %u: spacing[%d] %.17g", k, i,
                       d.spacing[i]);
            ASSERT_MSG(d.origin[i] == want.origin[i], "step %u: origin[%d] %.17g", k, i,
                       d.origin[i]);
        }
    } else {
        /* Defaults: spacing 1, origin 0, timestamp = UNIX time of acquire. */
        for (int i = 0; i < 3; i++) {
            ASSERT_MSG(d.spacing[i] == 1.0, "step %u: default spacing[%d] %g", k, i, d.spacing[i]);
            ASSERT_MSG(d.origin[i] == 0.0, "step %u: default origin[%d] %g", k, i, d.origin[i]);
        }
        ASSERT_MSG(d.timestamp > publish_time - 60 && d.timestamp < publish_time + 60,
                   "step %u: default timestamp %.3f, published at UNIX time %.3f", k, d.timestamp,
                   publish_time);
    }
    uint64_t n = step_bytes(s);
    uint8_t *want = malloc(n);
    ASSERT(want != NULL);
    step_expected(k, want);
    for (uint64_t i = 0; i < n; i++)
        if (f->buffer[i] != want[i])
            SMI_FAIL("step %u (format %u, %ux%ux%u): byte %llu is %u, expected %u", k, s->format,
                     s->w, s->h, s->d, (unsigned long long)i, f->buffer[i], want[i]);
    free(want);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(c, &f));
}

static void client_process(const char *path, shared_t *sh, int id)
{
    int anyformat = id == 0;
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(
                  path, anyformat ? IMAGESTREAM_OPTIONS_ANYFORMAT : IMAGESTREAM_OPTIONS_NONE, &c));
    SMI_T_STORE(&sh->attached[id], 1);
    for (uint32_t k = 0; k < NSTEPS; k++) {
        WAIT_UNTIL(SMI_T_LOAD(&sh->step) > k, 10000);
        client_step(c, k, anyformat, sh->publish_time[k]);
        SMI_T_STORE(&sh->ack[id], k + 1);
    }

    /* Phase 3: free running. */
    uint32_t last = 0, seen = 0, last_number = 0;
    double deadline = smi_test_now_ms() + 30000;
    while (last < FREE_FRAMES) {
        ASSERT_MSG(smi_test_now_ms() < deadline, "phase 3: last frame seen %u (tag %u of %u)",
                   last_number, last, FREE_FRAMES);
        int rc = SharedMemoryImageStream_wait(c, 100);
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_NO_FRAMEAVAILABLE, rc);
        SharedMemoryFrame f;
        rc = SharedMemoryImageStream_lock(c, &f);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
            continue;
        ASSERT_RC(IMAGESTREAM_NOERROR, rc);
        ASSERT_MSG(f->iFrame > last_number, "frame %u after %u", f->iFrame, last_number);
        ASSERT_EQ(f->iWidth, FREE_W);
        ASSERT_EQ(f->iHeight, FREE_H);
        uint32_t seed;
        int64_t bad = smi_check_tagged(f->buffer, FREE_W * FREE_H * 3, &seed);
        ASSERT_MSG(bad < 0, "frame %u (seed %u) torn at byte %lld", f->iFrame, seed, (long long)bad);
        ASSERT_MSG(seed > last, "seed %u after %u", seed, last);
        last = seed;
        last_number = f->iFrame;
        seen++;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    }
    ASSERT_EQ(last, FREE_FRAMES);
    SMI_T_STORE(&sh->seen[id], seen);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
}

int main(void)
{
    smi_test_watchdog(90);
    const char *path = smi_test_path("roundtrip");
    SharedMemoryImageDesc max;
    memset(&max, 0, sizeof max);
    max.format = IMAGESTREAM_FORMAT_RGBA8;
    max.width = FREE_W;
    max.height = FREE_H;
    max.depth = 1;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(path, &max));
    for (uint32_t k = 0; k < NSTEPS; k++)
        ASSERT(step_bytes(&steps[k]) <= (uint64_t)FREE_W * FREE_H * 4);

    /* Fork the clients before the server opens the file: a child would
       otherwise share the server's open file description, and with it the
       server's byte lock, and the second server would be refused. */
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = smi_test_fork(i == 0 ? "anyformat client" : "plain client");
        if (pids[i] == 0) {
            WAIT_UNTIL(SMI_T_LOAD(&sh->server_up), 10000);
            client_process(path, sh, i);
            exit(0);
        }
    }
    SharedMemoryImageStream server = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    SMI_T_STORE(&sh->server_up, 1);
    WAIT_UNTIL(SMI_T_LOAD(&sh->attached[0]) && SMI_T_LOAD(&sh->attached[1]), 10000);

    uint32_t last_out = 0;
    for (uint32_t k = 0; k < NSTEPS; k++) {
        if (k == FLIP_FROM) {
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
            ASSERT_RC(IMAGESTREAM_NOERROR, /* served again: the last ended cleanly */
                      SharedMemoryImageStream_create(path,
                                                     IMAGESTREAM_OPTIONS_SERVER |
                                                         IMAGESTREAM_OPTIONS_EXTENDED |
                                                         IMAGESTREAM_OPTIONS_FLIPVERTICAL,
                                                     &server));
        }
        sh->publish_time[k] = smi_tool_unix_time();
        server_step(server, k, last_out + 1);
        last_out = steps[k].frame_out;
        SMI_T_STORE(&sh->step, k + 1);
        WAIT_UNTIL(SMI_T_LOAD(&sh->ack[0]) > k && SMI_T_LOAD(&sh->ack[1]) > k, 10000);
    }

    /* Phase 3. With two clients and two buffers a frame may be dropped
       (NO_BUFFERAVAILABLE); the last one is retried until it goes out. */
    uint8_t *px = malloc(FREE_W * FREE_H * 3);
    ASSERT(px != NULL);
    uint32_t dropped = 0;
    double deadline = smi_test_now_ms() + 20000;
    for (uint32_t k = 1; k <= FREE_FRAMES; k++) {
        int rc;
        do {
            ASSERT(smi_test_now_ms() < deadline);
            if (k % 2) {
                smi_fill_tagged(px, FREE_W * FREE_H * 3, k);
                /* Bottom-up input: the server flips it back. */
                uint8_t *flipped = malloc(FREE_W * FREE_H * 3);
                ASSERT(flipped != NULL);
                for (uint32_t y = 0; y < FREE_H; y++)
                    memcpy(flipped + y * FREE_W * 3, px + (FREE_H - 1 - y) * FREE_W * 3, FREE_W * 3);
                struct _SharedMemoryFrame fr = {0, FREE_W, FREE_H, flipped};
                rc = SharedMemoryImageStream_putframe(server, &fr);
                free(flipped);
            } else {
                SharedMemoryFrame f;
                rc = SharedMemoryImageStream_acquire(server, FREE_W, FREE_H, &f);
                if (rc == IMAGESTREAM_NOERROR) {
                    smi_fill_tagged(f->buffer, FREE_W * FREE_H * 3, k);
                    rc = SharedMemoryImageStream_publish(server);
                }
            }
            ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_NO_BUFFERAVAILABLE, rc);
            if (rc != IMAGESTREAM_NOERROR)
                dropped++;
        } while (rc != IMAGESTREAM_NOERROR && k == FREE_FRAMES);
    }
    free(px);
    for (int i = 0; i < 2; i++)
        ASSERT_CHILD_OK(pids[i], 30000);
    printf("phase 3: %u frames, %u dropped by the server, clients locked %u and %u\n",
           FREE_FRAMES, dropped, sh->seen[0], sh->seen[1]);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    return 0;
}
