/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestBadFiles -- garbage in, exact negative code out, never a crash and
 * never an out-of-bounds read. Each case runs in its own process so that a
 * crash names the case. For every file: SharedMemoryImageStream_create (as a
 * client) and SharedMemoryImageStream_inspect, and a create that fails must
 * leave the file as it was.
 *
 * Cases (expected codes from Core/LAYOUT.md and the public headers):
 * - missing, empty, shorter than 54 bytes: BAD_FILE_SIZE;
 * - a directory: UNABLE_TO_OPEN_FILE;
 * - zero-filled (54 bytes, 64 KiB): an EnSight stream with no frame;
 * - EnSight buffer_state > 4 (Data/ensight-bad-state.smi, random bytes):
 *   BAD_FILE_FORMAT;
 * - EnSight blocks at state 2 that do not fit (width or height 0, offset +
 *   num_scanlines > height, width * num_scanlines * 3 > P, with 32- and
 *   64-bit wrap-arounds): lock gives BAD_FILE_FORMAT;
 * - extended magic, wrong version (Data/extended-version2.smi, 0, 0xffffffff):
 *   VERSION_MISMATCH; header fields inconsistent (header_size, buffer_count,
 *   slot_count, buffer_size, file_size, sizes that wrap): BAD_FILE_FORMAT;
 * - extended buffer headers at state 2 that do not validate (format, zero
 *   sizes, data_offset, data_size, products that wrap): lock gives
 *   BAD_FILE_FORMAT and leaves no buffer held;
 * - an extended header that goes bad under a live client (an EnSight server
 *   takes the file, magic, buffer_count, version or buffer_size changed):
 *   lock and wait give no frame (a negative code or NO_FRAMEAVAILABLE), and
 *   destroy still works.
 */
#include "smi_test.h"

static const char *g_path;
static int g_failed;

/* ---- helpers --------------------------------------------------------------- */

static void run_case(const char *name, void (*fn)(const void *), const void *arg)
{
    unlink(g_path);
    pid_t pid = smi_test_fork(name);
    if (pid == 0) {
        fn(arg);
        exit(0);
    }
    int st = smi_test_join(pid, 20000);
    if (st != 0) {
        /* Go on with the other cases; fail at the end. */
        fprintf(stderr, "FAILED case \"%s\" (%s %d)\n", name,
                st == -1 ? "timed out" : st > 128 ? "signal" : "exit status",
                st > 128 ? st - 128 : st);
        g_failed++;
    }
}

/* Client create must fail with `expected`, leave *stream NULL and the file
   as it was. */
static void expect_create_fails(const char *path, int expected)
{
    size_t n0 = 0, n1 = 0;
    uint8_t *before = smi_test_file_size(path) >= 0 ? smi_test_read_file(path, &n0) : NULL;
    SharedMemoryImageStream s = (SharedMemoryImageStream)(uintptr_t)1;
    ASSERT_RC(expected, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &s));
    ASSERT(s == NULL);
    s = (SharedMemoryImageStream)(uintptr_t)1;
    ASSERT_RC(expected, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &s));
    ASSERT(s == NULL);
    if (before) {
        uint8_t *after = smi_test_read_file(path, &n1);
        ASSERT_EQ(n1, n0);
        ASSERT_MSG(memcmp(before, after, n0) == 0, "a failed create changed the file");
        free(after);
        free(before);
    }
}

static void expect_inspect(const char *path, int expected)
{
    SharedMemoryStreamInfo info;
    ASSERT_RC(expected, SharedMemoryImageStream_inspect(path, &info));
}

static void expect_inspect2(const char *path, int e1, int e2)
{
    SharedMemoryStreamInfo info;
    ASSERT_RC2(e1, e2, SharedMemoryImageStream_inspect(path, &info));
}

static void write_zeros(const char *path, size_t n)
{
    uint8_t *z = calloc(n ? n : 1, 1);
    ASSERT(z != NULL);
    smi_test_write_file(path, z, n);
    free(z);
}

static uint32_t g_rng = 12345;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

/* ---- missing, empty, truncated, directory --------------------------------- */

