/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_platform.h -- the thin operating-system layer: files, mappings, byte
 * locks that the kernel releases when a process dies, futexes, clocks, the
 * SIGBUS guard and fork(). Every call the library makes to the operating
 * system is made in smi_platform_linux.c, which implements this file; a
 * port implements this file. It calls nothing else of the library.
 */
#ifndef SMI_PLATFORM_H
#define SMI_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* ---- Opening files (Core/LAYOUT.md, "Opening files") ----------------------
   Stream files are input from other, possibly hostile, users: a file is used
   only when no other user can change it. By default an open refuses a
   symbolic link at the last component of the path (O_NOFOLLOW), anything
   but a regular file (the open is non-blocking, so a FIFO never makes it
   wait, until fstat has shown a regular file), a file whose owner is not the
   effective uid, and a file in a folder that another user may write (its
   owner is another user than the caller and root; or group or others may
   write it, or an access control list may let them) unless that folder is
   sticky and the caller's or root's. Group write counts as no other user's
   where the group is the owner's private group: the group named as the
   owner, the owner's primary group, with no other members in the group
   database nor in /etc/passwd (the passwd database beyond that file is not
   enumerated). Then the file is accepted when
   (a) neither others nor any group but that private group may write it
       (an access control list that may grant write counts as others), or
   (b) it has one name only and its folder is the caller's, and neither
       others nor any group but the private one may enter or write it (a
       mkdtemp folder, 0700).
   The folder is the one the file was opened in: the parent of the last
   component, opened first (O_PATH | O_DIRECTORY, following links in the
   folder components as any path lookup does), the file then opened in it
   with openat(); folders above it are not checked. */

/* smi_file_open() flags. */
#define SMI_FILE_ANY_OWNER 0x1 /* accept any owner, mode and folder (still no symbolic link) */
#define SMI_FILE_FOLLOW 0x2    /* follow a symbolic link at the last component */

/* The answer for a file refused by the rules above (a symbolic link found by
   O_NOFOLLOW, not a regular file, another owner, others may write it or
   replace it). Other failures are -errno (-ENOENT, -EACCES, -EISDIR, ...). */
#define SMI_FILE_UNSAFE (-100000)

/* What a failure of the calls below means, for the library's codes
   (smi_open_failure, smi_reserve_failure): the library never reads errno
   values itself. */
#define SMI_FAILED_OTHER 0
#define SMI_FAILED_MISSING 1  /* the file, or a folder on its path, does not exist */
#define SMI_FAILED_NO_SPACE 2 /* the file system has no room */

/* A failure (a negative answer) of smi_file_open(), smi_file_create() or
   smi_file_explain(): MISSING (-ENOENT, -ENOTDIR), NO_SPACE (no inode for a
   new file, or over quota: -ENOSPC, -EDQUOT), else OTHER. */
int smi_open_failure(int err);
/* A failure of smi_file_reserve() or smi_file_reserve_tail(): NO_SPACE for
   the answers it lists as such (-ENOSPC, -EFBIG, -EDQUOT, -ENOMEM), else
   OTHER. */
int smi_reserve_failure(int err);

/* Open an existing file read-write (or read-only), as above.
   Returns fd, SMI_FILE_UNSAFE, or -errno. */
int smi_file_open(const char *path, int writable, unsigned flags);
/* Create a new file read-write (O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600, in
   a folder that passes the rules above: a new file that does not is removed
   again); when it exists, open it with smi_file_open(path, 1, 0) instead.
   *created tells which. Returns fd, SMI_FILE_UNSAFE, or -errno. */
int smi_file_create(const char *path, int *created);

/* The file at `path`, links followed (as create() with ANYFILE opens it):
   0 with its device, inode and age in seconds since it was last modified,
   or -1 when there is none. */
int smi_file_identity(const char *path, uint64_t *device, uint64_t *inode, double *age);
/* Why smi_file_open(path, ..., flags) would refuse `path`: 0 when the rules
   above accept it, SMI_FILE_UNSAFE with one line in why[size] (always
   NUL-terminated) that names the rule and the fix (a chmod command), or
   -errno (a missing file: -ENOENT) with one line that says what the path is
   (no such folder, a folder, no permission) and what to do. Opens nothing
   for reading or writing (O_PATH), so it also explains files the caller may
   not open. */
