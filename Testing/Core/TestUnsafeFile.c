/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestUnsafeFile -- stream files are input from other, possibly hostile,
 * users (Core/LAYOUT.md, "Opening files"). Every open of a stream path --
 * create() for clients and servers, createfile/createfileformat/
 * createfilelayout, inspect -- refuses, with IMAGESTREAM_UNSAFE_FILE and
 * without changing a byte anywhere:
 *
 * (a) a symbolic link at the path: the file it points to is neither grown
 *     nor written (the attack: a link planted in /dev/shm made a root server
 *     grow and overwrite its target), a dangling link's target is not
 *     created; with IMAGESTREAM_OPTIONS_ANYFILE a client follows a link to a
 *     stream served by another process and reads its frame;
 * (b) in a folder others may enter (0755; a 0700 folder makes any mode
 *     safe: TestOpenRules), a file writable by others (0666, 0602, 0622) or
 *     by a group that is not the owner's private one (0620, 0660 of group
 *     65534, as root): refused by create and createfile, readable by
 *     inspect; 0644, 0640 and 0600 are fine (Python's open() makes 0644
 *     files); ANYFILE accepts 0666;
 * (c) a file of another owner (as root: a server running as "nobody" in
 *     another process): refused by create (client and second server) and
 *     createfile, while inspect sees the live server; with ANYFILE a client
 *     attaches and reads its frame;
 * (d) not a regular file -- a FIFO, a UNIX socket, a device reached through
 *     a link with ANYFILE: refused at once, nothing blocks (each call runs in
 *     a child process with a time limit, so a hang fails the test instead
 *     of hanging it). A directory stays UNABLE_TO_OPEN_FILE.
 */
#include "smi_test.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#define W 32u
#define H 16u
#define FRAME_BYTES (W * H * 3u)

enum op {
    OP_CLIENT,
    OP_CLIENT_ANYFORMAT,
    OP_CLIENT_ANYFILE,
    OP_SERVER,
    OP_SERVER_EXTENDED,
    OP_SERVER_ANYFILE,
    OP_CREATEFILE,
    OP_CREATEFILEFORMAT,
    OP_CREATEFILELAYOUT,
    OP_INSPECT,
    OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "client create",          "client create (ANYFORMAT)", "client create (ANYFILE)",
    "server create",          "server create (EXTENDED)",  "server create (ANYFILE)",
    "createfile",             "createfileformat",          "createfilelayout",
    "inspect",
};

/* Run one operation on `path` here; returns its code (a stream it makes is
   destroyed at once). */
static int run_op(enum op op, const char *path)
{
    SharedMemoryImageStream s = NULL;
    SharedMemoryImageDesc d;
    SharedMemoryStreamInfo info;
    int rc;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_GRAY8;
    d.width = W;
    d.height = H;
    switch (op) {
    case OP_CLIENT: rc = SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &s); break;
    case OP_CLIENT_ANYFORMAT:
        rc = SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &s);
        break;
    case OP_CLIENT_ANYFILE:
        rc = SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFILE, &s);
        break;
    case OP_SERVER:
        rc = SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &s);
        break;
    case OP_SERVER_EXTENDED:
        rc = SharedMemoryImageStream_create(
            path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s);
        break;
    case OP_SERVER_ANYFILE:
        rc = SharedMemoryImageStream_create(path,
                                            IMAGESTREAM_OPTIONS_SERVER |
                                                IMAGESTREAM_OPTIONS_EXTENDED |
                                                IMAGESTREAM_OPTIONS_ANYFILE,
                                            &s);
        break;
    case OP_CREATEFILE: rc = SharedMemoryImageStream_createfile(path, W, H); break;
    case OP_CREATEFILEFORMAT: rc = SharedMemoryImageStream_createfileformat(path, &d); break;
    case OP_CREATEFILELAYOUT:
        rc = SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &d);
        break;
    case OP_INSPECT: rc = SharedMemoryImageStream_inspect(path, &info); break;
    default: rc = 1000; break;
    }
    if (rc < 0)
        ASSERT_MSG(s == NULL, "%s failed but left a stream", op_names[op]);
    if (s)
        SharedMemoryImageStream_destroy(s);
    return rc;
}

