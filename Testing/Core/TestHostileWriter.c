/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestHostileWriter -- another process changes the stream file under a live
 * server or client, as a hostile or careless neighbour would (any client maps
 * the header page writable; `cp` can overwrite a live file). The library
 * reads each value from the file once, checks that copy and uses only it, so:
 *
 * (a) inspect/info while a process flips slot_count (32 <-> 240) and
 *     buffer_count (2 <-> 200): no out-of-bounds write, sane counts.
 * (b) a server publishing while a process flips every buffer's data_offset
 *     (to 2^40, or just past the mapping) and the file's geometry: the server
 *     writes only its own buffers; a client verifies every frame it locks.
 * (c) a client locking and copying frames while a process flips
 *     data_offset, width, height and format of the ready buffers: every
 *     frame handed out is whole and fits the buffer (ASan build: no
 *     out-of-bounds read), or the lock fails cleanly.
 * (d) the header of another stream written over a live file (cp without
 *     truncation): server and client live on with clear errors.
 * (e) a client waiting while it holds a frame, when the file's geometry
 *     changes: the held frame stays mapped and intact.
 * (f) EnSight layout: a live client's locked block survives a server
 *     restart untouched (the new server leaves it at 3); numbers go on from
 *     the frames in the file even after a server that published nothing.
 * (g) a server that writes a new header from scratch (wiping the slots)
 *     wakes a client asleep in wait(-1), which then sees its frames.
 * (h) a client that forks and is then killed is seen dead at once, though
 *     its child lives on; the child cannot use the inherited stream.
 * (i) a geometry caught mid-growth and left so (buffer_count one above what
 *     file_size says, as a reader between a growing server's two stores
 *     sees it; then both raised past the real file): a client's lock, a
 *     new client's create, inspect and info retry for a few milliseconds,
 *     then answer BAD_FILE_FORMAT; a hostile process cannot make them wait longer. Put
 *     back, the client locks the frame it had not seen. Meanwhile a real
 *     growth (readers holding every buffer) under a flipper of buffer_count
 *     hands out only whole frames.
 * Run one part with `TestHostileWriter PARTS` (e.g. "bh").
 */
#include "smi_test.h"

#define W 64u
#define H 48u
#define FRAME_BYTES (W * H * 3u)

typedef struct {
    uint32_t stop;
    uint32_t flips;
    uint32_t ready;
} flip_shared_t;

/* Flip fields at `offsets` (u32, or u64 when `wide`) between two values
   each until told to stop. */
static void flipper(const char *path, flip_shared_t *sh, const uint32_t *offsets,
                    const uint64_t (*values)[2], int n, int wide)
{
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    SMI_T_STORE(&sh->ready, 1);
    for (uint32_t k = 0; !SMI_T_LOAD(&sh->stop); k++) {
        for (int i = 0; i < n; i++) {
            if (wide)
                smi_put_u64(m + offsets[i], values[i][k & 1]);
            else
                smi_put_u32(m + offsets[i], (uint32_t)values[i][k & 1]);
        }
        SMI_T_ADD(&sh->flips, 1);
    }
    munmap(m, L);
}

static pid_t start_flipper(const char *who, const char *path, flip_shared_t *sh,
                           const uint32_t *offsets, const uint64_t (*values)[2], int n, int wide)
{
    pid_t pid = smi_test_fork(who);
    if (pid == 0) {
        flipper(path, sh, offsets, values, n, wide);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->ready), 5000);
    return pid;
}

static void stop_flipper(pid_t pid, flip_shared_t *sh)
{
    SMI_T_STORE(&sh->stop, 1);
    ASSERT_CHILD_OK(pid, 5000);
    ASSERT_MSG(SMI_T_LOAD(&sh->flips) > 100, "only %u flips", SMI_T_LOAD(&sh->flips));
    memset(sh, 0, sizeof *sh);
}

static SharedMemoryImageStream ext_server(const char *path)
{
    SharedMemoryImageStream s = NULL;
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
               SharedMemoryImageStream_create(
                   path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s));
    return s;
}

static void publish_tagged(SharedMemoryImageStream s, uint32_t tag)
{
    SharedMemoryFrame f;
    int rc = SharedMemoryImageStream_acquire(s, W, H, &f);
    if (rc != IMAGESTREAM_NOERROR)
        return;
    smi_fill_tagged(f->buffer, FRAME_BYTES, tag);
    SharedMemoryImageStream_publish(s);
}

