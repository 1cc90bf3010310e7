/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestAttach -- the client's one attach policy (SharedMemoryImageStream_attach,
 * _refresh): each situation, with real server processes.
 *  - MISSING: no file, no folder; a file removed under the client (reattach).
 *  - SETTING_UP: a file too small, and a fresh file whose header is not valid
 *    yet; the same file 10 s old is NOT_A_STREAM, as is a file of notes.
 *  - NO_SERVER: a file made by createfile() that no server has set up: not
 *    attached to, not a byte changed.
 *  - SERVING, NEW_SERVER: a server process comes (serve()); after the first
 *    is killed, a new one: an extended-layout client goes on (no reattach),
 *    an EnSight-layout one attaches again.
 *  - SERVER_GONE: the server killed with kill -9, and one that ended with
 *    destroy(); a new server after either is NEW_SERVER.
 *  - REPLACED: another file renamed over the path (reattach).
 *  - UNSAFE: a symbolic link at the path; FATAL: a folder at the path.
 * Only the first seven are worth waiting for (situationwaits()), and every
 * situation has its own description.
 */
#include "smi_test.h"

#include <sys/stat.h>

typedef struct {
    uint32_t ready; /* the server process serves */
    uint32_t stop;  /* ask it to end with destroy() */
} shared_t;

/* A server process on `path` in `layout` (serve()); returns once it serves. */
static pid_t start_server(const char *path, uint32_t layout, shared_t *sh)
{
    SMI_T_STORE(&sh->ready, 0);
    SMI_T_STORE(&sh->stop, 0);
    pid_t pid = smi_test_fork("server");
    if (pid == 0) {
        SharedMemoryImageDesc d = SMI_DESC_INIT;
        d.format = IMAGESTREAM_FORMAT_RGB8;
        d.width = 64;
        d.height = 48;
        d.depth = 1;
        SharedMemoryImageStream s = NULL;
        uint64_t capacity = 0;
        int rc = SharedMemoryImageStream_serve(path, layout, &d, 0, &s, &capacity);
        ASSERT_MSG(rc >= 0 && s != NULL, "serve %s: %d", path, rc);
        ASSERT_GE(capacity, 64u * 48u * 3u);
        SMI_T_STORE(&sh->ready, 1);
        static uint8_t pixels[64 * 48 * 3];
        struct _SharedMemoryFrame f = {1, 64, 48, pixels};
        while (!SMI_T_LOAD(&sh->stop)) { /* frames, as servers send them */
            f.iFrame++;
            (void)SharedMemoryImageStream_putframe(s, &f);
            smi_test_sleep_ms(2);
        }
        SharedMemoryImageStream_destroy(s);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->ready), 10000);
    return pid;
}

static void stop_server(pid_t pid, shared_t *sh)
{
    SMI_T_STORE(&sh->stop, 1);
    ASSERT_CHILD_OK(pid, 10000);
}

/* attach() answers `expected`; attached exactly when it is one of the three
   attached situations. */
static SharedMemoryImageStream expect_attach(const char *path, uint32_t options,
                                             uint32_t expected, SharedMemoryStreamStatus *st)
{
    SharedMemoryImageStream s = (SharedMemoryImageStream)1;
    uint32_t got = SharedMemoryImageStream_attach(path, options, &s, st);
    ASSERT_MSG(got == expected && st->situation == got, "attach %s: %s, expected %s (code %d)",
               path, SharedMemoryImageStream_situationstring(got),
               SharedMemoryImageStream_situationstring(expected), st->code);
    int attached = expected == IMAGESTREAM_SITUATION_SERVING ||
                   expected == IMAGESTREAM_SITUATION_SERVER_GONE;
    ASSERT_MSG((s != NULL) == attached, "attach %s: stream %p", path, (void *)s);
    ASSERT_EQ(st->reattach, 0u);
    return s;
}

