/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_platform_linux.c -- Linux implementation of smi_platform.h:
 * open-file-description locks (F_OFD_SETLK) for liveness and futexes on
 * the shared mapping for wake-ups.
 */
#include "smi_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/xattr.h>
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

/* ---- Opening files: the rules of smi_platform.h -------------------------- */

/* Which rule refused a file (SMI_WHY_OK: none). */
enum {
    SMI_WHY_OK,
    SMI_WHY_LINK,          /* a symbolic link at the last component */
    SMI_WHY_NOT_REGULAR,   /* a FIFO, socket or device */
    SMI_WHY_OWNER,         /* another owner than the effective uid */
    SMI_WHY_FOLDER_OWNER,  /* its folder is another user's (not root's) */
    SMI_WHY_FOLDER_WRITE,  /* its folder lets other users write, not sticky */
    SMI_WHY_FILE_OTHERS,   /* others may write the file */
    SMI_WHY_FILE_GROUP     /* a group that is not the owner's private one, or an ACL */
};

/* getpwuid_r/getgrgid_r into a growing buffer (a group with many members
   needs more than sysconf's hint): 0 found, -1 not found or error. */
static int smi_lookup_user(uid_t uid, struct passwd *pw, char **buf)
{
    size_t n = 1024;
    for (;;) {
        char *b = realloc(*buf, n);
        if (!b)
            return -1;
        *buf = b;
        struct passwd *found = NULL;
        int rc = getpwuid_r(uid, pw, b, n, &found);
        if (rc == ERANGE && n < ((size_t)1 << 22)) {
            n *= 4;
            continue;
        }
        return rc == 0 && found ? 0 : -1;
    }
}

static int smi_lookup_group(gid_t gid, struct group *gr, char **buf)
{
    size_t n = 4096;
    for (;;) {
        char *b = realloc(*buf, n);
        if (!b)
            return -1;
        *buf = b;
        struct group *found = NULL;
        int rc = getgrgid_r(gid, gr, b, n, &found);
        if (rc == ERANGE && n < ((size_t)1 << 24)) {
            n *= 4;
            continue;
        }
        return rc == 0 && found ? 0 : -1;
    }
}

/* Is `gid` the private group of user `owner` (the group named as the
   owner, the owner's primary group, no member but the owner in the group
   database, no other user of /etc/passwd with it as primary group)? NULL
   when it is; else why not, for a message. The passwd database is read
   beyond /etc/passwd only for the owner (getpwuid_r): enumerating it
   (LDAP, say) could take long, and getpwent is not thread-safe. */
static const char *smi_group_not_private(gid_t gid, uid_t owner)
{
    char *ubuf = NULL, *gbuf = NULL;
    struct passwd pw;
    struct group gr;
    const char *why = NULL;
    if (smi_lookup_user(owner, &pw, &ubuf) != 0)
        why = "the owner has no entry in the user database";
    else if (pw.pw_gid != gid)
        why = "it is not the owner's primary group";
    else if (smi_lookup_group(gid, &gr, &gbuf) != 0)
        why = "it has no entry in the group database";
    else if (strcmp(gr.gr_name, pw.pw_name) != 0)
        why = "it is not named as its owner";
    for (char **m = why ? NULL : gr.gr_mem; m && *m; m++)
        if (strcmp(*m, pw.pw_name) != 0)
            why = "it has other members";
    if (!why) {
        FILE *f = fopen("/etc/passwd", "re");
        if (f) {
            char line[4096];
            struct passwd e, *ep;
            int rc;
            while ((rc = fgetpwent_r(f, &e, line, sizeof line, &ep)) == 0)
                if (e.pw_gid == gid && e.pw_uid != owner) {
                    why = "another user has it as primary group";
                    break;
                }
            if (!why && rc != ENOENT)
                why = "/etc/passwd could not be read to the end";
            fclose(f);
        }
    }
    free(ubuf);
    free(gbuf);
    return why;
}