static void case_missing(const void *arg)
{
    (void)arg;
    expect_create_fails(g_path, IMAGESTREAM_BAD_FILE_SIZE);
    expect_inspect(g_path, IMAGESTREAM_BAD_FILE_SIZE);
    SharedMemoryImageStream s;
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE,
              SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_SERVER, &s));
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE,
              SharedMemoryImageStream_create(
                  g_path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s));
    ASSERT_MSG(smi_test_file_size(g_path) == -1, "create made the missing file");
}

static void case_short(const void *arg)
{
    size_t n = *(const size_t *)arg;
    write_zeros(g_path, n);
    expect_create_fails(g_path, IMAGESTREAM_BAD_FILE_SIZE);
    expect_inspect(g_path, IMAGESTREAM_BAD_FILE_SIZE);
    SharedMemoryImageStream s;
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE,
              SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_SERVER, &s));
    ASSERT_EQ(smi_test_file_size(g_path), (long long)n);
}

static void case_truncated_data(const void *arg)
{
    (void)arg;
    size_t n;
    uint8_t *b = smi_test_read_file(SMI_TEST_DATA_DIR "/ensight-two-frames.smi", &n);
    smi_test_write_file(g_path, b, 53);
    free(b);
    expect_create_fails(g_path, IMAGESTREAM_BAD_FILE_SIZE);
    expect_inspect(g_path, IMAGESTREAM_BAD_FILE_SIZE);
}

static void case_directory(const void *arg)
{
    (void)arg;
    char dir[300];
    snprintf(dir, sizeof dir, "%s.d", g_path);
    ASSERT(mkdir(dir, 0700) == 0);
    SharedMemoryImageStream s = (SharedMemoryImageStream)(uintptr_t)1;
    int rc = SharedMemoryImageStream_create(dir, IMAGESTREAM_OPTIONS_NONE, &s);
    int rc2 = SharedMemoryImageStream_create(dir, IMAGESTREAM_OPTIONS_SERVER, &s);
    SharedMemoryStreamInfo info;
    int rc3 = SharedMemoryImageStream_inspect(dir, &info);
    rmdir(dir);
    ASSERT_RC(IMAGESTREAM_UNABLE_TO_OPEN_FILE, rc);
    ASSERT_RC(IMAGESTREAM_UNABLE_TO_OPEN_FILE, rc2);
    ASSERT(s == NULL);
    ASSERT_RC2(IMAGESTREAM_UNABLE_TO_OPEN_FILE, IMAGESTREAM_BAD_FILE_SIZE, rc3);
}

/* ---- zero-filled: an EnSight stream with no frame -------------------------- */

static void case_zero_filled(const void *arg)
{
    size_t n = *(const size_t *)arg;
    write_zeros(g_path, n);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(g_path, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_ENSIGHT);
    ASSERT_EQ(info.file_size, n);
    ASSERT_EQ(info.buffer_count, 2);
    ASSERT_EQ(info.server_alive, 0);

    SharedMemoryImageStream s = NULL;
    int rc = SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_NONE, &s);
    ASSERT_RC2(IMAGESTREAM_RECONNECTING, IMAGESTREAM_NOERROR, rc);
    ASSERT(s != NULL);
    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(s, &f));
    ASSERT(f == NULL);
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_wait(s, 30));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(s));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
    ASSERT_EQ(smi_test_file_size(g_path), (long long)n);
}

/* ---- EnSight: bad states ---------------------------------------------------- */

static void case_es_bad_state_data(const void *arg)
{
    (void)arg;
    smi_test_copy_file(SMI_TEST_DATA_DIR "/ensight-bad-state.smi", g_path);
    expect_create_fails(g_path, IMAGESTREAM_BAD_FILE_FORMAT);
    expect_inspect(g_path, IMAGESTREAM_BAD_FILE_FORMAT);
}

static void case_es_bad_state(const void *arg)
{
    const uint8_t *st = arg; /* {state0, state1} */
    smi_test_copy_file(SMI_TEST_DATA_DIR "/ensight-initialized.smi", g_path);
    uint64_t L;
    uint8_t *m = smi_test_map_file(g_path, &L);
    smi_es_set_state(m, L, 0, st[0]);
    smi_es_set_state(m, L, 1, st[1]);
    munmap(m, L);
    expect_create_fails(g_path, IMAGESTREAM_BAD_FILE_FORMAT);
    expect_inspect(g_path, IMAGESTREAM_BAD_FILE_FORMAT);
}

