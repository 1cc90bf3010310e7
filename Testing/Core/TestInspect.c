/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestInspect -- SharedMemoryImageStream_inspect (by file name) and _info (by
 * handle) on live streams, server and clients in other processes, both
 * layouts: server alive or not, live client count, buffer states, holders,
 * frame numbers, sequences, formats, timestamps, generation. Every inspect
 * is wrapped in a byte-for-byte comparison of the whole file before and
 * after: inspect changes nothing (the file is quiet between the test's
 * commands: nobody else acts then). Also the hand-built files in Data/.
 */
#include "smi_test.h"

#define W 16u
#define H 8u

/* inspect, and check that the file did not change by a single byte. */
static int inspect_quiet(const char *path, SharedMemoryStreamInfo *info)
{
    size_t n0, n1;
    uint8_t *before = smi_test_read_file(path, &n0);
    memset(info, 0xA5, sizeof *info);
    int rc = SharedMemoryImageStream_inspect(path, info);
    uint8_t *after = smi_test_read_file(path, &n1);
    ASSERT_EQ(n0, n1);
    for (size_t i = 0; i < n0; i++)
        if (before[i] != after[i])
            SMI_FAIL("inspect changed byte %zu of %s: %u -> %u", i, path, before[i], after[i]);
    free(before);
    free(after);
    return rc;
}

enum { CMD_NONE, CMD_PUT_RGB, CMD_PUT_GRAY16, CMD_ATTACH, CMD_LOCK, CMD_EXIT };

typedef struct {
    uint32_t cmd, arg, seq, done;
} chan_t;

typedef struct {
    chan_t server, client[2];
} shared_t;

static void send_cmd(chan_t *ch, uint32_t cmd, uint32_t arg)
{
    uint32_t seq = SMI_T_LOAD(&ch->seq) + 1;
    SMI_T_STORE(&ch->cmd, cmd);
    SMI_T_STORE(&ch->arg, arg);
    SMI_T_STORE(&ch->seq, seq);
    WAIT_UNTIL(SMI_T_LOAD(&ch->done) == seq, 10000);
}

static uint32_t next_cmd(chan_t *ch, uint32_t *seq, uint32_t *arg)
{
    WAIT_UNTIL(SMI_T_LOAD(&ch->seq) != *seq, 30000);
    *seq = SMI_T_LOAD(&ch->seq);
    *arg = SMI_T_LOAD(&ch->arg);
    return SMI_T_LOAD(&ch->cmd);
}

static void server_process(const char *path, uint32_t options, chan_t *ch)
{
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, options, &s));
    uint8_t px[W * H * 3];
    uint32_t seq = 0, arg;
    SMI_T_STORE(&ch->done, 0);
    for (;;) {
        uint32_t cmd = next_cmd(ch, &seq, &arg);
        if (cmd == CMD_PUT_RGB) {
            struct _SharedMemoryFrame in = {arg, W, H, px};
            smi_fill(px, sizeof px, arg);
            int rc = SharedMemoryImageStream_putframe(s, &in);
            ASSERT(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_UNCONNECTED);
        } else if (cmd == CMD_PUT_GRAY16) {
            SharedMemoryImageDesc d;
            memset(&d, 0, sizeof d);
            d.format = IMAGESTREAM_FORMAT_GRAY16;
            d.width = W;
            d.height = H;
            d.timestamp = 42.5;
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(s, &d, arg, px));
        } else if (cmd == CMD_EXIT) {
            break;
        }
        SMI_T_STORE(&ch->done, seq);
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
    SMI_T_STORE(&ch->done, seq);
}

static void client_process(const char *path, chan_t *ch)
{
    SharedMemoryImageStream c = NULL;
    SharedMemoryFrame f;
    uint32_t seq = 0, arg;
    for (;;) {
        uint32_t cmd = next_cmd(ch, &seq, &arg);
        if (cmd == CMD_ATTACH)
            ASSERT(SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c) >= 0);
        else if (cmd == CMD_LOCK)
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
        else if (cmd == CMD_EXIT)
            break;
        SMI_T_STORE(&ch->done, seq);
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    SMI_T_STORE(&ch->done, seq);
}