/* Has the file or folder open as fd (O_PATH too) a POSIX access control
   list? Its group bits are then the ACL's mask, which may grant other named
   users and groups. What cannot be learned counts as a list. */
static int smi_has_acl(int fd)
{
    ssize_t n = fgetxattr(fd, "system.posix_acl_access", NULL, 0);
    if (n < 0 && errno == EBADF) { /* an O_PATH descriptor */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        n = getxattr(proc, "system.posix_acl_access", NULL, 0);
    }
    if (n >= 0)
        return n > 0;
    return !(errno == ENODATA || errno == ENOTSUP);
}

/* May a user other than the owner of st (open as fd) use it as `bits` say
   (02 write; 03 write or enter), through the others' or the group's bits?
   The owner's private group is the owner's own, unless an ACL is there.
   *group_why, when given, gets why the group counts (NULL: the others'
   bits, or an ACL). */
static int smi_others_may(const struct stat *st, int fd, mode_t bits, const char **group_why)
{
    if (group_why)
        *group_why = NULL;
    if (st->st_mode & bits)
        return 1;
    if (!(st->st_mode & (bits << 3)))
        return 0;
    if (smi_has_acl(fd))
        return 1;
    const char *why = smi_group_not_private(st->st_gid, st->st_uid);
    if (group_why)
        *group_why = why;
    return why != NULL;
}

/* The rules of smi_platform.h for the file open as fd in the folder open as
   dir (or -1: the name ends in "/", "." or ".."; it is no regular file).
   SMI_WHY_*, or -errno; a directory gives -EISDIR, as opening it writable
   does. */
