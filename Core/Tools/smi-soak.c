/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi-soak -- a stream under fire, for as long as you like: one server
 * process publishing the test pattern (zero-copy, as fast as it can) and N
 * reader processes verifying every byte of every frame they lock, while the
 * supervisor kills servers and readers with SIGKILL at random moments
 * (readers often while they hold a frame), and now and then swaps the
 * stream file for a new one. It counts:
 *   frames   published, and verified by the readers;
 *   torn     frames that differ from the pattern of their number;
 *   lost     reclaims: a killed reader whose slot was still taken after
 *            --reclaim-ms (1.5 s by default), and the slowest reclaim seen;
 *   crashes  processes that died of anything but the supervisor's SIGKILL.
 * Exit status 0 when torn, lost and crashes are all 0; 1 otherwise; 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared_memory_image.h"
#include "smi_cli.h"
#include "smi_clock.h"
#include "smi_pattern.h"
#include "smi_proc.h"

#define MAX_READERS 16

typedef struct counters_t {
    uint64_t published;
    uint64_t verified;
    uint64_t torn;
} counters_t;

typedef struct options_t {
    const char *path;
    uint32_t width, height, readers;
    double seconds;
    double reclaim_ms; /* a killed reader's slot must be free again within this */
    int quiet;
} options_t;

static counters_t *g_count; /* shared by every process (anonymous shared mapping) */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: smi-soak [OPTION]... FILE\n"
            "Run a server and verifying readers on the stream FILE (extended layout)\n"
            "while killing both sides with SIGKILL at random and swapping the file,\n"
            "and count frames verified, torn, lost reclaims and crashes.\n"
            "\n"
            "  -t, --seconds S      run for S seconds (default 10)\n"
            "  -n, --readers N      verifying readers (default 4, at most 16)\n"
            "  -s, --size WxH       frame size (default 320x240)\n"
            "  -r, --reclaim-ms MS  a killed reader's slot must be free again within MS\n"
            "                       milliseconds (default 1500; 0: do not check)\n"
            "  -q, --quiet          no status line every second\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Exit status: 0 no torn frame, no lost reclaim, no crash; 1 otherwise;\n"
            "2 usage error.\n");
}

static void add(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* ---- the server ----------------------------------------------------------- */

static int run_server(const options_t *o)
{
    SharedMemoryImageStream s = NULL;
    int rc = SharedMemoryImageStream_create(
        o->path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s);
    if (rc < 0) {
        fprintf(stderr, "smi-soak: server: %s\n", SharedMemoryImageStream_errorstring(rc));
        return 1;
    }
    size_t stride = (size_t)o->width * 3;
    while (!smi_tool_stop) {
        SharedMemoryFrame f;
        rc = SharedMemoryImageStream_acquire(s, o->width, o->height, &f);
        if (rc == IMAGESTREAM_NOERROR) {
            smi_pattern_fill(IMAGESTREAM_FORMAT_RGB8, o->width, o->height, f->iFrame, f->buffer,
                             stride, 0);
            if (SharedMemoryImageStream_publish(s) >= 0)
                add(&g_count->published, 1);
        } else if (rc < 0) {
            fprintf(stderr, "smi-soak: server: %s\n", SharedMemoryImageStream_errorstring(rc));
            return 1;
        }
    }
    SharedMemoryImageStream_destroy(s);
    return 0;
}

/* ---- a reader ------------------------------------------------------------- */

static ino_t inode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* Attach (again): the file may be between a swap and its server. */
static SharedMemoryImageStream attach(const options_t *o, ino_t *ino)
{
    for (;;) {
        SharedMemoryImageStream c = NULL;
        *ino = inode_of(o->path);
        if (SharedMemoryImageStream_create(o->path, IMAGESTREAM_OPTIONS_NONE, &c) >= 0)
            return c;
        usleep(2000);
    }
}

static int run_reader(const options_t *o)
{
    ino_t ino;
    SharedMemoryImageStream c = attach(o, &ino);
    size_t stride = (size_t)o->width * 3;
    while (!smi_tool_stop) {
        int rc = SharedMemoryImageStream_wait(c, 300);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE || rc < 0) {
            /* Nothing for a while: a swapped file (a new inode) or a broken
               one means attaching again. */
            if (rc < 0 || inode_of(o->path) != ino) {
                SharedMemoryImageStream_destroy(c);
                c = attach(o, &ino);
            }
            continue;
        }
        SharedMemoryFrame f;
        if (SharedMemoryImageStream_lock(c, &f) != IMAGESTREAM_NOERROR)
            continue;
        if (f->iWidth != o->width || f->iHeight != o->height ||
            smi_pattern_check(IMAGESTREAM_FORMAT_RGB8, o->width, o->height, f->iFrame, f->buffer,
                              stride, NULL) != 0)
            add(&g_count->torn, 1);
        else
            add(&g_count->verified, 1);
        SharedMemoryImageStream_unlock(c);
    }
    SharedMemoryImageStream_destroy(c);
    return 0;
}

/* ---- the supervisor ------------------------------------------------------- */