/* A client of `server`'s stream, and a frame tagged `tag` for it. */
static SharedMemoryImageStream client_with_frame(const char *path, SharedMemoryImageStream server,
                                                 uint32_t tag)
{
    SharedMemoryImageStream client = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &client));
    publish_tagged(server, tag);
    return client;
}

/* (a) */
static void inspect_under_flips(const char *path, flip_shared_t *sh)
{
    SharedMemoryImageStream server = ext_server(path);
    SharedMemoryImageStream client = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &client));
    const uint32_t offsets[] = {24, 16};
    const uint64_t values[][2] = {{32, 240}, {2, 200}};
    pid_t f = start_flipper("flipper (a)", path, sh, offsets, values, 2, 0);
    uint32_t ok = 0;
    for (int i = 0; i < 3000; i++) {
        SharedMemoryStreamInfo info;
        int rc = i % 2 ? SharedMemoryImageStream_inspect(path, &info)
                       : SharedMemoryImageStream_info(client, &info);
        ASSERT_MSG(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_BAD_FILE_FORMAT, "rc %d", rc);
        if (rc == IMAGESTREAM_NOERROR) {
            ASSERT_LE(info.max_clients, IMAGESTREAM_MAX_CLIENTS);
            ASSERT_LE(info.buffer_count, IMAGESTREAM_MAX_BUFFERS);
            ASSERT_LE(info.clients, info.max_clients);
            ok++;
        }
    }
    stop_flipper(f, sh);
    printf("  (a) 3000 inspect/info under flips: %u valid, the rest BAD_FILE_FORMAT\n", ok);
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(server);
}

/* (b) and (c): flips of buffer headers while a server publishes and a client
   locks and copies every frame. */
static void client_checks(const char *path, uint32_t *stop, uint32_t *checked)
{
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &c));
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(c, &info));
    SMI_T_STORE(checked, 1); /* attached: the flips may start */
    uint8_t *copy = malloc(FRAME_BYTES);
    ASSERT(copy != NULL);
    while (!SMI_T_LOAD(stop)) {
        SharedMemoryFrame f;
        int rc = SharedMemoryImageStream_lock(c, &f);
        if (rc != IMAGESTREAM_NOERROR) {
            ASSERT_MSG(rc == IMAGESTREAM_NO_FRAMEAVAILABLE || rc == IMAGESTREAM_BAD_FILE_FORMAT,
                       "lock: %d", rc);
            continue;
        }
        SharedMemoryImageDesc d;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_describe(c, &d));
        uint64_t n = (uint64_t)d.width * d.height * d.depth *
                     SharedMemoryImageStream_formatsize(d.format);
        /* What was handed out fits a buffer of the geometry the client
           attached to, whatever the header said a moment later. */
        ASSERT_LE((double)n, (double)info.buffer_size);
        if (n == FRAME_BYTES && d.format == IMAGESTREAM_FORMAT_RGB8) {
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(c, copy, n, 0));
            uint32_t tag;
            ASSERT_MSG(smi_check_tagged(copy, n, &tag) < 0, "frame %u is torn", f->iFrame);
            SMI_T_ADD(checked, 1);
        } else {
            uint8_t *big = malloc(n ? n : 1);
            ASSERT(big != NULL);
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(c, big, n, 1));
            free(big);
        }
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    }
    free(copy);
    SharedMemoryImageStream_destroy(c);
}