/* ---- EnSight: blocks at 2 that do not fit, presented after attach ---------- */

typedef struct {
    const char *what;
    uint32_t width, height, offset, scanlines;
} es_geom_t;

static void case_es_bad_block(const void *arg)
{
    const es_geom_t *g = arg;
    smi_test_copy_file(SMI_TEST_DATA_DIR "/ensight-initialized.smi", g_path);
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_NONE, &s));
    uint64_t L;
    uint8_t *m = smi_test_map_file(g_path, &L);
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    /* Act as EnSight's server: take block 1, write the header, publish. */
    smi_es_set_state(m, L, 1, 1);
    smi_es_put_header(m, L, 1, 77, g->width, g->height, g->offset, g->scanlines);
    memset(smi_es_pixels(m, L, 1), 0xAB, smi_es_payload(L));
    smi_es_set_state(m, L, 1, 2);
    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_BAD_FILE_FORMAT, SharedMemoryImageStream_lock(s, &f));
    ASSERT(f == NULL);
    /* Nothing is locked, so nothing is owed. */
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(s));
    SharedMemoryStreamInfo info;
    int rc = SharedMemoryImageStream_inspect(g_path, &info); /* must not crash */
    ASSERT(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_BAD_FILE_FORMAT);
    munmap(m, L);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

static void case_es_too_large_data(const void *arg)
{
    (void)arg;
    /* Block 1 of Data/ensight-too-large.smi, presented by hand after attach. */
    size_t n;
    uint8_t *src = smi_test_read_file(SMI_TEST_DATA_DIR "/ensight-too-large.smi", &n);
    smi_test_copy_file(SMI_TEST_DATA_DIR "/ensight-initialized.smi", g_path);
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_NONE, &s));
    uint64_t L;
    uint8_t *m = smi_test_map_file(g_path, &L);
    ASSERT_EQ(L, n);
    smi_es_set_state(m, L, 1, 1);
    memcpy(smi_es_block(m, L, 1), smi_es_block(src, n, 1), 20);
    memcpy(smi_es_pixels(m, L, 1), smi_es_pixels(src, n, 1), smi_es_payload(L));
    smi_es_set_state(m, L, 1, 2);
    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_BAD_FILE_FORMAT, SharedMemoryImageStream_lock(s, &f));
    munmap(m, L);
    free(src);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

static void case_es_state_goes_bad(const void *arg)
{
    (void)arg;
    smi_test_copy_file(SMI_TEST_DATA_DIR "/ensight-initialized.smi", g_path);
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_NONE, &s));
    uint64_t L;
    uint8_t *m = smi_test_map_file(g_path, &L);
    smi_es_set_state(m, L, 0, 9);
    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_BAD_FILE_FORMAT, SharedMemoryImageStream_lock(s, &f));
    ASSERT(SharedMemoryImageStream_wait(s, 10) < 0);
    munmap(m, L);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

/* ---- random bytes ------------------------------------------------------------ */

typedef struct {
    uint32_t seed;
    size_t size;
    int valid_states; /* force both states into 0..4 */
    int magic;        /* 0: none, 1: magic + random version != 1, 2: magic + version 1 */
} random_case_t;

