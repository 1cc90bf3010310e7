/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestOpenRules -- the open rules follow the threat (Core/LAYOUT.md,
 * "Opening files"): a stream file is refused when another user could
 * change it, and accepted otherwise; SharedMemoryImageStream_checkfile()
 * names the rule that failed and the fix.
 *
 * (a) a 0666 file alone in a 0700 folder of the caller's (pyensight's
 *     mkdtemp folder under umask 002 or 000): accepted by create (client,
 *     server) and createfile; with a second name (a hard link) it is not;
 *     a folder reached through a symbolic link is followed, and the folder
 *     checked is the real one;
 * (b) a folder that others may write and that is not sticky (0777): a 0644
 *     file in it refused, createfile makes nothing there; the message says
 *     "chmod o-w FOLDER";
 * (c) a shared sticky folder (1777): a 0664 file of a foreign group (65534,
 *     as root) refused with "chmod g-w FILE"; of the owner's private group
 *     accepted; 0644 accepted;
 * (d) a folder of another user (as root: nobody's 0755 folder): refused,
 *     the message names the folder's owner;
 * (e) the private-group rule (as root): a user with its own group (useradd
 *     -U) uses its 0664 file in a 0755 folder; once the group has another
 *     member (usermod -aG), the file is refused with "other members" and
 *     "chmod g-w". The user and group are removed at exit, failed or not.
 * Parts that need root print why they are skipped.
 */
#include "smi_test.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>

#define W 32u
#define H 16u

/* A path below the test's private folder. */
static const char *sub(const char *name)
{
    static char bufs[16][512];
    static int next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", smi_test_dir(), name);
    return b;
}

static void make_dir(const char *path, mode_t mode)
{
    ASSERT_MSG(mkdir(path, 0700) == 0, "mkdir %s: %s", path, strerror(errno));
    ASSERT(chmod(path, mode) == 0);
}

/* checkfile() answers `expected`; its text holds each of the NULL-ended
   `needles`. */
static void expect_check(const char *path, int expected, const char *const *needles)
{
    char why[1024];
    memset(why, 'x', sizeof why);
    int rc = SharedMemoryImageStream_checkfile(path, IMAGESTREAM_OPTIONS_NONE, why, sizeof why);
    ASSERT_MSG(rc == expected, "checkfile %s: expected %d, got %d (%s)", path, expected, rc, why);
    ASSERT(memchr(why, '\0', sizeof why) != NULL);
    if (expected == IMAGESTREAM_NOERROR)
        ASSERT_MSG(why[0] == '\0', "accepted, yet a reason: %s", why);
    for (; needles && *needles; needles++)
        ASSERT_MSG(strstr(why, *needles) != NULL, "checkfile %s: \"%s\" not in \"%s\"", path,
                   *needles, why);
    /* The opt-in accepts any regular file. */
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_checkfile(path, IMAGESTREAM_OPTIONS_ANYFILE, NULL, 0));
    if (expected != IMAGESTREAM_NOERROR)
        printf("    %s\n", why);
}

/* A server, then a client, on the existing `path`: both `expected` (the
   client only when the server was refused too, or both accepted). */
static void expect_open(const char *path, int expected)
{
    SharedMemoryImageStream s = NULL, c = NULL;
    int rc = SharedMemoryImageStream_create(
        path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s);
    if (rc == IMAGESTREAM_RECONNECTING && expected == IMAGESTREAM_NOERROR)
        rc = IMAGESTREAM_NOERROR; /* (a stream served before) */
    ASSERT_MSG(rc == expected, "server create %s: expected %d, got %d (%s)", path, expected, rc,
               SharedMemoryImageStream_errorstring(rc));
    rc = SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c);
    ASSERT_MSG(rc == expected, "client create %s: expected %d, got %d (%s)", path, expected, rc,
               SharedMemoryImageStream_errorstring(rc));
    if (expected == IMAGESTREAM_NOERROR) {
        uint8_t px[W * H * 3];
        smi_fill(px, sizeof px, 5);
        struct _SharedMemoryFrame f = {5, W, H, px};
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(s, &f));
        SharedMemoryFrame got;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &got));
        ASSERT_EQ(smi_check(got->buffer, sizeof px, 5), -1);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    }
    if (c)
        SharedMemoryImageStream_destroy(c);
    if (s)
        SharedMemoryImageStream_destroy(s);
    ASSERT_RC(expected, SharedMemoryImageStream_createfile(path, W, H));
}

/* A stream file of this user at `path` with `mode`. */
static void make_stream(const char *path, mode_t mode)
{
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    ASSERT(chmod(path, mode) == 0);
}

/* ---- (a) a private folder -------------------------------------------------- */

