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
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <time.h>
#include <unistd.h>

#ifdef MADV_POPULATE_WRITE
#define SMI_MADV_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define SMI_MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* The file open as fd passes the rules of smi_platform.h: 0, or
   SMI_FILE_UNSAFE. A directory gives -EISDIR, as opening it writable does. */
static int smi_file_check(int fd, unsigned flags)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!S_ISREG(st.st_mode))
        return SMI_FILE_UNSAFE;
    if (!(flags & SMI_FILE_ANY_OWNER) && (st.st_uid != geteuid() || (st.st_mode & 022) != 0))
        return SMI_FILE_UNSAFE;
    return 0;
}

/* Check the file just opened as fd, then make it blocking again. Returns fd,
   or a negative answer (and fd is closed). */
static int smi_file_accept(int fd, unsigned flags)
{
    int rc = smi_file_check(fd, flags);
    if (rc == 0) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
            rc = -errno;
    }
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int smi_file_open(const char *path, int writable, unsigned flags)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (nor a device
       for its carrier); fstat then refuses both. */
    int oflags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    if (!(flags & SMI_FILE_FOLLOW))
        oflags |= O_NOFOLLOW;
    int fd;
    do {
        fd = open(path, oflags);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        if (errno == ELOOP && !(flags & SMI_FILE_FOLLOW))
            return SMI_FILE_UNSAFE; /* O_NOFOLLOW met a symbolic link */
        if (errno == ENXIO || errno == ENODEV)
            return SMI_FILE_UNSAFE; /* a socket, or a device without a driver */
        return -errno;
    }
    return smi_file_accept(fd, flags);
}

int smi_file_create(const char *path, int *created)
{
    *created = 0;
    /* A file that another process removes between the two opens is made
       again; a few rounds, not for ever. */
    for (int round = 0; round < 8; round++) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
        if (fd >= 0) {
            /* Ours by construction, unless the file system imposes an owner
               or a mode (vfat, CIFS): then it is refused, and not left. */
            if (smi_file_check(fd, 0) != 0)
                smi_file_remove(path, fd);
            fd = smi_file_accept(fd, 0);
            if (fd >= 0)
                *created = 1;
            return fd;
        }
        if (errno == EINTR)
            continue;
        if (errno != EEXIST)
            return -errno;
        /* It exists (a file, or a symbolic link: O_EXCL never follows one). */
        fd = smi_file_open(path, 1, 0);
        if (fd != -ENOENT)
            return fd;
    }
    return -EAGAIN;
}

void smi_file_remove(const char *path, int fd)
{
    struct stat by_fd, by_name;
    if (fstat(fd, &by_fd) == 0 && lstat(path, &by_name) == 0 && by_fd.st_dev == by_name.st_dev &&
        by_fd.st_ino == by_name.st_ino)
        unlink(path);
}

int64_t smi_file_size(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return (int64_t)st.st_size;
}

int smi_file_resize(int fd, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return -1;
    return ftruncate(fd, (off_t)size) == 0 ? 0 : -1;
}

int smi_file_reserve(int fd, uint64_t size)
{
    return smi_file_reserve_tail(fd, 0, size);
}

int smi_file_reserve_tail(int fd, uint64_t from, uint64_t size)
{
    struct stat st;
    if (from > size)
        from = size;
    if (size > (uint64_t)INT64_MAX)
        return -EFBIG;
    if (fstat(fd, &st) != 0)
        return -errno;
    /* Plainly more than the file system has free: say so at once. Trying
       would fill the disk first on some file systems (ext4 allocates until
       it runs out, then fails). */
    struct statvfs vfs;
    uint64_t have = (uint64_t)st.st_blocks * 512u;
    if (fstatvfs(fd, &vfs) == 0 && vfs.f_blocks != 0 && size > have) {
        /* (root may use the blocks some file systems keep back) */
        uint64_t blocks = geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail, free_bytes;
        if (!__builtin_mul_overflow(blocks, (uint64_t)vfs.f_frsize, &free_bytes) &&
            size - have > free_bytes)
            return -ENOSPC;
    }
    int rc;
    do {
        rc = fallocate(fd, 0, (off_t)from, (off_t)(size - from));
    } while (rc != 0 && errno == EINTR);
    if (rc == 0)
        return 0;
    if (errno != EOPNOTSUPP && errno != ENOSYS)
        return -errno;
    /* No fallocate here (some network and FUSE file systems): only grow. */
    if ((uint64_t)st.st_size < size && ftruncate(fd, (off_t)size) != 0)
        return -errno;
    return 0;
}

