/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_stream_race -- libFuzzer harness for values that change after they
 * were checked. A live stream (server and client of this process, extended
 * or EnSight layout: the first byte chooses) runs attach, wait, lock,
 * copyframe, unlock, inspect, putframe, acquire and publish while a second
 * thread keeps writing header fields the fuzzer chose: records of
 * (u16 offset, u8 width 4 or 8, u64 value) after the first byte. For the
 * EnSight layout the offset falls in one of the two 24-byte block headers,
 * for the extended one anywhere in the 4096-byte header page. The library
 * must read each such value once, check its copy and use only that.
 * Seeds: Testing/Fuzz/corpus/race/.
 */
#include "fuzz_common.h"

#include <pthread.h>
#include <sys/mman.h>

#define FILE_SIZE (4096u + 2u * 4096u) /* holds a 32 x 16 RGB frame in either layout */
#define RECORD 11u
#define MAX_RECORDS 64u

typedef struct {
    uint8_t *map;
    uint32_t offset[MAX_RECORDS];
    uint32_t width[MAX_RECORDS];
    uint64_t value[MAX_RECORDS];
    uint32_t n;
    int stop;
} mutator_t;

static void *mutate(void *arg)
{
    mutator_t *m = arg;
    while (!__atomic_load_n(&m->stop, __ATOMIC_RELAXED)) {
        for (uint32_t i = 0; i < m->n; i++) {
            uint8_t *at = m->map + m->offset[i];
            if (m->width[i] == 8)
                __atomic_store_n((uint64_t *)at, m->value[i], __ATOMIC_RELAXED);
            else
                __atomic_store_n((uint32_t *)at, (uint32_t)m->value[i], __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = fuzz_path();
    const int ensight = data[0] & 1;
    static uint8_t zeros[FILE_SIZE];
    fuzz_write_file(zeros, sizeof zeros);

    SharedMemoryImageStream server = NULL, client = NULL;
    uint32_t options = IMAGESTREAM_OPTIONS_SERVER | (ensight ? 0 : IMAGESTREAM_OPTIONS_EXTENDED);
    if (SharedMemoryImageStream_create(path, options, &server) < 0)
        abort(); /* a fresh file must serve */
    if (SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &client) < 0)
        abort();
    fuzz_server_pass(server);

    mutator_t m;
    memset(&m, 0, sizeof m);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        abort();
    m.map = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m.map == MAP_FAILED)
        abort();
    const uint32_t payload = (FILE_SIZE - 48u) / 2u;
    for (size_t at = 1; at + RECORD <= size && m.n < MAX_RECORDS; at += RECORD) {
        uint32_t off = (uint32_t)get_le(data + at, 2);
        uint32_t width = data[at + 2] & 1 ? 8 : 4;
        if (ensight) { /* a field of block 0's or block 1's header */
            off %= 48u;
            off = (off < 24u ? 0u : 24u + payload - 24u) + off;
            off &= ~(width - 1u);
            if (off + width > (off < 24u ? 24u : 48u + payload))
                off -= width;
        } else {
            off = (off % 4096u) & ~(width - 1u);
        }
        m.offset[m.n] = off;
        m.width[m.n] = width;
        m.value[m.n] = get_le(data + at + 3, 8);
        m.n++;
    }

    pthread_t thread;
    if (pthread_create(&thread, NULL, mutate, &m) != 0)
        abort();
    for (int round = 0; round < 8; round++) {
        fuzz_server_pass(server);
        fuzz_client_pass(client, 1);
        SharedMemoryStreamInfo info;
        (void)SharedMemoryImageStream_inspect(path, &info);
        /* attach and detach under the changes, too */
        SharedMemoryImageStream other = NULL;
        if (SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &other) >= 0) {
            fuzz_client_pass(other, 1);
            SharedMemoryImageStream_destroy(other);
        }
    }
    __atomic_store_n(&m.stop, 1, __ATOMIC_RELAXED);
    pthread_join(thread, NULL);
    munmap(m.map, FILE_SIZE);
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(server);
    unlink(path);
    return 0;
}