typedef struct proc_t {
    pid_t pid;
    int killed; /* the supervisor sent SIGKILL */
} proc_t;

static uint64_t g_crashes;

static pid_t spawn(int (*fn)(const options_t *), const options_t *o)
{
    pid_t pid = smi_proc_fork(0);
    if (pid == 0)
        _exit(fn(o));
    return pid;
}

/* Wait for p; a death that the supervisor did not cause is a crash. */
static void reap(proc_t *p, const char *what)
{
    int status = 0;
    if (p->pid <= 0 || smi_proc_reap(p->pid, -1, &status) != 1)
        return;
    int ours = p->killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    if (!ours) {
        g_crashes++;
        if (WIFSIGNALED(status))
            fprintf(stderr, "smi-soak: %s %d died of signal %d (%s)\n", what, (int)p->pid,
                    WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            fprintf(stderr, "smi-soak: %s %d exited with status %d\n", what, (int)p->pid,
                    WEXITSTATUS(status));
    }
    p->pid = -1;
    p->killed = 0;
}

static void kill9(proc_t *p)
{
    if (p->pid > 0) {
        p->killed = 1;
        kill(p->pid, SIGKILL);
    }
}

/* Client slots still claimed in the file, and how many of them belong to
   live clients (inspect() asks the kernel's byte locks). A slot is claimed
   while its `claim` word is not 0 (Core/LAYOUT.md: slot j at 1280 + 64 j);
   the server frees the claim of a dead client within about half a second. */
static int dead_claims(const char *path)
{
    SharedMemoryStreamInfo info;
    if (SharedMemoryImageStream_inspect(path, &info) != IMAGESTREAM_NOERROR)
        return 0;
    uint8_t page[4096];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(page, 1, sizeof page, f);
    fclose(f);
    if (n != sizeof page)
        return 0;
    uint32_t claimed = 0;
    for (uint32_t j = 0; j < info.max_clients && j < 32; j++) {
        uint32_t claim;
        memcpy(&claim, page + 1280 + 64 * j, sizeof claim);
        claimed += claim != 0;
    }
    return claimed > info.clients ? (int)(claimed - info.clients) : 0;
}

/* A new file at the path, renamed over the old one (readers of the old one
   notice the new inode and attach again). */
static int swap_file(const options_t *o)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", o->path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(tmp); /* createfilelayout makes it anew, exclusively */
    SharedMemoryImageDesc d = {.format = IMAGESTREAM_FORMAT_RGB8, .width = o->width,
                               .height = o->height};
    if (SharedMemoryImageStream_createfilelayout(tmp, IMAGESTREAM_LAYOUT_EXTENDED, &d) < 0 ||
        rename(tmp, o->path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Returns SMI_CLI_RUN to go on, or the exit status. */
static int parse_options(int argc, char **argv, options_t *o)
{
    static const struct option options[] = {
        {"seconds", required_argument, NULL, 't'},
        {"readers", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 's'},
        {"reclaim-ms", required_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char optstring[32];
    smi_cli_optstring(options, optstring, sizeof optstring);
    *o = (options_t){.width = 320, .height = 240, .readers = 4, .seconds = 10, .reclaim_ms = 1500};
    int c;
    while ((c = getopt_long(argc, argv, optstring, options, NULL)) != -1) {
        switch (c) {
        case 't':
            if (smi_tool_parse_nonneg(optarg, &o->seconds) < 0)
                return smi_tool_usage_error("smi-soak", "bad --seconds", optarg);
            break;
        case 'n':
            if (smi_tool_parse_u32(optarg, &o->readers) < 0 || o->readers < 1 ||
                o->readers > MAX_READERS)
                return smi_tool_usage_error("smi-soak", "--readers must be 1 to 16", optarg);
            break;
        case 's':
            if (smi_tool_parse_size(optarg, &o->width, &o->height) < 0)
                return smi_tool_usage_error("smi-soak", "bad --size", optarg);
            break;
        case 'r':
            if (smi_tool_parse_nonneg(optarg, &o->reclaim_ms) < 0)
                return smi_tool_usage_error("smi-soak", "bad --reclaim-ms", optarg);
            break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: smi_tool_option_error("smi-soak", c, argv); return SMI_CLI_USAGE;
        }
    }
    if (optind != argc - 1)
        return smi_tool_usage_error("smi-soak", "give one FILE", NULL);
    o->path = argv[optind];
    return SMI_CLI_RUN;
}

/* What the supervisor did and saw. */
typedef struct soak_t {
    const options_t *o;
    proc_t server;
    proc_t readers[MAX_READERS];
    uint64_t server_kills, reader_kills, swaps, lost;
    double slowest_reclaim_ms;
    uint64_t start_ns;
} soak_t;

/* After a reader was killed: wait for the server to free its slot (within
   --reclaim-ms); a slot still taken then is a lost reclaim. */
static void check_reclaim(soak_t *s)
{
    const options_t *o = s->o;
    /* The server frees a dead client's slot (and any buffer it held) at its
       next sweep, about twice a second. */
    uint64_t t0 = smi_tool_now_ns(), deadline = t0 + (uint64_t)(o->reclaim_ms * 1e6);
    int freed = o->reclaim_ms == 0; /* not checked */
    while (!freed && smi_tool_now_ns() < deadline) {
        freed = dead_claims(o->path) == 0; /* (one clean look is enough: */
        if (!freed)                        /* others attach meanwhile) */
            usleep(10000);
    }
    double took = (double)(smi_tool_now_ns() - t0) / 1e6;
    if (took > s->slowest_reclaim_ms)
        s->slowest_reclaim_ms = took;
    if (freed)
        return;
    s->lost++;
    SharedMemoryStreamInfo info;
    memset(&info, 0, sizeof info);
    SharedMemoryImageStream_inspect(o->path, &info);
    fprintf(stderr,
            "smi-soak: a killed reader's slot is still taken after %.0f ms "
            "(%d dead claims; %u live clients, server %s, generation %u)\n",
            o->reclaim_ms, dead_claims(o->path), info.clients,
            info.server_alive ? "alive" : "gone", info.server_generation);
}

/* One random blow: kill a reader (as likely as not while it holds a frame),
   kill the server, or swap the file under a new server. */
static void strike(soak_t *s)
{
    const options_t *o = s->o;
    int what = rand() % 10;
    if (what < 5) {
        uint32_t i = (uint32_t)rand() % o->readers;
        kill9(&s->readers[i]);
        reap(&s->readers[i], "reader");
        s->reader_kills++;
        check_reclaim(s);
        s->readers[i] = (proc_t){spawn(run_reader, o), 0};
    } else if (what < 8) {
        kill9(&s->server);
        reap(&s->server, "server");
        s->server_kills++;
        s->server = (proc_t){spawn(run_server, o), 0};
    } else {
        kill9(&s->server);
        reap(&s->server, "server");
        if (swap_file(o) == 0)
            s->swaps++;
        s->server = (proc_t){spawn(run_server, o), 0};
    }
}

/* Start the server and the readers, strike at random for --seconds (a status
   line every second unless --quiet), then kill and reap them all. */
static void supervise(soak_t *s)
{
    const options_t *o = s->o;
    s->server = (proc_t){spawn(run_server, o), 0};
    for (uint32_t i = 0; i < o->readers; i++)
        s->readers[i] = (proc_t){spawn(run_reader, o), 0};
    s->start_ns = smi_tool_now_ns();
    uint64_t next_status = s->start_ns + 1000000000ull;
    while (!smi_tool_stop && (double)(smi_tool_now_ns() - s->start_ns) < o->seconds * 1e9) {
        usleep(50000 + (useconds_t)(rand() % 250000));
        strike(s);
        if (!o->quiet && smi_tool_now_ns() >= next_status) {
            next_status += 1000000000ull;
            fprintf(stderr,
                    "smi-soak: %.0f s: %llu published, %llu verified, %llu torn, %llu crashes\n",
                    (double)(smi_tool_now_ns() - s->start_ns) / 1e9,
                    (unsigned long long)get(&g_count->published),
                    (unsigned long long)get(&g_count->verified),
                    (unsigned long long)get(&g_count->torn), (unsigned long long)g_crashes);
        }
    }
    kill9(&s->server);
    reap(&s->server, "server");
    for (uint32_t i = 0; i < o->readers; i++) {
        kill9(&s->readers[i]);
        reap(&s->readers[i], "reader");
    }
}

/* The summary line; returns the exit status. */
static int report(const soak_t *s)
{
    const options_t *o = s->o;
    double elapsed = (double)(smi_tool_now_ns() - s->start_ns) / 1e9;
    printf("smi-soak: %.1f s, %ux%u, %u readers: %llu frames published, %llu verified, "
           "%llu torn; %llu server kills, %llu reader kills, %llu file swaps; "
           "%llu lost reclaims (slowest reclaim %.0f ms), %llu crashes\n",
           elapsed, o->width, o->height, o->readers, (unsigned long long)get(&g_count->published),
           (unsigned long long)get(&g_count->verified), (unsigned long long)get(&g_count->torn),
           (unsigned long long)s->server_kills, (unsigned long long)s->reader_kills,
           (unsigned long long)s->swaps, (unsigned long long)s->lost, s->slowest_reclaim_ms,
           (unsigned long long)g_crashes);
    return get(&g_count->torn) == 0 && s->lost == 0 && g_crashes == 0 &&
                   get(&g_count->verified) > 0
               ? 0
               : 1;
}

int main(int argc, char **argv)
{
    options_t o;
    int status = parse_options(argc, argv, &o);
    if (status != SMI_CLI_RUN)
        return status;
    g_count = mmap(NULL, sizeof *g_count, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (g_count == MAP_FAILED) {
        perror("smi-soak: mmap");
        return 1;
    }
    smi_tool_install_stop_handler();
    if (swap_file(&o) != 0) {
        fprintf(stderr, "smi-soak: cannot create %s: %s\n", o.path, strerror(errno));
        return 1;
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    soak_t s;
    memset(&s, 0, sizeof s);
    s.o = &o;
    supervise(&s);
    status = report(&s);
    unlink(o.path);
    return status;
}