int smi_file_explain(const char *path, unsigned flags, char *why, size_t size);
/* Remove `path` if it still names the file open as fd (a file this process
   created and now gives up). */
void smi_file_remove(const char *path, int fd);
/* Size of an open file, or -1 (also for anything but a regular file). */
int64_t smi_file_size(int fd);
/* Set the size of a file to `size` bytes (ftruncate). Returns 0 or -1. */
int smi_file_resize(int fd, uint64_t size);
/* Reserve the blocks of bytes [0, size) of a file, growing it to `size` if
   it is smaller, so that no later write into a mapping of it can fail for
   want of space (SIGBUS). Nothing of the file's contents changes. Where the
   file system cannot reserve blocks (no fallocate), the file is only grown.
   Returns 0; -ENOSPC (also when the file system's free space is plainly not
   enough: checked first, so a huge request fails at once instead of filling
   the disk), -EFBIG, -EDQUOT, -ENOMEM; or another -errno. */
int smi_file_reserve(int fd, uint64_t size);
/* The same for bytes [from, size) only, when [0, from) is reserved already
   (a server adding a buffer at the end of its file). */
int smi_file_reserve_tail(int fd, uint64_t from, uint64_t size);
void smi_file_close(int fd);

/* Reading and writing a file through its descriptor, never through a
   mapping: a file shrunk by another process gives a short count (or, for a
   write, grows the file again), never SIGBUS. */
typedef struct smi_iovec_t {
    void *base;
    size_t len;
} smi_iovec_t; /* one piece of memory: struct iovec */
/* Transfer the `count` pieces of iov in order, to (write) or from the file's
   bytes starting at `offset`, however many system calls it takes (iov is
   used up). Returns the bytes transferred (less than asked only when a read
   reached the end of the file), or -errno. */
int64_t smi_file_transfer(int fd, smi_iovec_t *iov, int count, uint64_t offset, int write);
/* Read n bytes at `offset` into buf: the bytes read (fewer at the end of the
   file), or -errno. */
int64_t smi_file_read(int fd, void *buf, uint64_t n, uint64_t offset);
/* Are all of the file's `size` first bytes zero (holes skipped without
   reading them)? 1 yes, 0 no, -errno. */
int smi_file_is_zero(int fd, uint64_t size);

/* Map `size` bytes of fd shared, writable or read-only. A writable mapping
   (a server's, over a file whose blocks smi_file_reserve() reserved) is
   prefaulted; a read-only one is not, since on tmpfs even a read fault on a
   hole allocates a page. Returns NULL on failure. */
void *smi_map(int fd, uint64_t size, int writable);
void smi_unmap(void *addr, uint64_t size);
/* A client's read-only mapping of `size` bytes of fd at the start of a range
   of `reserve` bytes of address space (reserve >= size; the rest stays
   inaccessible), so that smi_map_extend() can later map more of a growing
   file right after it, leaving the pages already mapped (and their page
   tables) as they are. Unmap the whole range with smi_unmap(p, reserve).
   Returns NULL on failure. */
void *smi_map_reserved(int fd, uint64_t size, uint64_t reserve);
/* Map bytes [old_size, new_size) of fd read-only at base + old_size, inside
   the range smi_map_reserved() made (new_size <= its reserve; old_size a
   multiple of the page size). 0, or -1 (the range is then as it was). */
int smi_map_extend(int fd, void *base, uint64_t old_size, uint64_t new_size);
/* Grow a writable mapping (made by smi_map(fd, old_size, 1)) to
   new_size bytes, moving it if need be; the new pages are prefaulted as
   smi_map's are (the old ones stay as they were). Returns the new address,
   or NULL (the old mapping is then left as it was). */
void *smi_remap_grow(void *addr, uint64_t old_size, uint64_t new_size);
/* Make [addr, addr+len) of a mapping writable (page-rounded outward). 0 or -1. */
int smi_protect_writable(void *base, uint64_t offset, uint64_t len);
/* Put private zero pages in the place of [addr, addr + size) of a mapping:
   the mapping lets go of its file (and so of the file's open file
   description, and the byte locks below), while pointers into the range
   stay valid and lead nowhere. */
void smi_map_forget(void *addr, uint64_t size);