static void buffers_under_flips(const char *path, flip_shared_t *sh, uint32_t *stop,
                                uint32_t *checked)
{
    SharedMemoryImageStream server = ext_server(path);
    SMI_T_STORE(stop, 0);
    SMI_T_STORE(checked, 0);
    pid_t c = smi_test_fork("client (c)");
    if (c == 0) {
        client_checks(path, stop, checked);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(checked) == 1, 5000);
    /* data_offset (u64 at +32) between the right value and 2^40 or just
       past the mapping; width, height (+20, +24) and format (+4) of both
       buffers between the right values and wrong ones. */
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(server, &info));
    const uint64_t bs = info.buffer_size, past = info.file_size + 4096;
    const uint32_t off64[] = {SMI_X_BUF(0) + 32, SMI_X_BUF(1) + 32};
    const uint64_t v64[][2] = {{SMI_X_HEADER, (uint64_t)1 << 40}, {past, SMI_X_HEADER + bs}};
    pid_t f1 = start_flipper("flipper (b) offsets", path, sh, off64, v64, 2, 1);
    flip_shared_t *sh2 = smi_test_shared_alloc(sizeof *sh2);
    const uint32_t off32[] = {SMI_X_BUF(0) + 20, SMI_X_BUF(0) + 24, SMI_X_BUF(1) + 20,
                              SMI_X_BUF(1) + 24, SMI_X_BUF(0) + 4, SMI_X_BUF(1) + 4};
    const uint64_t v32[][2] = {{W, 100000}, {H, 7}, {100000, W}, {7, H}, {0, 3}, {3, 0}};
    pid_t f2 = start_flipper("flipper (c) sizes", path, sh2, off32, v32, 6, 0);
    for (uint32_t tag = 1; tag < 4000; tag++)
        publish_tagged(server, tag);
    WAIT_UNTIL(SMI_T_LOAD(checked) > 1, 5000);
    SMI_T_STORE(stop, 1);
    ASSERT_CHILD_OK(c, 10000);
    stop_flipper(f1, sh);
    stop_flipper(f2, sh2);
    printf("  (b, c) 4000 frames published under offset and size flips; the client "
           "verified %u whole\n",
           SMI_T_LOAD(checked) - 1);
    SharedMemoryImageStream_destroy(server);
}

/* (d) */
static void other_header_copied_over(const char *path, const char *other)
{
    SharedMemoryImageStream server = ext_server(path);
    SharedMemoryImageStream client = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &client));
    publish_tagged(server, 1);
    /* Another stream with other geometry: its header page over the live one
       (cp of a bigger stream, without the truncation). */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfilelayout(other,
        IMAGESTREAM_LAYOUT_EXTENDED, &(SharedMemoryImageDesc){.format = 0, .width = 512, .height = 512}));
    SharedMemoryImageStream o = ext_server(other);
    SharedMemoryImageStream_destroy(o);
    size_t n;
    uint8_t *page = smi_test_read_file(other, &n);
    int fd = open(path, O_WRONLY);
    ASSERT(fd >= 0 && pwrite(fd, page, SMI_X_HEADER, 0) == SMI_X_HEADER);
    close(fd);
    free(page);
    for (uint32_t tag = 2; tag < 200; tag++)
        publish_tagged(server, tag); /* its own buffers, or nothing */
    SharedMemoryFrame f;
    for (int i = 0; i < 50; i++) {
        int rc = SharedMemoryImageStream_lock(client, &f);
        if (rc == IMAGESTREAM_NOERROR) {
            /* (the pixels may be wrong: the file lies about where they are;
               reading all of them must be safe) */
            uint8_t sum = 0;
            for (uint32_t k = 0; k < f->iWidth * f->iHeight * 3; k++)
                sum ^= f->buffer[k];
            (void)sum;
            SharedMemoryImageStream_unlock(client);
        } else {
            ASSERT_MSG(rc < 0 || rc == IMAGESTREAM_NO_FRAMEAVAILABLE, "lock: %d", rc);
        }
    }
    printf("  (d) another stream's header over a live file: no crash, clear codes\n");
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(server);
}

/* (e) */
static void wait_while_holding(const char *path)
{
    SharedMemoryImageStream server = ext_server(path);
    SharedMemoryImageStream client = client_with_frame(path, server, 7);
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    SharedMemoryImageStream_destroy(server);
    /* The geometry in the file changes (half-size buffers, as a re-laid-out
       or overwritten file would say). */
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    uint64_t bs = smi_x_u64(m, 40);
    smi_put_u64(m + 40, bs / 2);
    smi_put_u64(m + 32, SMI_X_HEADER + bs);
    smi_put_u64(m + SMI_X_BUF(1) + 32, SMI_X_HEADER + bs / 2);
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_wait(client, 50));
    uint32_t tag;
    ASSERT_MSG(smi_check_tagged(f->buffer, FRAME_BYTES, &tag) < 0 && tag == 7,
               "the held frame changed under wait()");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    munmap(m, L);
    printf("  (e) wait() while holding a frame, geometry changed: the frame stays mapped\n");
    SharedMemoryImageStream_destroy(client);
}