static void case_random(const void *arg)
{
    const random_case_t *c = arg;
    g_rng = c->seed;
    uint8_t *b = malloc(c->size);
    ASSERT(b != NULL);
    for (size_t i = 0; i < c->size; i++)
        b[i] = (uint8_t)rnd();
    int expected; /* create's answer; inspect's too when negative */
    if (c->magic) {
        memcpy(b, SMI_X_MAGIC, 8);
        uint32_t version = c->magic == 2 ? 1 : rnd() | 2;
        smi_put_u32(b + 8, version);
        if (c->magic == 2 && smi_get_u32(b + 12) == 4096)
            smi_put_u32(b + 12, 4097);
        expected = c->magic == 2 ? IMAGESTREAM_BAD_FILE_FORMAT : IMAGESTREAM_VERSION_MISMATCH;
    } else {
        if (b[0] == 0x89)
            b[0] = 0x88;
        uint64_t L = c->size;
        uint8_t *s0 = smi_es_block(b, L, 0) + 20, *s1 = smi_es_block(b, L, 1) + 20;
        if (c->valid_states) {
            *s0 = (uint8_t)(rnd() % 5);
            *s1 = (uint8_t)(rnd() % 5);
        }
        if (*s0 > 4 || *s1 > 4)
            expected = IMAGESTREAM_BAD_FILE_FORMAT;
        else if (*s0 == 4 && *s1 == 4)
            expected = IMAGESTREAM_NOERROR;
        else
            expected = IMAGESTREAM_RECONNECTING;
    }
    smi_test_write_file(g_path, b, c->size);
    free(b);
    if (expected < 0) {
        expect_create_fails(g_path, expected);
        expect_inspect(g_path, expected);
        return;
    }
    /* Valid states, garbage headers: inspect may report the garbage, but not crash. */
    expect_inspect2(g_path, IMAGESTREAM_NOERROR, IMAGESTREAM_BAD_FILE_FORMAT);
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(expected, SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_NONE, &s));
    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(s, &f));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

/* ---- extended: version and file header ------------------------------------- */

static void case_x_version_data(const void *arg)
{
    (void)arg;
    smi_test_copy_file(SMI_TEST_DATA_DIR "/extended-version2.smi", g_path);
    expect_create_fails(g_path, IMAGESTREAM_VERSION_MISMATCH);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_VERSION_MISMATCH, SharedMemoryImageStream_inspect(g_path, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_EXTENDED);
    ASSERT_EQ(info.version, 2);
}

#define X_BUFSIZE 4096u
#define X_FILE (SMI_X_HEADER + 2 * X_BUFSIZE)

/* A valid extended file (2 buffers of 4096, 32 slots, no frame) in memory. */
static uint8_t *x_valid(void)
{
    uint8_t *b = calloc(X_FILE, 1);
    ASSERT(b != NULL);
    smi_x_init(b, 2, X_BUFSIZE, 32);
    return b;
}

static void case_x_version(const void *arg)
{
    uint32_t version = *(const uint32_t *)arg;
    uint8_t *b = x_valid();
    smi_put_u32(b + 8, version);
    smi_test_write_file(g_path, b, X_FILE);
    free(b);
    expect_create_fails(g_path, IMAGESTREAM_VERSION_MISMATCH);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_VERSION_MISMATCH, SharedMemoryImageStream_inspect(g_path, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_EXTENDED);
    ASSERT_EQ(info.version, version);
}

typedef struct {
    uint32_t off;   /* offset in the file header */
    int width;      /* 4 or 8 bytes; 0: unused */
    uint64_t value;
} x_field_t;

typedef struct {
    const char *what;
    uint64_t real_size; /* size of the file on disk (0: X_FILE) */
    x_field_t set[3];   /* fields changed from the valid header */
} x_header_case_t;

static void case_x_header(const void *arg)
{
    const x_header_case_t *c = arg;
    uint64_t real = c->real_size ? c->real_size : X_FILE;
    uint8_t *b = calloc(real > X_FILE ? real : X_FILE, 1);
    ASSERT(b != NULL);
    smi_x_init(b, 2, X_BUFSIZE, 32);
    for (int i = 0; i < 3; i++) {
        if (c->set[i].width == 4)
            smi_put_u32(b + c->set[i].off, (uint32_t)c->set[i].value);
        else if (c->set[i].width == 8)
            smi_put_u64(b + c->set[i].off, c->set[i].value);
    }
    /* Buffer offsets as a naive writer computes them (wrapping), so that only
       the check under test can reject the file. */
    uint32_t count = smi_get_u32(b + 16);
    for (uint32_t i = 0; i < count && i < 8; i++)
        smi_put_u64(b + SMI_X_BUF(i) + 32, SMI_X_HEADER + (uint64_t)i * smi_get_u64(b + 40));
    smi_test_write_file(g_path, b, real);
    free(b);
    expect_create_fails(g_path, IMAGESTREAM_BAD_FILE_FORMAT);
    expect_inspect(g_path, IMAGESTREAM_BAD_FILE_FORMAT);
}