/* Run `op` in a child process that must answer `expected`; one that takes
   ten seconds counts as hung (a FIFO opened for reading, say, would block
   for ever). */
static void expect_op(enum op op, const char *path, int expected)
{
    char who[128];
    snprintf(who, sizeof who, "%s", op_names[op]);
    pid_t pid = smi_test_fork(who);
    if (pid == 0) {
        int rc = run_op(op, path);
        if (rc != expected)
            SMI_FAIL("%s on %s: expected %d (%s), got %d (%s)", op_names[op], path, expected,
                     SharedMemoryImageStream_errorstring(expected), rc,
                     SharedMemoryImageStream_errorstring(rc));
        exit(0);
    }
    int st = smi_test_join(pid, 10000);
    if (st == -1)
        SMI_FAIL("%s on %s hung (killed after 10 s)", op_names[op], path);
    ASSERT_MSG(st == 0, "%s on %s: child failed (status %d)", op_names[op], path, st);
}

/* Every opening call but inspect gives `expected` on `path`. */
static void expect_all_but_inspect(const char *path, int expected)
{
    for (int op = 0; op < OP_COUNT; op++)
        if (op != OP_INSPECT && op != OP_CLIENT_ANYFILE && op != OP_SERVER_ANYFILE)
            expect_op((enum op)op, path, expected);
}

/* Stat without following a link. */
static struct stat lstat_of(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        SMI_FAIL("lstat %s: %s", path, strerror(errno));
    return st;
}

/* The file is still `n` bytes of pattern `seed`. */
static void expect_pattern_file(const char *path, size_t n, uint32_t seed)
{
    size_t got;
    uint8_t *b = smi_test_read_file(path, &got);
    ASSERT_MSG(got == n, "%s: %zu bytes, expected %zu (it was grown or cut)", path, got, n);
    ASSERT_MSG(smi_check(b, n, seed) == -1, "%s: byte %lld was written", path,
               (long long)smi_check(b, n, seed));
    free(b);
}

/* ---- a server in another process ---------------------------------------- */

typedef struct {
    uint32_t ready, stop;
    int32_t err;
} server_ctl_t;

/* Fork a server of `path` (extended layout) that publishes frame 7 with
   pattern 7 and lives until told to stop. With `user` it first becomes that
   user and creates the file itself. */
static pid_t start_server(const char *path, server_ctl_t *ctl, const struct passwd *user)
{
    memset(ctl, 0, sizeof *ctl);
    pid_t parent = getpid();
    pid_t pid = smi_test_fork(user ? "server as another user" : "server");
    if (pid == 0) {
        if (user) {
            if (setgroups(0, NULL) != 0 || setgid(user->pw_gid) != 0 ||
                setuid(user->pw_uid) != 0)
                SMI_FAIL("cannot become %s: %s", user->pw_name, strerror(errno));
            prctl(PR_SET_DUMPABLE, 1); /* (LeakSanitizer's exit check needs it) */
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
        }
        SharedMemoryImageStream s = NULL;
        int rc = SharedMemoryImageStream_create(
            path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s);
        if (rc < 0) {
            SMI_T_STORE(&ctl->err, rc);
            exit(1);
        }
        uint8_t px[FRAME_BYTES];
        smi_fill(px, sizeof px, 7);
        struct _SharedMemoryFrame f = {7, W, H, px};
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_UNCONNECTED,
                   SharedMemoryImageStream_putframe(s, &f));
        SMI_T_STORE(&ctl->ready, 1);
        /* Live as long as the test needs (a loaded machine may take long):
           until told to stop, or the test's process is gone. */
        alarm(0);
        while (!SMI_T_LOAD(&ctl->stop) && getppid() == parent)
            smi_test_sleep_ms(1);
        SharedMemoryImageStream_destroy(s);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(&ctl->ready) || SMI_T_LOAD(&ctl->err), 10000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SMI_T_LOAD(&ctl->err));
    return pid;
}