/* (f) */
static void ensight_restart(const char *path)
{
    SharedMemoryImageStream server = NULL, client = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &server));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &client));
    uint8_t px[FRAME_BYTES];
    struct _SharedMemoryFrame in = {0, W, H, px};
    SharedMemoryFrame f;
    for (uint32_t n = 0; n < 50; n++) {
        in.iFrame = n;
        smi_fill_tagged(px, FRAME_BYTES, n + 1);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
        ASSERT_EQ(f->iFrame, n);
        if (n < 49)
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    }
    /* The client holds frame 49. A server starts and leaves without a frame;
       another starts and publishes, counting from 0. */
    SharedMemoryImageStream_destroy(server);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &server));
    SharedMemoryImageStream_destroy(server);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &server));
    uint32_t published = 0;
    for (uint32_t n = 0; n < 20; n++) {
        in.iFrame = n;
        smi_fill_tagged(px, FRAME_BYTES, 1000 + n);
        int rc = SharedMemoryImageStream_putframe(server, &in);
        published += rc == IMAGESTREAM_NOERROR;
        if (rc != IMAGESTREAM_NOERROR) { /* the client meets the new server (4 -> 0) */
            int w = SharedMemoryImageStream_wait(client, 0);
            ASSERT_MSG(w >= 0, "wait: %d", w);
        }
        uint32_t tag;
        ASSERT_MSG(smi_check_tagged(f->buffer, FRAME_BYTES, &tag) < 0 && tag == 50,
                   "the held frame 49 was overwritten (tag %u)", tag);
    }
    ASSERT(published > 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    ASSERT_MSG(f->iFrame > 49, "frame %u after frame 49", f->iFrame);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    printf("  (f) EnSight layout: the held block survived two server starts; next frame %u\n",
           f->iFrame);
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(server);
}

/* (g) */
static void new_header_wakes_sleepers(const char *path, uint32_t *woke)
{
    SharedMemoryImageStream server = ext_server(path);
    publish_tagged(server, 1);
    pid_t c = smi_test_fork("client (g) waits");
    if (c == 0) {
        SharedMemoryImageStream cl = NULL;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &cl));
        SharedMemoryFrame f;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(cl, &f));
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(cl));
        SMI_T_STORE(woke, 1);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(cl, -1));
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(cl, &f));
        uint32_t tag;
        ASSERT(smi_check_tagged(f->buffer, FRAME_BYTES, &tag) < 0 && tag == 99);
        SMI_T_STORE(woke, 2);
        SharedMemoryImageStream_destroy(cl);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(woke) == 1, 5000);
    smi_test_sleep_ms(100); /* asleep in wait(-1) */
    SharedMemoryImageStream_destroy(server);
    /* The file zeroed (say, rewritten as pyensight makes its files): the next
       server writes a whole new header, slots and waiting flags zeroed. (A
       file whose magic alone is gone is no stream any more: a server leaves
       it alone, NOT_A_STREAM.) */
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    memset(m, 0, 8);
    munmap(m, L);
    SharedMemoryImageStream refused = NULL;
    ASSERT_RC(IMAGESTREAM_NOT_A_STREAM,
              SharedMemoryImageStream_create(
                  path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &refused));
    m = smi_test_map_file(path, &L);
    memset(m, 0, L);
    munmap(m, L);
    server = ext_server(path);
    smi_test_sleep_ms(100);
    publish_tagged(server, 99);
    double t0 = smi_test_now_ms();
    WAIT_UNTIL(SMI_T_LOAD(woke) == 2, 5000);
    ASSERT_CHILD_OK(c, 5000);
    printf("  (g) a new header woke the sleeping client; it had the frame after %.0f ms\n",
           smi_test_now_ms() - t0);
    SharedMemoryImageStream_destroy(server);
}