void smi_file_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* One pread/pwrite family call, restarted after signals; the rest of a
   partial transfer is done by the loop of the caller. */
static ssize_t smi_file_io(int fd, const smi_iovec_t *iov, int count, uint64_t offset, int write)
{
    ssize_t n;
    do {
        n = write ? pwritev(fd, (const struct iovec *)iov, count, (off_t)offset)
                  : preadv(fd, (const struct iovec *)iov, count, (off_t)offset);
    } while (n < 0 && errno == EINTR);
    return n;
}

_Static_assert(sizeof(smi_iovec_t) == sizeof(struct iovec) &&
                   offsetof(smi_iovec_t, base) == offsetof(struct iovec, iov_base) &&
                   offsetof(smi_iovec_t, len) == offsetof(struct iovec, iov_len),
               "smi_iovec_t is struct iovec");

int64_t smi_file_transfer(int fd, smi_iovec_t *iov, int count, uint64_t offset, int write)
{
    uint64_t done = 0;
    while (count > 0) {
        int batch = count < IOV_MAX ? count : IOV_MAX;
        ssize_t n = smi_file_io(fd, iov, batch, offset + done, write);
        if (n < 0)
            return -errno;
        if (n == 0)
            return (int64_t)done; /* end of file (a read) */
        done += (uint64_t)n;
        /* Step over what was transferred; a partial vector is trimmed. */
        while (count > 0 && (size_t)n >= iov->len) {
            n -= (ssize_t)iov->len;
            iov++;
            count--;
        }
        if (count > 0 && n > 0) {
            iov->base = (uint8_t *)iov->base + n;
            iov->len -= (size_t)n;
        }
    }
    return (int64_t)done;
}

int64_t smi_file_read(int fd, void *buf, uint64_t n, uint64_t offset)
{
    smi_iovec_t v = {buf, (size_t)n}; /* (the transfer goes on past a partial read) */
    return smi_file_transfer(fd, &v, 1, offset, 0);
}