static void stop_server(pid_t pid, server_ctl_t *ctl)
{
    SMI_T_STORE(&ctl->stop, 1);
    ASSERT_CHILD_OK(pid, 10000);
}

/* A client created with `options` on `path` locks frame 7 and finds its
   pattern. */
static void client_reads_frame7(const char *path, uint32_t options)
{
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, options, &c));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(f->iFrame, 7);
    ASSERT_EQ(smi_check(f->buffer, FRAME_BYTES, 7), -1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
}

/* ---- (a) symbolic links --------------------------------------------------- */

static void case_symlinks(void)
{
    /* The victim: a file of this user that is not a stream (64 KiB of
       pattern). Through the link a server would have written stream
       headers into it and createfile would have grown it to 20 MiB. */
    const char *victim = smi_test_path("victim");
    const size_t victim_bytes = 65536;
    uint8_t *content = malloc(victim_bytes);
    ASSERT(content != NULL);
    smi_fill(content, victim_bytes, 42);
    smi_test_write_file(victim, content, victim_bytes);
    free(content);
    const char *link = smi_test_path("link");
    ASSERT(symlink(victim, link) == 0);

    expect_all_but_inspect(link, IMAGESTREAM_UNSAFE_FILE);
    expect_op(OP_INSPECT, link, IMAGESTREAM_UNSAFE_FILE);
    expect_pattern_file(victim, victim_bytes, 42);
    ASSERT(S_ISLNK(lstat_of(link).st_mode));

    /* A dangling link: createfile must not create its target. */
    const char *target = smi_test_path("dangling-target");
    const char *dangling = smi_test_path("dangling");
    ASSERT(symlink(target, dangling) == 0);
    for (int op = OP_CREATEFILE; op <= OP_CREATEFILELAYOUT; op++)
        expect_op((enum op)op, dangling, IMAGESTREAM_UNSAFE_FILE);
    expect_op(OP_CLIENT, dangling, IMAGESTREAM_UNSAFE_FILE);
    expect_op(OP_SERVER, dangling, IMAGESTREAM_UNSAFE_FILE);
    ASSERT_MSG(smi_test_file_size(target) == -1, "createfile created the link's target");
    ASSERT(S_ISLNK(lstat_of(dangling).st_mode));

    /* Opting in: a link to a stream served by another process. */
    const char *stream = smi_test_path("served");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(stream, W, H));
    const char *alias = smi_test_path("alias");
    ASSERT(symlink(stream, alias) == 0);
    server_ctl_t *ctl = smi_test_shared_alloc(sizeof *ctl);
    pid_t server = start_server(stream, ctl, NULL);
    expect_op(OP_CLIENT, alias, IMAGESTREAM_UNSAFE_FILE);
    client_reads_frame7(alias, IMAGESTREAM_OPTIONS_ANYFILE);
    client_reads_frame7(stream, IMAGESTREAM_OPTIONS_NONE); /* the real name needs no opt-in */
    expect_op(OP_SERVER_ANYFILE, alias, IMAGESTREAM_SERVER_ACTIVE); /* followed, then refused */
    stop_server(server, ctl);
    munmap(ctl, sizeof *ctl);
    printf("  (a) symbolic links refused by every call, target untouched; ANYFILE follows\n");
}

/* ---- (b) modes ------------------------------------------------------------ */