static void case_private_folder(void)
{
    const char *dir = sub("private");
    make_dir(dir, 0700);
    const char *path = sub("private/shm.smi");
    make_stream(path, 0666);
    expect_check(path, IMAGESTREAM_NOERROR, NULL);
    expect_open(path, IMAGESTREAM_NOERROR);
    /* Through a folder link: followed, and the real folder is checked. */
    ASSERT(symlink(dir, sub("alias")) == 0);
    expect_check(sub("alias/shm.smi"), IMAGESTREAM_NOERROR, NULL);
    expect_open(sub("alias/shm.smi"), IMAGESTREAM_NOERROR);
    /* A link at the last component still is not. */
    ASSERT(symlink(path, sub("private/link.smi")) == 0);
    static const char *const link_words[] = {"symbolic link", NULL};
    expect_check(sub("private/link.smi"), IMAGESTREAM_UNSAFE_FILE, link_words);
    expect_open(sub("private/link.smi"), IMAGESTREAM_UNSAFE_FILE);
    unlink(sub("private/link.smi"));
    /* A second name: someone may reach it elsewhere; its mode decides. */
    ASSERT(link(path, sub("second.smi")) == 0);
    static const char *const others_words[] = {"writable by others", "chmod o-w", NULL};
    expect_check(path, IMAGESTREAM_UNSAFE_FILE, others_words);
    expect_open(path, IMAGESTREAM_UNSAFE_FILE);
    unlink(sub("second.smi"));
    expect_check(path, IMAGESTREAM_NOERROR, NULL);
    /* Group and others may list the folder but not enter it: still private. */
    ASSERT(chmod(dir, 0744) == 0);
    expect_check(path, IMAGESTREAM_NOERROR, NULL);
    ASSERT(chmod(dir, 0711) == 0);
    expect_check(path, IMAGESTREAM_UNSAFE_FILE, others_words);
    unlink(sub("alias"));
    printf("  (a) a 0666 file alone in a 0700 folder accepted, also through a folder link\n");
}

/* ---- (b) a folder others may write ---------------------------------------- */

static void case_open_folder(void)
{
    const char *dir = sub("open");
    make_dir(dir, 0755);
    const char *path = sub("open/shm.smi");
    make_stream(path, 0644);
    ASSERT(chmod(dir, 0777) == 0);
    char fix[600];
    snprintf(fix, sizeof fix, "chmod o-w %s", dir);
    const char *const words[] = {"not sticky", fix, NULL};
    expect_check(path, IMAGESTREAM_UNSAFE_FILE, words);
    expect_open(path, IMAGESTREAM_UNSAFE_FILE);
    /* createfile makes nothing there. */
    const char *fresh = sub("open/fresh.smi");
    ASSERT_RC(IMAGESTREAM_UNSAFE_FILE, SharedMemoryImageStream_createfile(fresh, W, H));
    ASSERT_MSG(smi_test_file_size(fresh) == -1, "createfile left a file in an open folder");
    /* Sticky: the others may not rename what is not theirs. */
    ASSERT(chmod(dir, 01777) == 0);
    expect_check(path, IMAGESTREAM_NOERROR, NULL);
    printf("  (b) a file in a folder others may write (not sticky) refused\n");
}

/* ---- (c) a shared sticky folder -------------------------------------------- */

static void case_sticky_folder(void)
{
    const char *dir = sub("sticky");
    make_dir(dir, 01777);
    const char *path = sub("sticky/shm.smi");
    make_stream(path, 0644);
    expect_check(path, IMAGESTREAM_NOERROR, NULL);
    expect_open(path, IMAGESTREAM_NOERROR);
    ASSERT(chmod(path, 0664) == 0);
    if (geteuid() != 0) {
        printf("  (c) foreign group skipped: only root can give a file a group it is not in\n");
        return;
    }
    /* root's group (gid 0) is root's private group where nobody else is in it. */
    struct group *g0 = getgrgid(0);
    int root_private = g0 && strcmp(g0->gr_name, "root") == 0 && !g0->gr_mem[0];
    if (root_private) {
        expect_check(path, IMAGESTREAM_NOERROR, NULL);
        expect_open(path, IMAGESTREAM_NOERROR);
    }
    ASSERT(chown(path, (uid_t)-1, 65534) == 0);
    char fix[600];
    snprintf(fix, sizeof fix, "chmod g-w %s", path);
    const char *const words[] = {"writable by group", "private", fix, NULL};
    expect_check(path, IMAGESTREAM_UNSAFE_FILE, words);
    expect_open(path, IMAGESTREAM_UNSAFE_FILE);
    ASSERT(chmod(path, 0644) == 0);
    expect_check(path, IMAGESTREAM_NOERROR, NULL);
    printf("  (c) in a sticky folder: 0664 of a foreign group refused%s, 0644 accepted\n",
           root_private ? ", of root's private group accepted" : "");
}

/* ---- (d) another user's folder ---------------------------------------------- */