static int smi_file_verdict(int fd, int dir, unsigned flags)
{
    struct stat st, ds;
    if (fstat(fd, &st) != 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (S_ISLNK(st.st_mode))
        return SMI_WHY_LINK; /* (explain's O_PATH | O_NOFOLLOW open) */
    if (!S_ISREG(st.st_mode))
        return SMI_WHY_NOT_REGULAR;
    if (flags & SMI_FILE_ANY_OWNER)
        return SMI_WHY_OK;
    uid_t me = geteuid();
    if (st.st_uid != me)
        return SMI_WHY_OWNER;
    if (dir < 0 || fstat(dir, &ds) != 0)
        return SMI_WHY_FOLDER_WRITE; /* (not reached: a regular file has a folder) */
    /* Who could rename or replace the file between a check and a use: the
       folder's owner and whoever may write it, unless it is sticky. */
    if (ds.st_uid != me && ds.st_uid != 0)
        return SMI_WHY_FOLDER_OWNER;
    if (!(ds.st_mode & S_ISVTX) && smi_others_may(&ds, dir, 02, NULL))
        return SMI_WHY_FOLDER_WRITE;
    /* (b) nobody else can reach it: one name, in a folder of the caller's
       that nobody else may enter or write. */
    if (ds.st_uid == me && st.st_nlink == 1 && !smi_others_may(&ds, dir, 03, NULL))
        return SMI_WHY_OK;
    /* (a) nobody else may write it. */
    if (st.st_mode & 002)
        return SMI_WHY_FILE_OTHERS;
    if (smi_others_may(&st, fd, 02, NULL))
        return SMI_WHY_FILE_GROUP;
    return SMI_WHY_OK;
}

/* The answer of smi_file_open() for a verdict. */
static int smi_verdict_code(int why)
{
    return why < 0 ? why : why == SMI_WHY_OK ? 0 : SMI_FILE_UNSAFE;
}

/* Open, as O_PATH | O_DIRECTORY, the folder that holds the last component of
   `path` (following links on the way, as a lookup of the path does); *base
   is that component. -1 (no folder) for a name ending in "/", "." or "..";
   else the descriptor or -errno. */
static int smi_open_folder(const char *path, const char **base, int *fd)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    *fd = -1;
    if (**base == '\0' || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
        return 0;
    size_t n = slash ? (size_t)(slash - path) : 0;
    char *dir = malloc(n + 2);
    if (!dir)
        return -ENOMEM;
    if (!slash)
        strcpy(dir, ".");
    else if (n == 0)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int d;
    do {
        d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    } while (d < 0 && errno == EINTR);
    int err = errno;
    free(dir);
    if (d < 0)
        return -err;
    *fd = d;
    return 0;
}

/* openat() restarted after signals; a symbolic link found by O_NOFOLLOW, a
   socket or a device without a driver is SMI_FILE_UNSAFE. */
static int smi_openat(int dir, const char *name, int oflags, mode_t mode)
{
    int fd;
    do {
        fd = openat(dir, name, oflags, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd >= 0)
        return fd;
    if (errno == ELOOP && (oflags & O_NOFOLLOW))
        return SMI_FILE_UNSAFE;
    if (errno == ENXIO || errno == ENODEV)
        return SMI_FILE_UNSAFE;
    return -errno;
}

/* Check the file just opened as fd (in folder dir), then make it blocking
   again. Returns fd, or a negative answer (and fd is closed). */
static int smi_file_accept(int fd, int dir, unsigned flags)
{
    int rc = smi_verdict_code(smi_file_verdict(fd, dir, flags));
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
    const char *base = path;
    int dir = -1;
    if (!(flags & SMI_FILE_ANY_OWNER)) {
        /* The folder first, then the file in it: the folder checked is the
           one the file was found in, whatever is renamed meanwhile. */
        int err = smi_open_folder(path, &base, &dir);
        if (err < 0)
            return err;
    }
    int fd = smi_openat(dir >= 0 ? dir : AT_FDCWD, dir >= 0 ? base : path, oflags, 0);
    if (fd >= 0)
        fd = smi_file_accept(fd, dir, flags);
    if (dir >= 0)
        close(dir);
    return fd;
}

int smi_file_create(const char *path, int *created)
{
    *created = 0;
    /* A file that another process removes between the two opens is made
       again; a few rounds, not for ever. */
    for (int round = 0; round < 8; round++) {
        const char *base;
        int dir;
        int err = smi_open_folder(path, &base, &dir);
        if (err < 0)
            return err;
        if (dir < 0)
            return -EISDIR; /* a name ending in "/", "." or ".." */
        int fd = smi_openat(dir, base,
                            O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
        if (fd >= 0) {
            /* Ours by construction, unless the folder lets others replace
               it or the file system imposes an owner or a mode (vfat,
               CIFS): then it is refused, and not left. */
            if (smi_file_verdict(fd, dir, 0) != SMI_WHY_OK) {
                struct stat by_fd, by_name;
                if (fstat(fd, &by_fd) == 0 &&
                    fstatat(dir, base, &by_name, AT_SYMLINK_NOFOLLOW) == 0 &&
                    by_fd.st_dev == by_name.st_dev && by_fd.st_ino == by_name.st_ino)
                    unlinkat(dir, base, 0);
            }
            fd = smi_file_accept(fd, dir, 0);
            close(dir);
            if (fd >= 0)
                *created = 1;
            return fd;
        }
        close(dir);
        if (fd != -EEXIST)
            return fd;
        /* It exists (a file, or a symbolic link: O_EXCL never follows one). */
        fd = smi_file_open(path, 1, 0);
        if (fd != -ENOENT)
            return fd;
    }
    return -EAGAIN;
}

/* The name of user `uid` for a message ("uid N" when it has none). */
static void smi_user_name(uid_t uid, char *out, size_t size)
{
    char *buf = NULL;
    struct passwd pw;
    if (smi_lookup_user(uid, &pw, &buf) == 0)
        snprintf(out, size, "%s", pw.pw_name);
    else
        snprintf(out, size, "uid %u", (unsigned)uid);
    free(buf);
}

/* The name of group `gid` for a message. */
static void smi_group_name(gid_t gid, char *out, size_t size)
{
    char *buf = NULL;
    struct group gr;
    if (smi_lookup_group(gid, &gr, &buf) == 0)
        snprintf(out, size, "%s", gr.gr_name);
    else
        snprintf(out, size, "gid %u", (unsigned)gid);
    free(buf);
}

/* The folder of `path` as the caller named it ("." for a bare name). */
static void smi_folder_of(const char *path, char *folder, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(folder, size, ".");
    else if (slash == path)
        snprintf(folder, size, "/");
    else
        snprintf(folder, size, "%.*s", (int)(slash - path), path);
}

/* "PATH is a folder": what to name instead (a file in it). */
static void smi_folder_text(const char *path, char *out, size_t size)
{
    int n = (int)strlen(path);
    while (n > 1 && path[n - 1] == '/')
        --n;
    snprintf(out, size, "%s is a folder, not a stream file: name a file in it, e.g. %.*s/view.smi",
             path, (n == 1 && path[0] == '/') ? 0 : n, path);
}

/* One line for a refusal: the rule and the fix. */
static void smi_file_why_text(int why, const char *path, int fd, int dir, char *out, size_t size)
{
    struct stat st, ds;
    memset(&st, 0, sizeof st);
    memset(&ds, 0, sizeof ds);
    (void)fstat(fd, &st);
    if (dir >= 0)
        (void)fstat(dir, &ds);
    char folder[PATH_MAX];
    smi_folder_of(path, folder, sizeof folder);
    char who[256], grp[256], alone[PATH_MAX + 96];
    const char *gwhy = NULL;
    /* Rule (b), as a way out: the caller's folder closed to others. */
    if (dir >= 0 && ds.st_uid == geteuid() && !(ds.st_mode & S_ISVTX))
        snprintf(alone, sizeof alone, "keep it in a folder only you can enter: chmod 700 %s",
                 folder);
    else
        snprintf(alone, sizeof alone, "move it into a folder of yours that only you can enter");
    unsigned mode = (unsigned)(st.st_mode & 07777), dmode = (unsigned)(ds.st_mode & 07777);
    switch (why) {
    case SMI_WHY_LINK:
        snprintf(out, size,
                 "%s is a symbolic link (never followed at the last component of a path): "
                 "name the file itself (readlink -f %s)",
                 path, path);
        break;
    case SMI_WHY_NOT_REGULAR:
        if (S_ISDIR(st.st_mode))
            smi_folder_text(path, out, size);
        else
            snprintf(out, size, "%s is %s, not a regular file", path,
                     S_ISFIFO(st.st_mode)   ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "a device");
        break;
    case SMI_WHY_OWNER:
        smi_user_name(st.st_uid, who, sizeof who);
        snprintf(out, size,
                 "%s belongs to %s, not to this process's user (uid %u): only its owner uses "
                 "it; use a file of your own",
                 path, who, (unsigned)geteuid());
        break;
    case SMI_WHY_FOLDER_OWNER:
        smi_user_name(ds.st_uid, who, sizeof who);
        snprintf(out, size,
                 "its folder %s belongs to %s, who could replace the file between the check "
                 "and the use: keep the file in a folder of your own",
                 folder, who);
        break;
    case SMI_WHY_FOLDER_WRITE:
        if (ds.st_mode & 002) {
            snprintf(out, size,
                     "its folder %s (mode %04o) lets others write it and is not sticky: they "
                     "could replace the file; chmod o-w %s (or chmod +t %s)",
                     folder, dmode, folder, folder);
        } else {
            (void)smi_others_may(&ds, dir, 02, &gwhy);
            smi_group_name(ds.st_gid, grp, sizeof grp);
            snprintf(out, size,
                     "its folder %s (mode %04o) lets group %s write it (%s) and is not sticky: "
                     "its members could replace the file; chmod g-w %s",
                     folder, dmode, grp,
                     gwhy ? gwhy : "an access control list may grant others", folder);
        }
        break;
    case SMI_WHY_FILE_OTHERS:
        snprintf(out, size, "%s (mode %04o) is writable by others: chmod o-w %s (or %s)", path,
                 mode, path, alone);
        break;
    case SMI_WHY_FILE_GROUP:
        (void)smi_others_may(&st, fd, 02, &gwhy);
        smi_group_name(st.st_gid, grp, sizeof grp);
        snprintf(out, size,
                 "%s (mode %04o) is writable by group %s, which is not its owner's private "
                 "group (%s)%s: chmod g-w %s (or %s)",
                 path, mode, grp, gwhy ? gwhy : "an access control list may grant others",
                 st.st_nlink > 1 ? ", and it has other names" : "", path, alone);
        break;
    default: snprintf(out, size, "%s is accepted", path); break;
    }
}

/* One line for a path that could not be opened for the system's reason
   `err` (-errno): what the path is and what to do. */
static void smi_file_error_text(const char *path, int err, char *out, size_t size)
{
    char folder[PATH_MAX];
    struct stat st;
    smi_folder_of(path, folder, sizeof folder);
    switch (err) {
    case -ENOENT:
        if (stat(folder, &st) != 0)
            snprintf(out, size,
                     "the folder %s does not exist: create it with mkdir -p %s, or name a "
                     "file in a folder that exists",
                     folder, folder);
        else
            snprintf(out, size,
                     "%s does not exist yet: start its server first, e.g. smi-publish %s, "
                     "or check the name",
                     path, path);
        break;
    case -ENOTDIR:
        snprintf(out, size, "%s: a part of the path is not a folder: check the path", path);
        break;
    case -EISDIR: smi_folder_text(path, out, size); break;
    case -EACCES:
    case -EPERM:
        snprintf(out, size,
                 "%s: permission denied: its mode, or its folder's, does not let this user, "
                 "uid %u, open it; see ls -ld %s %s",
                 path, (unsigned)geteuid(), folder, path);
        break;
    default: snprintf(out, size, "%s: %s", path, strerror(-err)); break;
    }
}

int smi_file_explain(const char *path, unsigned flags, char *why, size_t size)
{
    char none[1];
    if (!why || size == 0) {
        why = none;
        size = sizeof none;
    }
    why[0] = '\0';
    const char *base = path;
    int dir = -1;
    if (!(flags & SMI_FILE_ANY_OWNER)) {
        int err = smi_open_folder(path, &base, &dir);
        if (err < 0) {
            smi_file_error_text(path, err, why, size);
            return err;
        }
    }
    /* O_PATH opens nothing for reading or writing, never waits on a FIFO,
       and with O_NOFOLLOW gives the link itself. */
    int oflags = O_PATH | O_CLOEXEC | ((flags & SMI_FILE_FOLLOW) ? 0 : O_NOFOLLOW);
    int fd = smi_openat(dir >= 0 ? dir : AT_FDCWD, dir >= 0 ? base : path, oflags, 0);
    int rc = fd;
    if (fd >= 0) {
        int verdict = smi_file_verdict(fd, dir, flags);
        rc = smi_verdict_code(verdict);
        if (rc == SMI_FILE_UNSAFE)
            smi_file_why_text(verdict, path, fd, dir, why, size);
        close(fd);
    }
    if (dir >= 0)
        close(dir);
    if (rc < 0 && rc != SMI_FILE_UNSAFE)
        smi_file_error_text(path, rc, why, size);
    return rc;
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

int smi_open_failure(int err)
{
    switch (err) {
    case -ENOENT:
    case -ENOTDIR:
        return SMI_FAILED_MISSING;
    case -ENOSPC:
    case -EDQUOT:
        return SMI_FAILED_NO_SPACE;
    default:
        return SMI_FAILED_OTHER;
    }
}

int smi_reserve_failure(int err)
{
    return (err == -ENOSPC || err == -EFBIG || err == -EDQUOT || err == -ENOMEM)
               ? SMI_FAILED_NO_SPACE
               : SMI_FAILED_OTHER;
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

int smi_file_is_zero(int fd, uint64_t size)
{
    static const uint8_t zero[4096];
    uint8_t buf[4096];
    uint64_t at = 0;
    while (at < size) {
        /* The next byte that is not in a hole (ENXIO: none). */
        off_t data = lseek(fd, (off_t)at, SEEK_DATA);
        if (data < 0)
            return errno == ENXIO ? 1 : -errno;
        off_t hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0)
            return -errno;
        for (at = (uint64_t)data; at < (uint64_t)hole && at < size;) {
            uint64_t n = size - at < sizeof buf ? size - at : sizeof buf;
            int64_t got = smi_file_read(fd, buf, n, at);
            if (got < 0)
                return (int)got;
            if (got == 0)
                return 1; /* (shrunk meanwhile: what is left was zero) */
            if (memcmp(buf, zero, (size_t)got) != 0)
                return 0;
            at += (uint64_t)got;
        }
    }
    return 1;
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
       instead would build its page tables anew, for every buffer. */
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

void smi_map_forget(void *addr, uint64_t size)
{
    mmap(addr, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
         0);
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

int smi_file_identity(const char *path, uint64_t *device, uint64_t *inode, double *age)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *device = (uint64_t)st.st_dev;
    *inode = (uint64_t)st.st_ino;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    *age = (double)(now.tv_sec - st.st_mtim.tv_sec) +
           1e-9 * (double)(now.tv_nsec - st.st_mtim.tv_nsec);
    return 0;
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

/* When this copy of the library last found its handler to be the
   process's SIGBUS action (monotonic ns; 0: never). */
static int64_t smi_guard_verified_ns;

/* Did this copy find its handler in place less than SMI_GUARD_TRUST_NS ago? */
static int smi_guard_recent(void)
{
    int64_t at = __atomic_load_n(&smi_guard_verified_ns, __ATOMIC_RELAXED);
    return at != 0 && smi_now_ns() - at < SMI_GUARD_TRUST_NS;
}

static void smi_guard_verified(void)
{
    __atomic_store_n(&smi_guard_verified_ns, smi_now_ns(), __ATOMIC_RELAXED);
}

/* Make the library's handler the process's SIGBUS action, if it is not:
   1 it is, 0 it cannot be (another copy's handler is there, or sigaction
   failed). One sigaction call when it already is. */
static int smi_guard_take(void)
{
    struct sigaction cur;
    if (sigaction(SIGBUS, NULL, &cur) != 0)
        return 0;
    if (smi_guard_is_ours(&cur)) {
        smi_guard_verified();
        return 1;
    }
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
    if (taken)
        smi_guard_verified();
    return taken;
}

int smi_guard_run(uint8_t *const *base, const uint64_t *size, int (*fn)(void *ctx), void *ctx,
                  int trust_recent)
{
    if (!(trust_recent && smi_guard_recent()) && !smi_guard_take())
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

/* ---- fork() (smi_platform.h) --------------------------------------------- */

static pthread_mutex_t smi_fork_mutex = PTHREAD_MUTEX_INITIALIZER;
static void (*smi_fork_child_fn)(void);
static pthread_once_t smi_fork_once = PTHREAD_ONCE_INIT;

void smi_fork_lock(void)
{
    pthread_mutex_lock(&smi_fork_mutex);
}

void smi_fork_unlock(void)
{
    pthread_mutex_unlock(&smi_fork_mutex);
}

static void smi_fork_in_child(void)
{
    void (*child)(void) = __atomic_load_n(&smi_fork_child_fn, __ATOMIC_RELAXED);
    if (child)
        child();
    pthread_mutex_unlock(&smi_fork_mutex);
}

static void smi_fork_install(void)
{
    pthread_atfork(smi_fork_lock, smi_fork_unlock, smi_fork_in_child);
}

void smi_fork_watch(void (*child)(void))
{
    void (*none)(void) = NULL;
    __atomic_compare_exchange_n(&smi_fork_child_fn, &none, child, 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
    pthread_once(&smi_fork_once, smi_fork_install);
}