static void case_modes(void)
{
    /* A folder others may enter: the file's own mode decides. */
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/open", smi_test_dir());
    ASSERT(mkdir(dir, 0755) == 0);
    ASSERT(chmod(dir, 0755) == 0);
    snprintf(path, sizeof path, "%s/modes.smi", dir);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    server_ctl_t *ctl = smi_test_shared_alloc(sizeof *ctl);
    pid_t server = start_server(path, ctl, NULL);

    /* Group write is refused only for a group that is not the owner's
       private one: as root, the file is given group 65534 (nogroup); other
       users cannot choose a group that is surely not private, and try the
       others' bits only. */
    int foreign_group = geteuid() == 0 && chown(path, (uid_t)-1, 65534) == 0;
    const mode_t unsafe[] = {0666, 0620, 0602, 0660, 0622};
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        if (!(unsafe[i] & 002) && !foreign_group)
            continue;
        ASSERT(chmod(path, unsafe[i]) == 0);
        size_t n0, n1;
        uint8_t *before = smi_test_read_file(path, &n0);
        expect_all_but_inspect(path, IMAGESTREAM_UNSAFE_FILE);
        expect_op(OP_INSPECT, path, IMAGESTREAM_NOERROR); /* reading changes nothing */
        uint8_t *after = smi_test_read_file(path, &n1);
        ASSERT_EQ(n0, n1);
        ASSERT_MSG(memcmp(before, after, n0) == 0, "mode %o: a refused call changed the file",
                   (unsigned)unsafe[i]);
        free(before);
        free(after);
        ASSERT_EQ(lstat_of(path).st_mode & 07777, unsafe[i]);
        /* Opting in: the file is taken as it is (the server is alive). */
        expect_op(OP_CLIENT_ANYFILE, path, IMAGESTREAM_NOERROR);
        expect_op(OP_SERVER_ANYFILE, path, IMAGESTREAM_SERVER_ACTIVE);
    }
    const mode_t safe[] = {0644, 0640, 0604, 0600};
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++) {
        ASSERT(chmod(path, safe[i]) == 0);
        client_reads_frame7(path, IMAGESTREAM_OPTIONS_NONE);
        expect_op(OP_CREATEFILE, path, IMAGESTREAM_NOERROR);
        expect_op(OP_SERVER, path, IMAGESTREAM_SERVER_ACTIVE); /* opened, then refused */
    }
    ASSERT(chmod(path, 0666) == 0);
    client_reads_frame7(path, IMAGESTREAM_OPTIONS_ANYFILE);
    stop_server(server, ctl);
    munmap(ctl, sizeof *ctl);
    unlink(path);
    rmdir(dir);
    printf("  (b) files writable by others%s refused, 0644/0640/0600 fine\n",
           foreign_group ? " or a foreign group" : "");
}

/* ---- (c) another owner ---------------------------------------------------- */

static void case_other_owner(void)
{
    if (geteuid() != 0) {
        printf("  (c) skipped: only root can run a process as another user\n");
        return;
    }
    struct passwd *pw = getpwnam("nobody");
    struct passwd fallback = {.pw_name = "65534", .pw_uid = 65534, .pw_gid = 65534};
    struct passwd user = pw ? *pw : fallback;
    /* A directory anyone may write, as /dev/shm: the other user's server
       makes its file there. */
    char dir[300];
    snprintf(dir, sizeof dir, "%s/shared", smi_test_dir());
    ASSERT(mkdir(dir, 0700) == 0);
    ASSERT(chmod(smi_test_dir(), 0711) == 0); /* others may pass, not list */
    ASSERT(chmod(dir, 01777) == 0);
    char path[400];
    snprintf(path, sizeof path, "%s/theirs.smi", dir);

    server_ctl_t *ctl = smi_test_shared_alloc(sizeof *ctl);
    pid_t server = start_server(path, ctl, &user);
    struct stat st = lstat_of(path);
    ASSERT_EQ(st.st_uid, user.pw_uid);
    ASSERT_EQ(st.st_mode & 07777, 0600);
    size_t n0, n1;
    uint8_t *before = smi_test_read_file(path, &n0);

    expect_op(OP_CLIENT, path, IMAGESTREAM_UNSAFE_FILE);
    expect_op(OP_CLIENT_ANYFORMAT, path, IMAGESTREAM_UNSAFE_FILE);
    expect_op(OP_SERVER, path, IMAGESTREAM_UNSAFE_FILE);
    expect_op(OP_SERVER_EXTENDED, path, IMAGESTREAM_UNSAFE_FILE);
    for (int op = OP_CREATEFILE; op <= OP_CREATEFILELAYOUT; op++)
        expect_op((enum op)op, path, IMAGESTREAM_UNSAFE_FILE);
    uint8_t *after = smi_test_read_file(path, &n1);
    ASSERT_EQ(n0, n1);
    ASSERT_MSG(memcmp(before, after, n0) == 0, "a refused call changed the other user's file");
    free(before);
    free(after);

    /* inspect reads it (and changes nothing): the other user's server is alive. */
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_EXTENDED);
    ASSERT_EQ(info.server_alive, 1);
    ASSERT_EQ(info.last_frame, 7);
    /* Opting in: attach and read the frame. */
    client_reads_frame7(path, IMAGESTREAM_OPTIONS_ANYFILE);
    stop_server(server, ctl);
    munmap(ctl, sizeof *ctl);
    unlink(path);
    rmdir(dir);
    ASSERT(chmod(smi_test_dir(), 0700) == 0);
    printf("  (c) a file of user %s refused (inspect reads it); ANYFILE attaches\n",
           user.pw_name);
}