/* (h) a client forks, then is killed: its child does not keep it alive. */
static void fork_after_lock(const char *path, uint32_t *flag)
{
    SharedMemoryImageStream server = ext_server(path);
    publish_tagged(server, 5);
    pid_t c = smi_test_fork("client (h) forks");
    if (c == 0) {
        SharedMemoryImageStream cl = NULL;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &cl));
        SharedMemoryFrame f;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(cl, &f));
        pid_t g = fork();
        if (g == 0) { /* the child: the stream is not its to use */
            SharedMemoryFrame f2;
            int rc = SharedMemoryImageStream_unlock(cl);
            rc = rc == IMAGESTREAM_BAD_FILE_SIZE ? SharedMemoryImageStream_lock(cl, &f2) : -100;
            SharedMemoryImageStream_destroy(cl);
            SMI_T_STORE(flag, rc == IMAGESTREAM_BAD_FILE_SIZE ? 1 : 2);
            sleep(3); /* alive while the main process looks */
            _exit(0);
        }
        for (;;)
            pause(); /* holding the frame, until killed */
    }
    WAIT_UNTIL(SMI_T_LOAD(flag) != 0, 5000);
    ASSERT_MSG(SMI_T_LOAD(flag) == 1, "the forked child could use its parent's stream");
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(server, &info));
    ASSERT_EQ(info.clients, 1);
    smi_test_kill9(c);
    double t0 = smi_test_now_ms();
    WAIT_UNTIL(SharedMemoryImageStream_info(server, &info) == IMAGESTREAM_NOERROR &&
                   info.clients == 0,
               3000);
    printf("  (h) a killed client's forked child does not keep it alive: gone after %.0f ms\n",
           smi_test_now_ms() - t0);
    SharedMemoryImageStream_destroy(server);
}

/* (i) */
static void growth_left_half_done(const char *path)
{
    SharedMemoryImageStream server = ext_server(path);
    SharedMemoryImageStream client = client_with_frame(path, server, 7);
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    const uint32_t count = smi_get_u32(m + 16);
    const uint64_t size = smi_get_u64(m + 32), bsize = smi_get_u64(m + 40);
    ASSERT_EQ(count, 2);
    const struct {
        uint32_t count;
        uint64_t size;
        const char *what;
    } cases[] = {
        {count + 1, size, "buffer_count stored, file_size not"},
        {count + 1, size + bsize, "both stored, the file not grown"},
        {IMAGESTREAM_MAX_BUFFERS, 4096 + IMAGESTREAM_MAX_BUFFERS * bsize, "8 buffers claimed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        smi_put_u64(m + 32, cases[i].size);
        smi_put_u32(m + 16, cases[i].count);
        SharedMemoryFrame f;
        double t0 = smi_test_now_ms();
        ASSERT_RC(IMAGESTREAM_BAD_FILE_FORMAT, SharedMemoryImageStream_lock(client, &f));
        double t_lock = smi_test_now_ms() - t0;
        SharedMemoryImageStream late = NULL;
        t0 = smi_test_now_ms();
        ASSERT_RC(IMAGESTREAM_BAD_FILE_FORMAT, SharedMemoryImageStream_create(path, 0, &late));
        double t_create = smi_test_now_ms() - t0;
        SharedMemoryStreamInfo info;
        t0 = smi_test_now_ms();
        ASSERT_RC(IMAGESTREAM_BAD_FILE_FORMAT, SharedMemoryImageStream_inspect(path, &info));
        ASSERT_RC(IMAGESTREAM_BAD_FILE_FORMAT, SharedMemoryImageStream_info(client, &info));
        double t_inspect = smi_test_now_ms() - t0;
        ASSERT_MSG(t_lock < 1000 && t_create < 1000 && t_inspect < 1000,
                   "%s: lock %.1f ms, create %.1f ms, inspect and info %.1f ms", cases[i].what,
                   t_lock, t_create, t_inspect);
        printf("  (i) %s: BAD_FILE_FORMAT after %.2f ms (lock), %.2f ms (create)\n",
               cases[i].what, t_lock, t_create);
    }
    smi_put_u32(m + 16, count);
    smi_put_u64(m + 32, size);
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    uint32_t tag;
    ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &tag), -1);
    ASSERT_EQ(tag, 7);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    munmap(m, L);
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(server);
}

/* (i), second half: readers hold every buffer so the server grows the file
   (2 -> 6), then a process flips buffer_count (2 <-> 8) while the server
   publishes and the readers take turns: every frame locked is whole, every
   held frame stays as it was. Once the count is put back, all lock again. */
