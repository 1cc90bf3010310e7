/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestNoSpace -- a full file system gives IMAGESTREAM_NO_SPACE, never a
 * SIGBUS later, and reading a sparse file allocates nothing. On a 2 MiB
 * tmpfs mounted for the test (in a private mount namespace, so that it goes
 * away with the test; needs root, else the test is skipped):
 *
 * (a) createfile for a frame too large for it: NO_SPACE, and no file left
 *     behind (no 20 MiB sparse file that a server would later fault on), the
 *     space used is back where it was; an existing smaller file keeps its
 *     size and bytes;
 * (b) createfile for a frame that fits reserves the blocks (st_blocks covers
 *     the size; the file system's free space went down by that much);
 * (c) a 64 MiB sparse file (ftruncate): a server's create, in a child
 *     process, answers NO_SPACE for both layouts and the child exits
 *     normally (no SIGBUS), nothing allocated, nothing written;
 * (d) inspect on that file, in a child process: NOERROR (a zero-filled file
 *     is an EnSight stream with no frame) and the tmpfs usage (statvfs) is
 *     unchanged: read-only mappings are not prefaulted, and holes read as
 *     zero pages;
 * (e) a server's create on a sparse file that fits reserves all of it, and
 *     serves frames.
 */
#include "smi_test.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#define SKIP 77

static char g_mnt[400];

static void unmount_tmpfs(void)
{
    if (g_mnt[0] && getpid() == smi_test_main_pid)
        umount2(g_mnt, MNT_DETACH);
}

/* Mount a tmpfs of `size` (e.g. "2m") at a fresh directory; 0, or SKIP with
   a message. */
static int mount_small_tmpfs(const char *size)
{
    if (geteuid() != 0) {
        printf("SKIP: mounting a small tmpfs needs root\n");
        return SKIP;
    }
    /* A private mount namespace: the mount is this process's (and its
       children's) only, and disappears with them even after a crash. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        printf("note: no private mount namespace (%s); mounting in the shared one\n",
               strerror(errno));
    snprintf(g_mnt, sizeof g_mnt, "%s/tmpfs", smi_test_dir());
    ASSERT(mkdir(g_mnt, 0700) == 0);
    char opts[64];
    snprintf(opts, sizeof opts, "size=%s,mode=0700", size);
    if (mount("tmpfs", g_mnt, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
        printf("SKIP: cannot mount a tmpfs at %s: %s\n", g_mnt, strerror(errno));
        rmdir(g_mnt);
        g_mnt[0] = '\0';
        return SKIP;
    }
    atexit(unmount_tmpfs); /* runs before smi_test.h removes the directory */
    return 0;
}

static unsigned long long free_blocks(void)
{
    struct statvfs v;
    ASSERT(statvfs(g_mnt, &v) == 0);
    return (unsigned long long)v.f_bfree;
}

static unsigned long long page_bytes(void)
{
    struct statvfs v;
    ASSERT(statvfs(g_mnt, &v) == 0);
    return (unsigned long long)v.f_frsize;
}

static struct stat stat_of(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        SMI_FAIL("stat %s: %s", path, strerror(errno));
    return st;
}

static void in_mnt(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", g_mnt, name);
}

/* (a) */
static void too_large_for_the_file_system(void)
{
    char big[512], small[512];
    in_mnt(big, sizeof big, "big.smi");
    unsigned long long free0 = free_blocks();
    /* Either layout: at least 20 MiB. */
    ASSERT_RC(IMAGESTREAM_NO_SPACE, SharedMemoryImageStream_createfile(big, 1000, 1000));
    ASSERT_MSG(smi_test_file_size(big) == -1, "createfile left a file of %lld bytes",
               smi_test_file_size(big));
    ASSERT_EQ(free_blocks(), free0);
    /* The extended layout alone: 4 KiB + 2 x 3 MiB. */
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = 1024;
    d.height = 1024;
    ASSERT_RC(IMAGESTREAM_NO_SPACE,
              SharedMemoryImageStream_createfilelayout(big, IMAGESTREAM_LAYOUT_EXTENDED, &d));
    ASSERT(smi_test_file_size(big) == -1);
    ASSERT_RC(IMAGESTREAM_NO_SPACE, SharedMemoryImageStream_createfileformat(big, &d));
    ASSERT(smi_test_file_size(big) == -1);
    ASSERT_EQ(free_blocks(), free0);

    /* An existing smaller file (of zeros: one a server may take) is neither
       grown nor changed. */
    in_mnt(small, sizeof small, "small.smi");
    uint8_t junk[100] = {0};
    smi_test_write_file(small, junk, sizeof junk);
    free0 = free_blocks();
    ASSERT_RC(IMAGESTREAM_NO_SPACE, SharedMemoryImageStream_createfile(small, 1000, 1000));
    size_t n;
    uint8_t *after = smi_test_read_file(small, &n);
    ASSERT_EQ(n, sizeof junk);
    ASSERT(memcmp(after, junk, sizeof junk) == 0);
    free(after);
    ASSERT_EQ(free_blocks(), free0);
    unlink(small);
    printf("  (a) createfile too large for a 2 MiB tmpfs: NO_SPACE, nothing left behind\n");
}

/* (b) */
static void a_file_that_fits_is_reserved(void)
{
    char path[512];
    in_mnt(path, sizeof path, "fits.smi");
    unsigned long long free0 = free_blocks();
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = 256;
    d.height = 256; /* 4 KiB + 2 x 192 KiB */
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &d));
    struct stat st = stat_of(path);
    ASSERT_EQ(st.st_size, 4096 + 2 * 196608);
    ASSERT_MSG((long long)st.st_blocks * 512 >= (long long)st.st_size,
               "only %lld of %lld bytes reserved", (long long)st.st_blocks * 512,
               (long long)st.st_size);
    ASSERT_GE((double)(free0 - free_blocks()), (double)st.st_size / (double)page_bytes());
    unlink(path);
    printf("  (b) createfile that fits reserves its %lld bytes\n", (long long)st.st_size);
}