/* refresh() answers `expected` and `reattach`. */
static void expect_refresh(const char *path, SharedMemoryImageStream s,
                           SharedMemoryStreamStatus *st, uint32_t expected, uint32_t reattach)
{
    uint32_t got = SharedMemoryImageStream_refresh(path, s, st);
    ASSERT_MSG(got == expected && st->situation == got && st->reattach == reattach,
               "refresh %s: %s (reattach %u), expected %s (reattach %u)", path,
               SharedMemoryImageStream_situationstring(got), st->reattach,
               SharedMemoryImageStream_situationstring(expected), reattach);
}

/* The client gets a frame of the server (so that the file holds one). */
static void see_frame(SharedMemoryImageStream c)
{
    SharedMemoryFrame f;
    WAIT_UNTIL(SharedMemoryImageStream_lock(c, &f) == IMAGESTREAM_NOERROR, 10000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
}

static void make_old(const char *path)
{
    struct timespec times[2];
    clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= 10;
    times[1] = times[0];
    ASSERT(utimensat(AT_FDCWD, path, times, 0) == 0);
}

/* Waiting for no server, a server, its death and its successors. */
static void server_lifecycle(uint32_t layout, shared_t *sh)
{
    const int ensight = layout == IMAGESTREAM_LAYOUT_ENSIGHT;
    const char *path = smi_test_path(ensight ? "life-ensight" : "life-extended");
    SharedMemoryStreamStatus st;
    memset(&st, 0, sizeof st);
    expect_attach(path, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_MISSING, &st);
    ASSERT_EQ(st.code, IMAGESTREAM_BAD_FILE_SIZE);
    ASSERT(SharedMemoryImageStream_situationwaits(st.situation));
    /* A file no server has set up: not mapped (not a byte of it changes). */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, 64, 48));
    expect_attach(path, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_NO_SERVER, &st);
    ASSERT(SharedMemoryImageStream_situationwaits(st.situation));
    size_t n = 0;
    uint8_t *bytes = smi_test_read_file(path, &n);
    for (size_t i = 0; i < n; i++)
        ASSERT_MSG(bytes[i] == 0, "byte %zu of the file no server set up changed", i);
    free(bytes);

    pid_t server = start_server(path, layout, sh);
    SharedMemoryImageStream c =
        expect_attach(path, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_SERVING, &st);
    ASSERT_EQ(st.layout, ensight ? (uint32_t)IMAGESTREAM_LAYOUT_ENSIGHT
                                 : (uint32_t)IMAGESTREAM_LAYOUT_EXTENDED);
    expect_refresh(path, c, &st, IMAGESTREAM_SITUATION_SERVING, 0);
    ASSERT_EQ(st.server_alive, 1u);
    see_frame(c);

    smi_test_kill9(server);
    expect_refresh(path, c, &st, IMAGESTREAM_SITUATION_SERVER_GONE, 0);
    ASSERT(SharedMemoryImageStream_situationwaits(st.situation));
    server = start_server(path, layout, sh);
    expect_refresh(path, c, &st, IMAGESTREAM_SITUATION_NEW_SERVER, (uint32_t)ensight);
    if (ensight) {
        SharedMemoryImageStream_destroy(c);
        c = expect_attach(path, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_SERVING, &st);
    }
    see_frame(c);
    stop_server(server, sh); /* ended cleanly */
    expect_refresh(path, c, &st, IMAGESTREAM_SITUATION_SERVER_GONE, 0);
    SharedMemoryImageStream_destroy(c);
    /* A new client of a stream whose server is gone says so at once. */
    c = expect_attach(path, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_SERVER_GONE, &st);

    /* Another file renamed over the path, then the file removed. */
    const char *other = smi_test_path("other");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(other, 64, 48));
    ASSERT(rename(other, path) == 0);
    expect_refresh(path, c, &st, IMAGESTREAM_SITUATION_REPLACED, 1);
    SharedMemoryImageStream_destroy(c);
    expect_attach(path, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_NO_SERVER, &st);
    /* The file removed under an attached client. */
    server = start_server(path, layout, sh);
    c = expect_attach(path, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_SERVING, &st);
    stop_server(server, sh);
    ASSERT(unlink(path) == 0);
    expect_refresh(path, c, &st, IMAGESTREAM_SITUATION_MISSING, 1);
    SharedMemoryImageStream_destroy(c);
}

