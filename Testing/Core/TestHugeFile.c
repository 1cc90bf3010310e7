/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestHugeFile -- sizes no process could ever map are refused, and sizes
 * the file system cannot hold are refused at once:
 *
 * (a) createfile* for a file above 2^46 bytes (64 TiB; e.g. two frames of
 *     16777216 x 16777216 RGB8, 1.69 PB, which used to become a sparse file
 *     that no server could map): BAD_ARGS, before the file is touched: a
 *     new file is not created, an existing one keeps its size and bytes;
 * (b) a size a 64-bit process could map but the file system cannot hold
 *     (6 TiB on /dev/shm): NO_SPACE, and no file left behind;
 * (c) a sparse 1 PiB file made by someone else's ftruncate: a server's
 *     create answers NO_SPACE (nothing written), a client's answers
 *     UNABLE_TO_MAP_FILE; inspect, which reads headers through the file
 *     descriptor and maps nothing, describes it (an EnSight-layout file of
 *     zeros, 1 PiB long); no crash, nothing allocated.
 */
#include "smi_test.h"

#include <sys/statvfs.h>

static void expect_unchanged(const char *path, const uint8_t *content, size_t n)
{
    size_t got;
    uint8_t *after = smi_test_read_file(path, &got);
    ASSERT_EQ(got, n);
    ASSERT_MSG(memcmp(after, content, n) == 0, "%s was changed", path);
    free(after);
}

/* (a) */
static void above_the_address_space(void)
{
    const char *path = smi_test_path("huge");
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = 16777216;
    d.height = 16777216; /* two frames: 1.69e15 bytes */
    ASSERT_RC(IMAGESTREAM_BAD_ARGS,
              SharedMemoryImageStream_createfile(path, d.width, d.height));
    ASSERT_MSG(smi_test_file_size(path) == -1, "createfile made a file of %lld bytes",
               smi_test_file_size(path));
    for (uint32_t layout = 0; layout <= IMAGESTREAM_LAYOUT_EXTENDED; layout++)
        ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfilelayout(path, layout, &d));
    /* Just above the limit: two frames of 2^45 bytes and a page. */
    d.format = IMAGESTREAM_FORMAT_GRAY8;
    d.width = 1u << 23;
    d.height = 1u << 22; /* 2^45 bytes */
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfileformat(path, &d));
    d.format = IMAGESTREAM_FORMAT_FLOAT32;
    d.width = 65536;
    d.height = 65536;
    d.depth = 65536;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfileformat(path, &d));
    ASSERT(smi_test_file_size(path) == -1);

    /* An existing file is not touched either. */
    uint8_t junk[300];
    smi_fill(junk, sizeof junk, 8);
    smi_test_write_file(path, junk, sizeof junk);
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfile(path, 16777216, 16777216));
    expect_unchanged(path, junk, sizeof junk);
    unlink(path);
    printf("  (a) files above 2^46 bytes: BAD_ARGS, nothing made or changed\n");
}

/* (b) */
static void beyond_the_file_system(void)
{
    const char *path = smi_test_path("toolarge");
    const uint64_t need = 4096 + 2 * ((uint64_t)3 << 40); /* two 3 TiB frames */
    struct statvfs v;
    ASSERT(statvfs(smi_test_dir(), &v) == 0);
    if (v.f_blocks == 0 || (uint64_t)v.f_bavail * v.f_frsize >= need) {
        printf("  (b) skipped: %s has no size limit or more than 6 TiB free\n", smi_test_dir());
        return;
    }
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = 1u << 20;
    d.height = 1u << 20;
    double t0 = smi_test_now_ms();
    ASSERT_RC(IMAGESTREAM_NO_SPACE,
              SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &d));
    ASSERT_LE(smi_test_now_ms() - t0, 2000); /* at once: no disk filled first */
    ASSERT_MSG(smi_test_file_size(path) == -1, "createfile left a file of %lld bytes",
               smi_test_file_size(path));
    ASSERT_RC(IMAGESTREAM_NO_SPACE, SharedMemoryImageStream_createfile(path, 1u << 20, 1u << 20));
    ASSERT(smi_test_file_size(path) == -1);
    printf("  (b) a 6 TiB file on a smaller file system: NO_SPACE at once, nothing left\n");
}

/* (c) */
static void a_sparse_petabyte(void)
{
    const char *path = smi_test_path("petabyte");
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT(fd >= 0);
    if (ftruncate(fd, (off_t)1 << 50) != 0) {
        printf("  (c) skipped: this file system does not take a 1 PiB sparse file (%s)\n",
               strerror(errno));
        close(fd);
        return;
    }
    close(fd);
    pid_t pid = smi_test_fork("open a sparse petabyte");
    if (pid == 0) {
        SharedMemoryImageStream s = NULL;
        ASSERT_RC(IMAGESTREAM_NO_SPACE,
                  SharedMemoryImageStream_create(
                      path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s));
        ASSERT_RC(IMAGESTREAM_NO_SPACE,
                  SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &s));
        ASSERT_RC(IMAGESTREAM_UNABLE_TO_MAP_FILE,
                  SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &s));
        SharedMemoryStreamInfo info;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
        ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_ENSIGHT);
        ASSERT_EQ(info.file_size, (uint64_t)1 << 50);
        exit(0);
    }
    ASSERT_CHILD_OK(pid, 20000);
    struct stat st;
    ASSERT(stat(path, &st) == 0);
    ASSERT_EQ(st.st_blocks, 0); /* nothing allocated, nothing written */
    unlink(path);
    printf("  (c) a sparse 1 PiB file: server NO_SPACE, client UNABLE_TO_MAP_FILE, inspect reads it\n");
}

/* TestHugeFile [PARTS]: all parts, or those named (e.g. "c"). */
int main(int argc, char **argv)
{
    const char *parts = argc > 1 ? argv[1] : "abc";
    smi_test_watchdog(60);
    if (strchr(parts, 'a'))
        above_the_address_space();
    if (strchr(parts, 'b'))
        beyond_the_file_system();
    if (strchr(parts, 'c'))
        a_sparse_petabyte();
    printf("TestHugeFile: ok\n");
    return 0;
}