/* A sparse file of `bytes` made by ftruncate: no block allocated. */
static void make_sparse(const char *path, off_t bytes)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT(fd >= 0);
    ASSERT(ftruncate(fd, bytes) == 0);
    close(fd);
    ASSERT_EQ(stat_of(path).st_blocks, 0);
}

/* (c) */
static void server_on_a_sparse_file(const char *path)
{
    unsigned long long free0 = free_blocks();
    pid_t pid = smi_test_fork("server on a sparse file");
    if (pid == 0) {
        SharedMemoryImageStream s = (SharedMemoryImageStream)(uintptr_t)1;
        ASSERT_RC(IMAGESTREAM_NO_SPACE,
                  SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &s));
        ASSERT(s == NULL);
        ASSERT_RC(IMAGESTREAM_NO_SPACE,
                  SharedMemoryImageStream_create(
                      path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s));
        ASSERT(s == NULL);
        exit(0);
    }
    int st = smi_test_join(pid, 20000);
    ASSERT_MSG(st != -1, "the server hung");
    ASSERT_MSG(st < 128, "the server died from signal %d (%s)", st - 128, strsignal(st - 128));
    ASSERT_MSG(st == 0, "the server failed (exit status %d)", st);
    ASSERT_EQ(free_blocks(), free0);
    ASSERT_EQ(stat_of(path).st_blocks, 0); /* nothing written */
    printf("  (c) server create on a 64 MiB sparse file: NO_SPACE, exit 0, nothing allocated\n");
}

/* (d) */
static void inspect_a_sparse_file(const char *path)
{
    unsigned long long free0 = free_blocks();
    pid_t pid = smi_test_fork("inspect of a sparse file");
    if (pid == 0) {
        SharedMemoryStreamInfo info;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
        ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_ENSIGHT); /* zero-filled: no frame yet */
        ASSERT_EQ(info.file_size, 64u << 20);
        ASSERT_EQ(info.buffers[0].state, 0);
        ASSERT_EQ(info.buffers[1].state, 0);
        exit(0);
    }
    int st = smi_test_join(pid, 20000);
    ASSERT_MSG(st < 128, "inspect died from signal %d (%s)", st - 128, strsignal(st - 128));
    ASSERT_MSG(st == 0, "inspect failed (exit status %d)", st);
    ASSERT_MSG(free_blocks() == free0, "inspect allocated %lld pages of the tmpfs",
               (long long)(free0 - free_blocks()));
    ASSERT_EQ(stat_of(path).st_blocks, 0);
    printf("  (d) inspect of the sparse file: NOERROR, nothing allocated\n");
}

/* (e) */
static void server_reserves_a_file_that_fits(void)
{
    char path[512];
    in_mnt(path, sizeof path, "sparse-fits.smi");
    make_sparse(path, 1 << 20);
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    ASSERT_MSG((long long)stat_of(path).st_blocks * 512 >= 1 << 20, "only %lld bytes reserved",
               (long long)stat_of(path).st_blocks * 512);
    uint8_t px[64 * 32 * 3];
    smi_fill(px, sizeof px, 9);
    struct _SharedMemoryFrame f = {9, 64, 32, px};
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(s, &f));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
    unlink(path);
    printf("  (e) server create reserves a sparse file that fits, and serves\n");
}

/* TestNoSpace [PARTS]: all parts, or those named (e.g. "cd"). */
int main(int argc, char **argv)
{
    const char *parts = argc > 1 ? argv[1] : "abcde";
    smi_test_watchdog(60);
    int rc = mount_small_tmpfs("2m");
    if (rc != 0)
        return rc;
    printf("tmpfs of %llu pages at %s\n", free_blocks(), g_mnt);
    if (strchr(parts, 'a'))
        too_large_for_the_file_system();
    if (strchr(parts, 'b'))
        a_file_that_fits_is_reserved();
    char sparse[512];
    in_mnt(sparse, sizeof sparse, "sparse.smi");
    make_sparse(sparse, 64 << 20);
    if (strchr(parts, 'c'))
        server_on_a_sparse_file(sparse);
    if (strchr(parts, 'd'))
        inspect_a_sparse_file(sparse);
    unlink(sparse);
    if (strchr(parts, 'e'))
        server_reserves_a_file_that_fits();
    printf("TestNoSpace: ok\n");
    return 0;
}