/* Files that are not (yet) streams, and files the user must fix. */
static void not_served(void)
{
    SharedMemoryStreamStatus st;
    memset(&st, 0, sizeof st);
    char nofolder[600];
    snprintf(nofolder, sizeof nofolder, "%s/no-such-folder/x.smi", smi_test_dir());
    expect_attach(nofolder, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_MISSING, &st);

    const char *small = smi_test_path("small");
    smi_test_write_file(small, "SMI", 3);
    expect_attach(small, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_SETTING_UP, &st);

    /* A header being written (garbage for now), then one that stays so. */
    const char *garbage = smi_test_path("garbage");
    uint8_t junk[65536];
    smi_fill(junk, sizeof junk, 7);
    junk[20] = 200; /* a buffer_state no EnSight-layout stream has */
    smi_test_write_file(garbage, junk, sizeof junk);
    expect_attach(garbage, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_SETTING_UP, &st);
    ASSERT(SharedMemoryImageStream_situationwaits(st.situation));
    make_old(garbage);
    expect_attach(garbage, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_NOT_A_STREAM, &st);
    ASSERT(!SharedMemoryImageStream_situationwaits(st.situation));
    char text[1400];
    ASSERT(strstr(SharedMemoryImageStream_openerrorstring(garbage, 0, st.code, "--any-file", text,
                                                          sizeof text),
                  SharedMemoryImageStream_errorstring(IMAGESTREAM_BAD_FILE_FORMAT)) != NULL);

    const char *link = smi_test_path("link");
    ASSERT(symlink(garbage, link) == 0);
    expect_attach(link, IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_UNSAFE, &st);
    ASSERT_EQ(st.code, IMAGESTREAM_UNSAFE_FILE);
    ASSERT(!SharedMemoryImageStream_situationwaits(st.situation));
    /* The message names the rule, the fix and the caller's way to opt in. */
    SharedMemoryImageStream_openerrorstring(link, 0, st.code, "--any-file", text, sizeof text);
    ASSERT_MSG(strstr(text, "is a symbolic link") && strstr(text, "; or pass --any-file to use it"),
               "%s", text);

    expect_attach(smi_test_dir(), IMAGESTREAM_OPTIONS_NONE, IMAGESTREAM_SITUATION_FATAL, &st);
    ASSERT(!SharedMemoryImageStream_situationwaits(st.situation));

    /* Arguments. */
    ASSERT_EQ(SharedMemoryImageStream_attach(NULL, 0, NULL, NULL),
              (uint32_t)IMAGESTREAM_SITUATION_FATAL);
    ASSERT_EQ(SharedMemoryImageStream_refresh(small, NULL, &st),
              (uint32_t)IMAGESTREAM_SITUATION_FATAL);
    ASSERT_EQ(st.code, IMAGESTREAM_BAD_ARGS);
}

int main(void)
{
    smi_test_watchdog(120);
    shared_t *sh = smi_test_shared_alloc(sizeof *sh);
    /* Every situation has its own description. */
    for (uint32_t a = 0; a <= IMAGESTREAM_SITUATION_FATAL; a++)
        for (uint32_t b = a + 1; b <= IMAGESTREAM_SITUATION_FATAL; b++)
            ASSERT(strcmp(SharedMemoryImageStream_situationstring(a),
                          SharedMemoryImageStream_situationstring(b)) != 0);
    ASSERT_STR_EQ(SharedMemoryImageStream_situationstring(999), "unknown situation");
    not_served();
    server_lifecycle(IMAGESTREAM_LAYOUT_EXTENDED, sh);
    server_lifecycle(IMAGESTREAM_LAYOUT_ENSIGHT, sh);
    puts("PASS");
    return 0;
}