/* ---- (d) not a regular file ------------------------------------------------ */

static void case_not_regular(void)
{
    /* A FIFO: opening it for reading would wait for a writer for ever. */
    const char *fifo = smi_test_path("fifo");
    ASSERT(mkfifo(fifo, 0600) == 0);
    for (int op = 0; op < OP_COUNT; op++)
        expect_op((enum op)op, fifo, IMAGESTREAM_UNSAFE_FILE);
    ASSERT(S_ISFIFO(lstat_of(fifo).st_mode));

    /* A UNIX socket. */
    const char *sock_path = smi_test_path("socket");
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT(sock >= 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    ASSERT(strlen(sock_path) < sizeof addr.sun_path);
    memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
    ASSERT(bind(sock, (struct sockaddr *)&addr, sizeof addr) == 0);
    for (int op = 0; op < OP_COUNT; op++)
        expect_op((enum op)op, sock_path, IMAGESTREAM_UNSAFE_FILE);
    close(sock);

    /* A device, reached through a link with ANYFILE (which follows links,
       but still wants a regular file). */
    const char *dev = smi_test_path("devnull");
    ASSERT(symlink("/dev/null", dev) == 0);
    expect_op(OP_CLIENT_ANYFILE, dev, IMAGESTREAM_UNSAFE_FILE);
    expect_op(OP_SERVER_ANYFILE, dev, IMAGESTREAM_UNSAFE_FILE);
    expect_op(OP_INSPECT, dev, IMAGESTREAM_UNSAFE_FILE);

    /* A directory: as before, it cannot be opened as a stream. */
    char dir[600];
    snprintf(dir, sizeof dir, "%s.d", smi_test_path("dir"));
    ASSERT(mkdir(dir, 0700) == 0);
    expect_op(OP_CLIENT, dir, IMAGESTREAM_UNABLE_TO_OPEN_FILE);
    expect_op(OP_SERVER, dir, IMAGESTREAM_UNABLE_TO_OPEN_FILE);
    expect_op(OP_CREATEFILE, dir, IMAGESTREAM_UNABLE_TO_OPEN_FILE);
    expect_op(OP_INSPECT, dir, IMAGESTREAM_UNABLE_TO_OPEN_FILE);
    rmdir(dir);
    printf("  (d) a FIFO, a socket, a device: refused at once, nothing blocked\n");
}

/* TestUnsafeFile [PARTS]: all parts, or those named (e.g. "ad"). */
int main(int argc, char **argv)
{
    const char *parts = argc > 1 ? argv[1] : "abcd";
    smi_test_watchdog(90);
    umask(022);
    if (strchr(parts, 'a'))
        case_symlinks();
    if (strchr(parts, 'b'))
        case_modes();
    if (strchr(parts, 'c'))
        case_other_owner();
    if (strchr(parts, 'd'))
        case_not_regular();
    printf("TestUnsafeFile: ok\n");
    return 0;
}