static void case_x_short(const void *arg)
{
    size_t n = *(const size_t *)arg;
    uint8_t *b = x_valid();
    smi_test_write_file(g_path, b, n);
    free(b);
    SharedMemoryImageStream s = (SharedMemoryImageStream)(uintptr_t)1;
    /* Too small for the header page: either code is a fair answer. */
    ASSERT_RC2(IMAGESTREAM_BAD_FILE_SIZE, IMAGESTREAM_BAD_FILE_FORMAT,
               SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_NONE, &s));
    ASSERT(s == NULL);
    expect_inspect2(g_path, IMAGESTREAM_BAD_FILE_SIZE, IMAGESTREAM_BAD_FILE_FORMAT);
}

static void case_x_valid_control(const void *arg)
{
    (void)arg;
    uint8_t *b = x_valid();
    smi_test_write_file(g_path, b, X_FILE);
    free(b);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(g_path, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_EXTENDED);
    ASSERT_EQ(info.version, 1);
    ASSERT_EQ(info.buffer_count, 2);
    ASSERT_EQ(info.buffer_size, X_BUFSIZE);
    ASSERT_EQ(info.max_clients, 32);
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_NONE, &s));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(s, &f));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

/* ---- extended: buffer headers, presented after attach ---------------------- */

typedef struct {
    const char *what;
    uint32_t format, w, h, d;
    uint32_t field;   /* buffer-header field to overwrite (0: none): 4 format (u32),
                         32 data_offset (u64), 40 data_size (u64) */
    uint64_t value;
    int valid;        /* the control case */
} x_buffer_case_t;

static void case_x_buffer(const void *arg)
{
    const x_buffer_case_t *c = arg;
    uint8_t *b = x_valid();
    smi_test_write_file(g_path, b, X_FILE);
    free(b);
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_ANYFORMAT, &s));
    uint64_t L;
    uint8_t *m = smi_test_map_file(g_path, &L);
    /* Act as a server: pixels of buffer 1, header, state 2 last. */
    uint8_t *pix = m + SMI_X_HEADER + X_BUFSIZE;
    smi_fill(pix, X_BUFSIZE, 5);
    smi_x_put_buffer(m, 1, 0, c->format, 5, 55, c->w, c->h, c->d, X_BUFSIZE);
    if (c->field == 32 || c->field == 40)
        smi_put_u64(m + SMI_X_BUF(1) + c->field, c->value);
    else if (c->field == 4)
        smi_put_u32(m + SMI_X_BUF(1) + c->field, (uint32_t)c->value);
    smi_put_f64(m + SMI_X_BUF(1) + 48, 1234.5);
    smi_put_u64(m + 48, 5);  /* last_sequence */
    smi_put_u32(m + 56, 55); /* last_frame */
    __atomic_store_n((uint32_t *)(void *)(m + SMI_X_BUF(1)), 2u, __ATOMIC_SEQ_CST);

    SharedMemoryFrame f = NULL;
    if (c->valid) {
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(s, &f));
        ASSERT_EQ(f->iFrame, 55);
        ASSERT_EQ(f->iWidth, c->w);
        ASSERT_EQ(f->iHeight, c->h);
        ASSERT_EQ(smi_check(f->buffer, (uint64_t)c->w * c->h * c->d * smi_x_bpp(c->format), 5), -1);
        SharedMemoryImageDesc d;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_describe(s, &d));
        ASSERT_EQ(d.format, c->format);
        ASSERT_EQ(d.depth, c->d);
        ASSERT(d.timestamp == 1234.5);
        /* The slot holds buffer 1 (hold = index + 1) while locked. */
        int held = 0;
        for (uint32_t j = 0; j < 32; j++)
            if (smi_x_u32(m, SMI_X_SLOT(j)) != 0 && smi_x_u32(m, SMI_X_SLOT(j) + 4) == 2)
                held++;
        ASSERT_EQ(held, 1);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(s));
    } else {
        ASSERT_RC(IMAGESTREAM_BAD_FILE_FORMAT, SharedMemoryImageStream_lock(s, &f));
        ASSERT(f == NULL);
        ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(s));
    }
    /* No slot is left holding a buffer. */
    for (uint32_t j = 0; j < 32; j++)
        ASSERT_MSG(smi_x_u32(m, SMI_X_SLOT(j) + 4) == 0, "slot %u still holds buffer %u", j,
                   smi_x_u32(m, SMI_X_SLOT(j) + 4));
    SharedMemoryStreamInfo info;
    int rc = SharedMemoryImageStream_inspect(g_path, &info); /* must not crash */
    ASSERT(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_BAD_FILE_FORMAT);
    munmap(m, L);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

