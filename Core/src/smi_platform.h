/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_platform.h -- the thin operating-system layer: files, mappings, byte
 * locks that the kernel releases when a process dies, futexes and clocks.
 * Linux implements it in smi_platform_linux.c; a port implements this file.
 */
#ifndef SMI_PLATFORM_H
#define SMI_PLATFORM_H

#include <stdint.h>

/* Open an existing file read-write (or read-only). Returns fd or -1. */
int smi_file_open(const char *path, int writable);
/* Open or create (mode 0600) a file read-write. Returns fd or -1. */
int smi_file_create(const char *path);
/* Size of an open file, or -1. */
int64_t smi_file_size(int fd);
/* Grow a file to `size` bytes. Returns 0 or -1. */
int smi_file_grow(int fd, uint64_t size);
void smi_file_close(int fd);

/* Map `size` bytes of fd shared; writable or read-only; prefault the pages.
   Returns NULL on failure. */
void *smi_map(int fd, uint64_t size, int writable);
void smi_unmap(void *addr, uint64_t size);
/* Make [addr, addr+len) of a mapping writable (page-rounded outward). 0 or -1. */
int smi_protect_writable(void *base, uint64_t offset, uint64_t len);

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

/* Monotonic clock in nanoseconds. */
int64_t smi_now_ns(void);
/* UNIX time in seconds. */
double smi_unix_time(void);
/* Sleep for ns nanoseconds (signals do not shorten it much: it is a poll step). */
void smi_sleep_ns(int64_t ns);

#endif /* SMI_PLATFORM_H */