static void ensight(void)
{
    const char *path = smi_test_path("inspect-es");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    uint64_t L = (uint64_t)smi_test_file_size(path);
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));
    SMI_T_STORE(&sh->server.done, 1);
    pid_t server = smi_test_fork("EnSight server");
    if (server == 0) {
        server_process(path, IMAGESTREAM_OPTIONS_SERVER, &sh->server);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->server.done) == 0, 10000);

    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_ENSIGHT);
    ASSERT_EQ(info.version, 0);
    ASSERT_EQ(info.file_size, L);
    ASSERT_EQ(info.server_alive, 1);
    ASSERT_EQ(info.clients, 0);
    ASSERT_EQ(info.max_clients, 1);
    ASSERT_EQ(info.buffer_count, 2);
    ASSERT_EQ(info.buffer_size, (L - 48) / 2);
    ASSERT_EQ(info.last_frame, 0);
    ASSERT_EQ(info.buffers[0].state, 4);
    ASSERT_EQ(info.buffers[1].state, 4);

    /* This process attaches as the client. */
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.clients, 1);
    ASSERT_EQ(info.buffers[0].state, 0);
    ASSERT_EQ(info.buffers[1].state, 0);

    send_cmd(&sh->server, CMD_PUT_RGB, 5);
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.last_frame, 5);
    int b = info.buffers[0].state == 2 ? 0 : 1;
    ASSERT_EQ(info.buffers[b].state, 2);
    ASSERT_EQ(info.buffers[!b].state, 0);
    ASSERT_EQ(info.buffers[b].frame, 5);
    ASSERT_EQ(info.buffers[b].width, W);
    ASSERT_EQ(info.buffers[b].height, H);
    ASSERT_EQ(info.buffers[b].depth, 1);
    ASSERT_EQ(info.buffers[b].format, IMAGESTREAM_FORMAT_RGB8);
    ASSERT_EQ(info.buffers[b].holders, 0);

    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.buffers[b].state, 3);
    ASSERT_EQ(info.buffers[b].holders, 1);
    ASSERT_EQ(info.last_frame, 5);

    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(c, &info));
    ASSERT_EQ(info.server_alive, 1);
    ASSERT_EQ(info.clients, 1);
    smi_test_kill9(server);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(c, &info));
    ASSERT_EQ(info.server_alive, 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.server_alive, 0);
    ASSERT_EQ(info.clients, 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.clients, 0);
    ASSERT_EQ(info.buffers[b].state, 0);
    munmap(sh, sizeof(shared_t));
}

static const SharedMemoryBufferInfo *newest(const SharedMemoryStreamInfo *info)
{
    const SharedMemoryBufferInfo *best = NULL;
    for (uint32_t i = 0; i < info->buffer_count; i++)
        if (info->buffers[i].state == 2 && (!best || info->buffers[i].sequence > best->sequence))
            best = &info->buffers[i];
    ASSERT(best != NULL);
    return best;
}