void *smi_map(int fd, uint64_t size, int writable)
{
    if (size == 0 || size > (uint64_t)SIZE_MAX)
        return NULL;
    /* Only the writable mapping is prefaulted: its file's blocks are
       reserved. Prefaulting a read-only mapping would allocate a page for
       every hole of a sparse tmpfs file (and fill the file system). */
    void *p = mmap(NULL, (size_t)size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                   MAP_SHARED | (writable ? MAP_POPULATE : 0), fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

void *smi_remap_grow(void *addr, uint64_t old_size, uint64_t new_size)
{
    if (new_size <= old_size || new_size > (uint64_t)SIZE_MAX)
        return NULL;
    /* The mapping grows in place or moves whole (page tables and all):
       only the new part needs prefaulting. A new mapping of the whole file
       instead costs its page tables anew, 14 ms for a 200 MB file. */
    uint8_t *p = mremap(addr, (size_t)old_size, (size_t)new_size, MREMAP_MAYMOVE);
    if (p == MAP_FAILED)
        return NULL;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t from = old_size / page * page;
    (void)madvise(p + from, (size_t)(new_size - from), SMI_MADV_POPULATE_WRITE);
    /* (kernels before 5.14 answer EINVAL: the pages then fault in on first
       write, as they do for any renderer's first frame) */
    return p;
}

void *smi_map_reserved(int fd, uint64_t size, uint64_t reserve)
{
    if (size == 0 || reserve < size || reserve > (uint64_t)SIZE_MAX)
        return NULL;
    uint8_t *p = mmap(NULL, (size_t)reserve, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (mmap(p, (size_t)size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
        munmap(p, (size_t)reserve);
        return NULL;
    }
    return p;
}

int smi_map_extend(int fd, void *base, uint64_t old_size, uint64_t new_size)
{
    if (new_size <= old_size || old_size % (uint64_t)sysconf(_SC_PAGESIZE) != 0)
        return -1;
    /* MAP_FIXED over this stream's own reserved (PROT_NONE) pages. */
    void *at = (uint8_t *)base + old_size;
    return mmap(at, (size_t)(new_size - old_size), PROT_READ, MAP_SHARED | MAP_FIXED, fd,
                (off_t)old_size) == MAP_FAILED
               ? -1
               : 0;
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

/* ---- The SIGBUS guard (smi_platform.h) ----------------------------------- */

/* One guarded run of a thread, on that thread's stack. */
typedef struct smi_guard_frame_t {
    sigjmp_buf jump;
    uint8_t *const *base;
    const uint64_t *size;
    struct smi_guard_frame_t *outer;
    sigset_t mask; /* the thread's signal mask at the fault (the handler's copy) */
} smi_guard_frame_t;

/* The innermost guarded run of this thread. initial-exec: the handler reads
   it in any thread, and a dynamic TLS access there could allocate. */
static __thread smi_guard_frame_t *smi_guard_top __attribute__((tls_model("initial-exec")));

/* The action the handler found when it took SIGBUS over: what it puts back
   for any SIGBUS that is not a guarded fault. Two copies, so that the
   handler never reads one being written (the index says which is current). */
static struct sigaction smi_guard_prev[2];
static int smi_guard_index;
static pthread_mutex_t smi_guard_mutex = PTHREAD_MUTEX_INITIALIZER;

static void smi_guard_handler(int sig, siginfo_t *info, void *context);

/* The handler's sa_mask: SIGURG and SIGWINCH besides SIGBUS, a mark by
   which copies of this library recognize each other's handler (blocking
   them for the few instructions the handler runs delays them at most). */
static void smi_guard_mask(sigset_t *mask)
{
    sigemptyset(mask);
    sigaddset(mask, SIGURG);
    sigaddset(mask, SIGWINCH);
}

static int smi_guard_is_ours(const struct sigaction *a)
{
    return (a->sa_flags & SA_SIGINFO) && a->sa_sigaction == smi_guard_handler;
}

/* Another copy's handler: SA_SIGINFO and exactly the mark as its mask. */
static int smi_guard_is_sibling(const struct sigaction *a)
{
    if (!(a->sa_flags & SA_SIGINFO) || smi_guard_is_ours(a))
        return 0;
    for (int sig = 1; sig < SIGRTMIN; sig++)
        if (sigismember(&a->sa_mask, sig) != (sig == SIGURG || sig == SIGWINCH))
            return 0;
    return 1;
}

/* Does running the access again raise this SIGBUS again? (A fault of the
   access itself; not a signal another process or thread sent.) */
static int smi_guard_repeats(const siginfo_t *info)
{
    switch (info->si_code) {
    case BUS_ADRALN:
    case BUS_ADRERR:
    case BUS_OBJERR:
#ifdef BUS_MCEERR_AR
    case BUS_MCEERR_AR:
#endif
        return 1;
    default:
        return 0;
    }
}

/* A SIGBUS that is not a guarded fault: put back the action found and let
   the kernel deliver it again, as if the library had never been there. A
   fault happens again when the handler returns; a sent signal is sent again
   to this thread with its siginfo, and stays pending (SIGBUS is blocked
   while the handler runs) until the handler returns. */
static void smi_guard_step_aside(int sig, siginfo_t *info)
{
    int saved = errno;
    int i = __atomic_load_n(&smi_guard_index, __ATOMIC_ACQUIRE);
    sigaction(sig, &smi_guard_prev[i], NULL);
    if (!smi_guard_repeats(info))
        syscall(SYS_rt_tgsigqueueinfo, (long)getpid(), (long)syscall(SYS_gettid), (long)sig, info);
    errno = saved;
}

static void smi_guard_handler(int sig, siginfo_t *info, void *context)
{
    if (info->si_code == BUS_ADRERR) { /* a page past the end of its file */
        const uint8_t *at = (const uint8_t *)info->si_addr;
        for (smi_guard_frame_t *g = smi_guard_top; g; g = g->outer) {
            const uint8_t *lo = *g->base;
            if (lo && at >= lo && (uint64_t)(at - lo) < *g->size) {
                g->mask = ((const ucontext_t *)context)->uc_sigmask;
                siglongjmp(g->jump, 1);
            }
        }
    }
    smi_guard_step_aside(sig, info);
}

/* Make the library's handler the process's SIGBUS action, if it is not:
   1 it is, 0 it cannot be (another copy's handler is there, or sigaction
   failed). One sigaction call when it already is. */
static int smi_guard_take(void)
{
    struct sigaction cur;
    if (sigaction(SIGBUS, NULL, &cur) != 0)
        return 0;
    if (smi_guard_is_ours(&cur))
        return 1;
    if (smi_guard_is_sibling(&cur))
        return 0;
    struct sigaction ours, was;
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = smi_guard_handler;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK | (cur.sa_flags & SA_RESTART);
    smi_guard_mask(&ours.sa_mask);
    int taken = 0;
    pthread_mutex_lock(&smi_guard_mutex);
    /* The action to put back is stored before the handler can run. */
    int next = !__atomic_load_n(&smi_guard_index, __ATOMIC_RELAXED);
    smi_guard_prev[next] = cur;
    __atomic_store_n(&smi_guard_index, next, __ATOMIC_RELEASE);
    if (sigaction(SIGBUS, &ours, &was) == 0) {
        taken = 1;
        if (smi_guard_is_sibling(&was)) { /* another copy came first after all */
            sigaction(SIGBUS, &was, NULL);
            taken = 0;
        } else if (!smi_guard_is_ours(&was) &&
                   (was.sa_sigaction != cur.sa_sigaction || was.sa_flags != cur.sa_flags)) {
            smi_guard_prev[!next] = was; /* changed since it was read */
            __atomic_store_n(&smi_guard_index, !next, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&smi_guard_mutex);
    return taken;
}

int smi_guard_run(uint8_t *const *base, const uint64_t *size, int (*fn)(void *ctx), void *ctx)
{
    if (!smi_guard_take())
        return SMI_GUARD_UNAVAILABLE;
    smi_guard_frame_t g;
    g.base = base;
    g.size = size;
    g.outer = smi_guard_top;
    if (sigsetjmp(g.jump, 0) != 0) {
        /* The handler jumped here, its signals still blocked: the thread's
           mask goes back to what it was at the fault. */
        smi_guard_top = g.outer;
        pthread_sigmask(SIG_SETMASK, &g.mask, NULL);
        return SMI_GUARD_FAULT;
    }
    smi_guard_top = &g;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    int rc = fn(ctx);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    smi_guard_top = g.outer;
    return rc;
}

/* A library unloaded (dlclose) must not leave its handler as the process's
   action: put back the one it found. */
__attribute__((destructor)) static void smi_guard_unload(void)
{
    struct sigaction cur;
    if (sigaction(SIGBUS, NULL, &cur) == 0 && smi_guard_is_ours(&cur))
        sigaction(SIGBUS, &smi_guard_prev[__atomic_load_n(&smi_guard_index, __ATOMIC_ACQUIRE)],
                  NULL);
}