/* ---- Accesses to a mapping that another process may shrink ----------------
   A page of a file mapping past the end of its file raises SIGBUS when it is
   touched, and any process that may write the file may shrink it at any
   moment. The library's own accesses to its mapping (headers, its frame
   copies) run under a guard: the process's SIGBUS action is the library's
   handler, which ends a guarded access that faults inside its region and
   makes every other SIGBUS take the course it would have taken without the
   library. It never handles those itself: it puts back the action it found
   (the program's, or the default) and lets the kernel deliver the signal
   again (a fault by running the access again; a sent signal by sending it
   again, its siginfo unchanged), so the default action, SIG_IGN,
   SA_RESETHAND, SA_SIGINFO, sa_mask and SA_ONSTACK all behave as the
   program set them. Each guarded run first checks (one sigaction call) that
   the handler is still the process's: a handler the program installed
   since, or the one it put back, becomes the one forwarded to. Another copy
   of this library in the same process (a static copy in a plugin) that
   holds the handler is left alone: that copy's runs are guarded, this
   copy's are not (SMI_GUARD_UNAVAILABLE). Core/LAYOUT.md, "Truncation and
   other changes of size", says what this does and does not cover. */

/* smi_guard_run() answers these besides fn's own answer. */
#define SMI_GUARD_FAULT (-200000)       /* fn touched a page past the end of its file */
#define SMI_GUARD_UNAVAILABLE (-200001) /* no guard here: fn did not run */

/* Run fn(ctx) guarded: if it touches a page of [*base, *base + *size) that
   lies past the end of its file, fn is abandoned at that access and
   SMI_GUARD_FAULT is answered (base and size are read at the moment of the
   fault: fn may move the mapping). fn must be abandonable at any access to
   the region: no lock held, no memory that only a local variable holds
   (memory kept in the stream handle is fine), nothing half-changed that a
   later call would trust. Guarded runs may nest. Returns fn's answer,
   SMI_GUARD_FAULT, or SMI_GUARD_UNAVAILABLE.
   trust_recent: skip the check that the handler is still the process's
   (the one sigaction call) when this copy of the library found it so less
   than SMI_GUARD_TRUST_NS ago: a run with no system call at all, for the
   calls a reader repeats in a loop (lock, wait). The price: a SIGBUS
   action the program installs is taken over again up to that much later,
   and a shrink in between that faults such a run goes to the program's
   action (Core/LAYOUT.md, "Truncation and other changes of size"). */
#define SMI_GUARD_TRUST_NS 10000000 /* 10 ms */
int smi_guard_run(uint8_t *const *base, const uint64_t *size, int (*fn)(void *ctx), void *ctx,
                  int trust_recent);

/* Byte locks on `offset` (which may be far past the end of the file), owned by
   the open file description of fd and dropped by the kernel when it closes. */
/* Try to take the lock: 0 taken, 1 someone else holds it, -1 error. */
int smi_bytelock_try(int fd, int64_t offset);
/* Release a lock this fd holds. */
void smi_bytelock_release(int fd, int64_t offset);
/* Is the byte locked by another open file description? 1 yes, 0 no, -1 error. */
int smi_bytelock_held(int fd, int64_t offset);

/* Sleep while *word == expected, at most timeout_ns (< 0: for ever).
   Returns 0 when woken or the value differs, 1 on timeout. Restarts after
   signals. The word lives in a shared file mapping (not process-private). */
int smi_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/* Wake every sleeper on the word. */
void smi_futex_wake(uint32_t *word);

/* Monotonic clock in nanoseconds (the vDSO's clock_gettime: no system
   call where the clock source allows, as TSC and kvm-clock do). */
int64_t smi_now_ns(void);

/* Tell the CPU this thread is spinning (x86 PAUSE, Arm YIELD). */
static inline void smi_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

/* UNIX time in seconds. */
double smi_unix_time(void);
/* Sleep for ns nanoseconds (signals do not shorten it much: it is a poll step). */
void smi_sleep_ns(int64_t ns);

/* ---- fork() ---------------------------------------------------------------
   A child shares its parent's open file descriptions, and with them the byte
   locks above: the library lets go of its files in a child (smi_fork.c). */

/* The fork lock: a fork() waits while another thread holds it, so a child
   never finds what it guards half changed. Not recursive. */
void smi_fork_lock(void);
void smi_fork_unlock(void);
/* From now on, have child() called in the child of every fork(), holding
   the fork lock (taken before the fork, released after child()). One per
   process: the first call's child is the one called. */
void smi_fork_watch(void (*child)(void));

#endif /* SMI_PLATFORM_H */