static void extended(void)
{
    const char *path = smi_test_path("inspect-ext");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    uint64_t L = (uint64_t)smi_test_file_size(path);
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));
    SMI_T_STORE(&sh->server.done, 1);
    pid_t server = smi_test_fork("extended server");
    if (server == 0) {
        server_process(path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &sh->server);
        exit(0);
    }
    pid_t clients[2];
    for (int i = 0; i < 2; i++) {
        clients[i] = smi_test_fork(i ? "client 2" : "client 1");
        if (clients[i] == 0) {
            client_process(path, &sh->client[i]);
            exit(0);
        }
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->server.done) == 0, 10000);

    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_EXTENDED);
    ASSERT_EQ(info.version, 1);
    ASSERT_EQ(info.server_alive, 1);
    ASSERT_EQ(info.clients, 0);
    ASSERT_EQ(info.max_clients, 32);
    ASSERT_EQ(info.buffer_count, 2);
    ASSERT(info.buffer_size >= W * H * 3 && info.buffer_size % 4096 == 0);
    ASSERT(SMI_X_HEADER + 2 * info.buffer_size <= L);
    ASSERT(info.file_size <= L && info.file_size >= SMI_X_HEADER + 2 * info.buffer_size);
    ASSERT_EQ(info.server_generation, 1);
    ASSERT_EQ(info.last_frame, 0);
    ASSERT_EQ(info.last_sequence, 0);
    ASSERT_EQ(info.buffers[0].state, 0);
    ASSERT_EQ(info.buffers[1].state, 0);

    /* Published with nobody attached. */
    send_cmd(&sh->server, CMD_PUT_RGB, 7);
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.last_frame, 7);
    ASSERT_EQ(info.last_sequence, 1);
    const SharedMemoryBufferInfo *bi = newest(&info);
    ASSERT_EQ(bi->frame, 7);
    ASSERT_EQ(bi->sequence, 1);
    ASSERT_EQ(bi->format, IMAGESTREAM_FORMAT_RGB8);
    ASSERT_EQ(bi->width, W);
    ASSERT_EQ(bi->height, H);
    ASSERT_EQ(bi->depth, 1);
    ASSERT_EQ(bi->holders, 0);
    int b7 = (int)(bi - info.buffers);

    /* Three clients: this process and two others; the two lock frame 7. */
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    send_cmd(&sh->client[0], CMD_ATTACH, 0);
    send_cmd(&sh->client[1], CMD_ATTACH, 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.clients, 3);
    send_cmd(&sh->client[0], CMD_LOCK, 0);
    send_cmd(&sh->client[1], CMD_LOCK, 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.buffers[b7].holders, 2);
    ASSERT_EQ(info.buffers[b7].state, 2);

    /* A GRAY16 frame with a timestamp goes to the other buffer. */
    send_cmd(&sh->server, CMD_PUT_GRAY16, 9);
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    bi = newest(&info);
    ASSERT_EQ(bi - info.buffers, !b7);
    ASSERT_EQ(bi->frame, 9);
    ASSERT_EQ(bi->sequence, 2);
    ASSERT_EQ(bi->format, IMAGESTREAM_FORMAT_GRAY16);
    ASSERT(bi->timestamp == 42.5);
    ASSERT_EQ(bi->holders, 0);
    ASSERT_EQ(info.last_frame, 9);
    ASSERT_EQ(info.last_sequence, 2);
    ASSERT_EQ(info.buffers[b7].holders, 2);

    /* A holder dies: one live holder, two live clients. */
    smi_test_kill9(clients[0]);
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.clients, 2);
    ASSERT_EQ(info.buffers[b7].holders, 1);

    /* The server dies: a client can tell through info(). */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(c, &info));
    ASSERT_EQ(info.server_alive, 1);
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_EXTENDED);
    smi_test_kill9(server);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(c, &info));
    ASSERT_EQ(info.server_alive, 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.server_alive, 0);
    ASSERT_EQ(info.server_generation, 1);
    ASSERT_EQ(info.last_frame, 9);

    send_cmd(&sh->client[1], CMD_EXIT, 0);
    ASSERT_CHILD_OK(clients[1], 10000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(path, &info));
    ASSERT_EQ(info.clients, 0);
    ASSERT_EQ(info.buffers[b7].holders, 0);
    munmap(sh, sizeof(shared_t));
}

static void data_files(void)
{
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(SMI_TEST_DATA_DIR "/ensight-initialized.smi", &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_ENSIGHT);
    ASSERT_EQ(info.file_size, 816);
    ASSERT_EQ(info.buffer_size, 384);
    ASSERT_EQ(info.buffers[0].state, 4);
    ASSERT_EQ(info.buffers[1].state, 4);
    ASSERT_EQ(info.server_alive, 0);
    ASSERT_EQ(info.clients, 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, inspect_quiet(SMI_TEST_DATA_DIR "/ensight-two-frames.smi", &info));
    ASSERT_EQ(info.last_frame, 42);
    ASSERT_EQ(info.buffers[0].frame, 42);
    ASSERT_EQ(info.buffers[1].frame, 41);
    ASSERT_EQ(info.buffers[1].width, 12);
    int rc = inspect_quiet(SMI_TEST_DATA_DIR "/ensight-partial.smi", &info);
    ASSERT(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_BAD_FILE_FORMAT);
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_ENSIGHT);
    ASSERT_RC(IMAGESTREAM_BAD_FILE_FORMAT,
              inspect_quiet(SMI_TEST_DATA_DIR "/ensight-bad-state.smi", &info));
    ASSERT_RC(IMAGESTREAM_VERSION_MISMATCH,
              inspect_quiet(SMI_TEST_DATA_DIR "/extended-version2.smi", &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_EXTENDED);
    ASSERT_EQ(info.version, 2);
}

int main(void)
{
    smi_test_watchdog(60);
    data_files();
    ensight();
    extended();
    return 0;
}