static void case_their_folder(void)
{
    if (geteuid() != 0) {
        printf("  (d) skipped: only root can make a folder of another user\n");
        return;
    }
    const char *dir = sub("theirs");
    make_dir(dir, 0755);
    const char *path = sub("theirs/shm.smi");
    make_stream(path, 0600);
    ASSERT(chown(dir, 65534, 65534) == 0);
    const char *const words[] = {"belongs to", "replace", NULL};
    expect_check(path, IMAGESTREAM_UNSAFE_FILE, words);
    expect_open(path, IMAGESTREAM_UNSAFE_FILE);
    printf("  (d) a root file in another user's folder refused\n");
}

/* ---- (e) private groups ------------------------------------------------------ */

static char e_user[32];

/* system(cmd), tried again a few times: useradd and usermod refuse to run
   while another process holds the lock of /etc/passwd or /etc/group (a
   test running beside this one). */
static int run_admin(const char *cmd)
{
    int rc = -1;
    for (int i = 0; i < 10 && rc != 0; i++) {
        if (i > 0)
            smi_test_sleep_ms(200);
        rc = system(cmd);
    }
    return rc;
}

static void e_cleanup(void)
{
    if (!e_user[0] || getpid() != smi_test_main_pid)
        return;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "userdel %s >/dev/null 2>&1; groupdel %s >/dev/null 2>&1", e_user,
             e_user);
    (void)!run_admin(cmd);
    e_user[0] = '\0';
}

/* In a child as `pw`: checkfile and create on `path` answer `expected`. */
static void as_user(const struct passwd *pw, const char *path, int expected,
                    const char *const *words, int make)
{
    pid_t pid = smi_test_fork("as the test user");
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
            SMI_FAIL("cannot become %s: %s", pw->pw_name, strerror(errno));
        prctl(PR_SET_DUMPABLE, 1); /* (LeakSanitizer's exit check needs it) */
        umask(002);
        if (make)
            make_stream(path, 0664);
        struct stat st;
        ASSERT(stat(path, &st) == 0);
        ASSERT_EQ(st.st_gid, pw->pw_gid);
        expect_check(path, expected, words);
        expect_open(path, expected);
        exit(0);
    }
    ASSERT_CHILD_OK(pid, 20000);
}

static void case_private_group(void)
{
    if (geteuid() != 0) {
        printf("  (e) skipped: only root can add a user and a group to the system\n");
        return;
    }
    snprintf(e_user, sizeof e_user, "smit%ld", (long)getpid());
    atexit(e_cleanup);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "useradd -U -M -s /usr/sbin/nologin %s >/dev/null 2>&1", e_user);
    if (run_admin(cmd) != 0) {
        e_user[0] = '\0';
        printf("  (e) skipped: useradd -U failed (no shadow tools, or a read-only /etc)\n");
        return;
    }
    struct passwd *found = getpwnam(e_user);
    ASSERT(found != NULL);
    struct passwd pw = *found;
    char name[32];
    snprintf(name, sizeof name, "%s", pw.pw_name);
    pw.pw_name = name;
    /* The user's folder, 0755, below the test's folder (others may pass). */
    ASSERT(chmod(smi_test_dir(), 0711) == 0);
    const char *dir = sub("user");
    make_dir(dir, 0755);
    ASSERT(chown(dir, pw.pw_uid, pw.pw_gid) == 0);
    const char *path = sub("user/shm.smi");
    as_user(&pw, path, IMAGESTREAM_NOERROR, NULL, 1);
    /* Another member: its members may write the file. */
    snprintf(cmd, sizeof cmd, "usermod -aG %s nobody >/dev/null 2>&1", e_user);
    ASSERT_MSG(run_admin(cmd) == 0, "%s failed", cmd);
    char fix[600];
    snprintf(fix, sizeof fix, "chmod g-w %s", path);
    const char *const words[] = {"other members", fix, NULL};
    as_user(&pw, path, IMAGESTREAM_UNSAFE_FILE, words, 0);
    ASSERT(chmod(smi_test_dir(), 0700) == 0);
    e_cleanup();
    ASSERT_MSG(getpwnam(name) == NULL, "user %s not removed", name);
    printf("  (e) 0664 of the owner's private group accepted; with another member refused\n");
}

/* TestOpenRules [PARTS]: all parts, or those named (e.g. "ae"). */
int main(int argc, char **argv)
{
    const char *parts = argc > 1 ? argv[1] : "abcde";
    smi_test_watchdog(120);
    umask(022);
    if (strchr(parts, 'a'))
        case_private_folder();
    if (strchr(parts, 'b'))
        case_open_folder();
    if (strchr(parts, 'c'))
        case_sticky_folder();
    if (strchr(parts, 'd'))
        case_their_folder();
    if (strchr(parts, 'e'))
        case_private_group();
    printf("TestOpenRules: ok\n");
    return 0;
}