/* ---- extended: the header goes bad under a live client ---------------------- */

typedef struct {
    const char *what;
    int how; /* 0: an EnSight server takes the file, 1: magic zeroed,
                2: buffer_count 9, 3: version 2, 4: buffer_size doubled */
} x_goes_bad_t;

static void case_x_goes_bad(const void *arg)
{
    const x_goes_bad_t *c = arg;
    uint8_t *b = x_valid();
    smi_test_write_file(g_path, b, X_FILE);
    free(b);
    SharedMemoryImageStream cl = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_NONE, &cl));
    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(cl, &f));
    SharedMemoryImageStream es = NULL;
    uint64_t L;
    uint8_t *m = smi_test_map_file(g_path, &L);
    switch (c->how) {
    case 0:
        ASSERT(SharedMemoryImageStream_create(g_path, IMAGESTREAM_OPTIONS_SERVER, &es) >= 0);
        break;
    case 1: memset(m, 0, 8); break;
    case 2: smi_put_u32(m + 16, 9); break;
    case 3: smi_put_u32(m + 8, 2); break;
    case 4: smi_put_u64(m + 40, 2 * X_BUFSIZE); break;
    }
    /* No frame from a corrupted stream: an error, or simply no frame (a
       client may keep the geometry it validated at attach). Never a crash. */
    int rc = SharedMemoryImageStream_lock(cl, &f);
    ASSERT_MSG(rc < 0 || rc == IMAGESTREAM_NO_FRAMEAVAILABLE, "lock on a corrupted stream: %d (%s)",
               rc, SharedMemoryImageStream_errorstring(rc));
    rc = SharedMemoryImageStream_wait(cl, 10);
    ASSERT_MSG(rc < 0 || rc == IMAGESTREAM_NO_FRAMEAVAILABLE, "wait on a corrupted stream: %d (%s)",
               rc, SharedMemoryImageStream_errorstring(rc));
    SharedMemoryStreamInfo info;
    (void)SharedMemoryImageStream_info(cl, &info);
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(cl));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(cl));
    if (es)
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(es));
    munmap(m, L);
}

