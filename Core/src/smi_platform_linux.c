/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_platform_linux.c -- Linux implementation of smi_platform.h:
 * open-file-description locks (F_OFD_SETLK) for liveness and futexes on
 * the shared mapping for wake-ups.
 */
#include "smi_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int smi_file_open(const char *path, int writable)
{
    int fd;
    do {
        fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

int smi_file_create(const char *path)
{
    int fd;
    do {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

int64_t smi_file_size(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return (int64_t)st.st_size;
}

int smi_file_grow(int fd, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return -1;
    return ftruncate(fd, (off_t)size) == 0 ? 0 : -1;
}

void smi_file_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

void *smi_map(int fd, uint64_t size, int writable)
{
    if (size == 0 || size > (uint64_t)SIZE_MAX)
        return NULL;
    void *p = mmap(NULL, (size_t)size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                   MAP_SHARED | MAP_POPULATE, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

void smi_unmap(void *addr, uint64_t size)
{
    if (addr)
        munmap(addr, (size_t)size);
}

int smi_protect_writable(void *base, uint64_t offset, uint64_t len)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t start = offset / page * page;
    uint64_t end = (offset + len + page - 1) / page * page;
    return mprotect((uint8_t *)base + start, (size_t)(end - start), PROT_READ | PROT_WRITE) == 0
               ? 0
               : -1;
}

/* One fcntl() byte-lock call on `offset`; `fl` gets the kernel's answer. */
static int smi_byte_fcntl(int fd, int cmd, short type, int64_t offset, struct flock *fl)
{
    memset(fl, 0, sizeof *fl);
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = (off_t)offset;
    fl->l_len = 1;
    int rc;
    do {
        rc = fcntl(fd, cmd, fl);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

int smi_bytelock_try(int fd, int64_t offset)
{
    struct flock fl;
    if (smi_byte_fcntl(fd, F_OFD_SETLK, F_WRLCK, offset, &fl) == 0)
        return 0;
    return (errno == EAGAIN || errno == EACCES) ? 1 : -1;
}

void smi_bytelock_release(int fd, int64_t offset)
{
    struct flock fl;
    (void)smi_byte_fcntl(fd, F_OFD_SETLK, F_UNLCK, offset, &fl);
}

int smi_bytelock_held(int fd, int64_t offset)
{
    struct flock fl;
    if (smi_byte_fcntl(fd, F_OFD_GETLK, F_WRLCK, offset, &fl) != 0)
        return -1;
    return fl.l_type != F_UNLCK;
}

int64_t smi_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double smi_unix_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void smi_sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    nanosleep(&ts, NULL);
}

int smi_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    int64_t deadline = timeout_ns >= 0 ? smi_now_ns() + timeout_ns : 0;
    for (;;) {
        struct timespec ts, *tsp = NULL;
        if (timeout_ns >= 0) {
            int64_t left = deadline - smi_now_ns();
            if (left <= 0)
                return 1;
            ts.tv_sec = (time_t)(left / 1000000000);
            ts.tv_nsec = (long)(left % 1000000000);
            tsp = &ts;
        }
        /* Shared (not FUTEX_PRIVATE) futex: the word is in a file mapping
           that other processes sleep on too. */
        long rc = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, NULL, 0);
        if (rc == 0 || errno == EAGAIN)
            return 0;
        if (errno == ETIMEDOUT)
            return 1;
        if (errno != EINTR)
            return 0; /* unexpected: let the caller re-check its condition */
    }
}

void smi_futex_wake(uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