static void reader_turn(SharedMemoryImageStream c, SharedMemoryFrame *held, uint32_t *held_tag,
                        uint32_t newest, uint32_t *locked, uint32_t *refused)
{
    uint32_t seen;
    if (*held) { /* the frame it held while the file changed: untouched */
        ASSERT_EQ(smi_check_tagged((*held)->buffer, FRAME_BYTES, &seen), -1);
        ASSERT_EQ(seen, *held_tag);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
        *held = NULL;
    }
    SharedMemoryFrame f;
    int rc = SharedMemoryImageStream_lock(c, &f);
    if (rc == IMAGESTREAM_NOERROR) {
        ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &seen), -1);
        ASSERT_LE(seen, newest);
        *held = f; /* held until this reader's next turn */
        *held_tag = seen;
        (*locked)++;
    } else {
        ASSERT_MSG(rc == IMAGESTREAM_BAD_FILE_FORMAT || rc == IMAGESTREAM_NO_FRAMEAVAILABLE,
                   "lock under flips: %d", rc);
        (*refused)++;
    }
}

static void growth_under_flips(const char *path, flip_shared_t *sh)
{
    SharedMemoryImageStream server = ext_server(path);
    enum { READERS = 5 };
    SharedMemoryImageStream readers[READERS];
    SharedMemoryFrame held[READERS] = {0};
    uint32_t held_tag[READERS] = {0}, locked = 0, refused = 0, tag = 0;
    for (int r = 0; r < READERS; r++)
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &readers[r]));
    for (int r = 0; r < READERS; r++) { /* each holds a different frame: 2 -> 6 buffers */
        publish_tagged(server, ++tag);
        reader_turn(readers[r], &held[r], &held_tag[r], tag, &locked, &refused);
    }
    publish_tagged(server, ++tag);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(server, &info));
    ASSERT_EQ(info.buffer_count, READERS + 1);
    ASSERT_EQ(refused, 0);

    const uint32_t offsets[] = {16};
    const uint64_t values[][2] = {{2, 8}};
    pid_t fl = start_flipper("flipper (i)", path, sh, offsets, values, 1, 0);
    for (int i = 0; i < 100; i++) {
        publish_tagged(server, ++tag);
        int r = i % READERS;
        reader_turn(readers[r], &held[r], &held_tag[r], tag, &locked, &refused);
    }
    stop_flipper(fl, sh);
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    smi_put_u32(m + 16, READERS + 1); /* what the server wrote, before the flips */
    munmap(m, L);
    uint32_t before = locked;
    for (int r = 0; r < READERS; r++) {
        publish_tagged(server, ++tag);
        reader_turn(readers[r], &held[r], &held_tag[r], tag, &locked, &refused);
    }
    ASSERT_EQ(locked - before, READERS);
    printf("  (i) grown to %u buffers, then 100 turns under buffer_count flips: every frame "
           "locked whole (%u), held frames intact, %u refused\n", info.buffer_count, locked,
           refused);
    for (int r = 0; r < READERS; r++)
        SharedMemoryImageStream_destroy(readers[r]);
    SharedMemoryImageStream_destroy(server);
}

/* TestHostileWriter [PARTS]: all parts, or those named (e.g. "bg"). */
int main(int argc, char **argv)
{
    const char *parts = argc > 1 ? argv[1] : "abdefghi";
    smi_test_watchdog(120);
    const char *path = smi_test_path("hostile");
    const char *other = smi_test_path("hostile-other");
    flip_shared_t *sh = smi_test_shared_alloc(sizeof *sh);
    uint32_t *flags = smi_test_shared_alloc(4 * sizeof(uint32_t));
    SharedMemoryImageDesc d = {.format = IMAGESTREAM_FORMAT_RGB8, .width = W, .height = H};
    for (const char *p = parts; *p; p++) {
        unlink(path);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfilelayout(path, 0, &d));
        switch (*p) {
        case 'a': inspect_under_flips(path, sh); break;
        case 'b':
        case 'c': buffers_under_flips(path, sh, &flags[0], &flags[1]); break;
        case 'd': other_header_copied_over(path, other); break;
        case 'e': wait_while_holding(path); break;
        case 'f': ensight_restart(path); break;
        case 'g': new_header_wakes_sleepers(path, &flags[2]); break;
        case 'h': fork_after_lock(path, &flags[3]); break;
        case 'i':
            growth_left_half_done(path);
            unlink(path);
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfilelayout(path, 0, &d));
            growth_under_flips(path, sh);
            break;
        default: SMI_FAIL("unknown part '%c'", *p);
        }
    }
    return 0;
}