int main(void)
{
    smi_test_watchdog(90);
    g_path = smi_test_path("badfiles");

    run_case("missing file", case_missing, NULL);
    static const size_t shorts[] = {0, 1, 24, 47, 53};
    for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++)
        run_case("short file", case_short, &shorts[i]);
    run_case("truncated EnSight file", case_truncated_data, NULL);
    run_case("directory", case_directory, NULL);
    static const size_t zeros[] = {54, 816, 65536};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++)
        run_case("zero-filled file", case_zero_filled, &zeros[i]);

    run_case("Data/ensight-bad-state.smi", case_es_bad_state_data, NULL);
    static const uint8_t states[][2] = {{5, 4}, {4, 5}, {0, 255}, {200, 0}, {2, 6}};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        run_case("EnSight state > 4", case_es_bad_state, states[i]);

    static const es_geom_t geoms[] = {
        {"EnSight block: width 0", 0, 8, 0, 8},
        {"EnSight block: height 0", 16, 0, 0, 0},
        {"EnSight block: offset + num_scanlines > height", 16, 8, 4, 5},
        {"EnSight block: num_scanlines > height", 16, 8, 0, 9},
        {"EnSight block: 16x9 = 432 bytes > P = 384", 16, 9, 0, 9},
        {"EnSight block: 129x1 = 387 bytes > P", 129, 1, 0, 1},
        {"EnSight block: offset + num_scanlines wraps in 32 bits", 16, 1, 0xffffffffu, 2},
        {"EnSight block: width * 3 wraps to 2 in 32 bits", 0x55555556u, 1, 0, 1},
        {"EnSight block: width * rows * 3 wraps to 26 in 64 bits", 2007567422u, 3062868337u, 0,
         3062868337u},
    };
    for (size_t i = 0; i < sizeof geoms / sizeof geoms[0]; i++)
        run_case(geoms[i].what, case_es_bad_block, &geoms[i]);
    run_case("Data/ensight-too-large.smi", case_es_too_large_data, NULL);
    run_case("EnSight state goes bad after attach", case_es_state_goes_bad, NULL);

    static const random_case_t randoms[] = {
        {1, 54, 0, 0},      {2, 816, 0, 0},      {3, 4095, 0, 0},   {4, 4096, 0, 0},
        {5, 12345, 0, 0},   {6, 65536, 0, 0},    {7, 54, 1, 0},     {8, 816, 1, 0},
        {9, 4096, 1, 0},    {10, 70001, 1, 0},   {11, 4096, 0, 1},  {12, 12288, 0, 1},
        {13, 70000, 0, 1},  {14, 4096, 0, 2},    {15, 12288, 0, 2}, {16, 65536, 0, 2},
    };
    for (size_t i = 0; i < sizeof randoms / sizeof randoms[0]; i++)
        run_case("random bytes", case_random, &randoms[i]);

    run_case("Data/extended-version2.smi", case_x_version_data, NULL);
    static const uint32_t versions[] = {0, 2, 0xffffffffu};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        run_case("extended version", case_x_version, &versions[i]);

    run_case("extended control (valid)", case_x_valid_control, NULL);
    /* File header offsets: 12 header_size, 16 buffer_count, 24 slot_count,
       32 file_size, 40 buffer_size. */
    static const x_header_case_t headers[] = {
        {"header_size 0", 0, {{12, 4, 0}}},
        {"header_size 4095", 0, {{12, 4, 4095}}},
        {"header_size 8192", 0, {{12, 4, 8192}}},
        {"buffer_count 0", 0, {{16, 4, 0}}},
        {"buffer_count 9", 0, {{16, 4, 9}}},
        {"buffer_count 0xffffffff", 0, {{16, 4, 0xffffffffu}}},
        {"slot_count 0", 0, {{24, 4, 0}}},
        {"slot_count 33", 0, {{24, 4, 33}}},
        {"buffer_size 0", 0, {{40, 8, 0}}},
        {"buffer_size 100", 0, {{40, 8, 100}}},
        {"buffer_size 4097", 0, {{40, 8, 4097}}},
        {"buffer_size 8192, file_size disagrees", 0, {{40, 8, 8192}}},
        {"buffer_size 8192, file_size agrees, file too short", 0,
         {{40, 8, 8192}, {32, 8, SMI_X_HEADER + 2 * 8192}}},
        {"file_size larger than the layout", 0, {{32, 8, X_FILE + 4096}}},
        {"file_size smaller than the layout", 0, {{32, 8, X_FILE - 4096}}},
        {"file_size 0", 0, {{32, 8, 0}}},
        {"file truncated under a valid header", X_FILE - 4096, {{0, 0, 0}}},
        {"3 buffers, file holds 2", 0, {{16, 4, 3}, {32, 8, SMI_X_HEADER + 3 * X_BUFSIZE}}},
        {"2 x 2^63 wraps to 0", 0, {{40, 8, 1ull << 63}, {32, 8, SMI_X_HEADER}}},
        {"4 x 2^62 wraps to 0", 0, {{16, 4, 4}, {40, 8, 1ull << 62}, {32, 8, SMI_X_HEADER}}},
        {"8 x (2^61 + 4096) wraps to 32768", SMI_X_HEADER + 8 * 4096,
         {{16, 4, 8}, {40, 8, (1ull << 61) + 4096}, {32, 8, SMI_X_HEADER + 8 * 4096}}},
        {"2^64 - 4096 + 4096 wraps to 0", 0,
         {{16, 4, 1}, {40, 8, 0ull - 4096}, {32, 8, 0}}},
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        run_case(headers[i].what, case_x_header, &headers[i]);
    static const size_t xshort[] = {64, 256, 1000, 4095};
    for (size_t i = 0; i < sizeof xshort / sizeof xshort[0]; i++)
        run_case("extended magic, file shorter than the header page", case_x_short, &xshort[i]);

    static const x_buffer_case_t buffers[] = {
        {"valid RGB8 16x8", IMAGESTREAM_FORMAT_RGB8, 16, 8, 1, 0, 0, 1},
        {"valid GRAY16 8x4x3", IMAGESTREAM_FORMAT_GRAY16, 8, 4, 3, 0, 0, 1},
        {"valid INT16 16x8", IMAGESTREAM_FORMAT_INT16, 16, 8, 1, 0, 0, 1},
        {"valid INT32 16x8", IMAGESTREAM_FORMAT_INT32, 16, 8, 1, 0, 0, 1},
        {"valid UINT32 8x4x3", IMAGESTREAM_FORMAT_UINT32, 8, 4, 3, 0, 0, 1},
        {"valid FLOAT64 8x4x3", IMAGESTREAM_FORMAT_FLOAT64, 8, 4, 3, 0, 0, 1},
        {"FLOAT64 data_size of FLOAT32", IMAGESTREAM_FORMAT_FLOAT64, 16, 8, 1, 40, 16 * 8 * 4, 0},
        {"format 9", IMAGESTREAM_FORMAT_RGB8, 16, 8, 1, 4, 9, 0},
        {"format 0xffffffff", IMAGESTREAM_FORMAT_RGB8, 16, 8, 1, 4, 0xffffffffu, 0},
        {"width 0", IMAGESTREAM_FORMAT_RGB8, 0, 8, 1, 0, 0, 0},
        {"height 0", IMAGESTREAM_FORMAT_RGB8, 16, 0, 1, 0, 0, 0},
        {"depth 0", IMAGESTREAM_FORMAT_RGB8, 16, 8, 0, 0, 0, 0},
        {"data_offset of buffer 0", IMAGESTREAM_FORMAT_RGB8, 16, 8, 1, 32, SMI_X_HEADER, 0},
        {"data_offset 0", IMAGESTREAM_FORMAT_RGB8, 16, 8, 1, 32, 0, 0},
        {"data_offset past the file", IMAGESTREAM_FORMAT_RGB8, 16, 8, 1, 32, 1ull << 40, 0},
        {"data_size one more", IMAGESTREAM_FORMAT_RGB8, 16, 8, 1, 40, 16 * 8 * 3 + 1, 0},
        {"data_size one less", IMAGESTREAM_FORMAT_RGB8, 16, 8, 1, 40, 16 * 8 * 3 - 1, 0},
        {"frame larger than buffer_size", IMAGESTREAM_FORMAT_RGB8, 64, 64, 1, 0, 0, 0},
        {"volume larger than buffer_size", IMAGESTREAM_FORMAT_FLOAT32, 16, 16, 5, 0, 0, 0},
        {"GRAY8 2^22 x 2^21 x 2^21 wraps to 0", IMAGESTREAM_FORMAT_GRAY8, 1u << 22, 1u << 21,
         1u << 21, 0, 0, 0},
        {"RGB8 w * h * 3 wraps to 26", IMAGESTREAM_FORMAT_RGB8, 2007567422u, 3062868337u, 1, 0,
         0, 0},
        {"RGBA8 2^31 cubed wraps to 0", IMAGESTREAM_FORMAT_RGBA8, 1u << 31, 1u << 31, 1u << 31,
         0, 0, 0},
    };
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        run_case(buffers[i].what, case_x_buffer, &buffers[i]);
    static const x_goes_bad_t goes_bad[] = {
        {"extended header overwritten by an EnSight server under a live client", 0},
        {"extended magic zeroed under a live client", 1},
        {"extended buffer_count 9 under a live client", 2},
        {"extended version 2 under a live client", 3},
        {"extended buffer_size changed under a live client", 4},
    };
    for (size_t i = 0; i < sizeof goes_bad / sizeof goes_bad[0]; i++)
        run_case(goes_bad[i].what, case_x_goes_bad, &goes_bad[i]);
    if (g_failed)
        fprintf(stderr, "%d case(s) failed\n", g_failed);
    return g_failed ? 1 : 0;
}
