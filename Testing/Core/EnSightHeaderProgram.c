/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EnSightHeaderProgram -- a program written the way code for EnSight's
 * server header is: it includes shared_memory_image_client_priv.h and
 * nothing else, yet uses the C library, POSIX file and mapping calls and
 * pthread types (the header brings stdio, stdlib, string, sys/types,
 * sys/stat, fcntl, sys/mman, pthread and unistd), BufferHeader and the
 * IMAGESTREAM_BUFFER_STATE_* / IMAGESTREAM_FRAME_STATE_* names. Built as C
 * and as C++ (CMake: Testing/Core), in the compilers' default modes.
 *
 * What it checks, reading the file through its own mapping as EnSight's
 * client does: a server's create leaves both blocks at INIT; a client's
 * create moves them to SERVER; putframe leaves one block at CLIENT with the
 * frame's header and pixels; lock moves it to CLIENT_LOCKED, unlock back to
 * SERVER. Exit status 0 when all holds, 1 otherwise.
 *
 *   EnSightHeaderProgram FILE
 */
#include <shared_memory_image_client_priv.h>

static int failures = 0;

#define EXPECT(cond)                                                        \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                     \
        }                                                                   \
    } while (0)

/* The two block headers, read from the program's own read-only mapping. */
static void read_headers(const uint8_t *base, size_t length, BufferHeader h[2])
{
    size_t payload = (length - 2 * sizeof(BufferHeader)) / 2;
    memcpy(&h[0], base, sizeof(BufferHeader));
    memcpy(&h[1], base + sizeof(BufferHeader) + payload, sizeof(BufferHeader));
}

/* The block in `state`, or -1 when neither or both are. */
static int block_in(const BufferHeader h[2], uint8_t state)
{
    int s0 = h[0].buffer_state == state, s1 = h[1].buffer_state == state;
    return s0 == s1 ? -1 : s0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    EXPECT(sizeof(BufferHeader) == 24);

    SharedMemoryImageError err = SharedMemoryImageStream_createfile(path, 64, 32);
    EXPECT(err == IMAGESTREAM_NOERROR);
    SharedMemoryImageStream server = NULL, client = NULL;
    err = SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &server);
    if (err < IMAGESTREAM_NOERROR) {
        fprintf(stderr, "create: %s\n", SharedMemoryImageStream_errorstring(err));
        return 1;
    }

    int fd = open(path, O_RDONLY);
    struct stat st;
    EXPECT(fd >= 0 && fstat(fd, &st) == 0);
    size_t length = (size_t)st.st_size;
    EXPECT(length >= (size_t)(20 << 20)); /* what EnSight's client asks for */
    uint8_t *base = (uint8_t *)mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0);
    EXPECT(base != MAP_FAILED);
    close(fd);
    if (base == MAP_FAILED)
        return 1;

    BufferHeader h[2];
    read_headers(base, length, h);
    EXPECT(h[0].buffer_state == IMAGESTREAM_BUFFER_STATE_INIT);
    EXPECT(h[1].buffer_state == IMAGESTREAM_BUFFER_STATE_INIT);

    err = SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &client);
    EXPECT(err == IMAGESTREAM_NOERROR);
    read_headers(base, length, h);
    EXPECT(h[0].buffer_state == IMAGESTREAM_BUFFER_STATE_SERVER);
    EXPECT(h[1].buffer_state == IMAGESTREAM_BUFFER_STATE_SERVER);

    uint32_t w = 64, ht = 32;
    uint8_t *pixels = (uint8_t *)malloc((size_t)w * ht * 3);
    EXPECT(pixels != NULL);
    if (!pixels)
        return 1;
    for (size_t i = 0; i < (size_t)w * ht * 3; i++)
        pixels[i] = (uint8_t)(i * 7 + 1);
    struct _SharedMemoryFrame out;
    out.iFrame = 0;
    out.iWidth = w;
    out.iHeight = ht;
    out.buffer = pixels;
    EXPECT(SharedMemoryImageStream_putframe(server, &out) == IMAGESTREAM_NOERROR);
    read_headers(base, length, h);
    int b = block_in(h, IMAGESTREAM_BUFFER_STATE_CLIENT);
    EXPECT(b >= 0);
    if (b >= 0) {
        EXPECT(h[b].frame_number == 0 && h[b].width == w && h[b].height == ht);
        EXPECT(h[b].offset == 0 && h[b].num_scanlines == ht);
        EXPECT(h[b].pad[0] == 0 && h[b].pad[1] == 0 && h[b].pad[2] == 0);
        size_t at = b == 0 ? sizeof(BufferHeader)
                           : 2 * sizeof(BufferHeader) + (length - 2 * sizeof(BufferHeader)) / 2;
        EXPECT(memcmp(base + at, pixels, (size_t)w * ht * 3) == 0);
    }

    /* A client's own bookkeeping, with EnSight's frame-state names. */
    int frame_state = IMAGESTREAM_FRAME_STATE_UNDEFINED;
    SharedMemoryFrame in = NULL;
    if (SharedMemoryImageStream_lock(client, &in) == IMAGESTREAM_NOERROR)
        frame_state = IMAGESTREAM_FRAME_STATE_IMAGE_LOCKED;
    EXPECT(frame_state == IMAGESTREAM_FRAME_STATE_IMAGE_LOCKED);
    EXPECT(in != NULL && in->iFrame == 0 && memcmp(in->buffer, pixels, (size_t)w * ht * 3) == 0);
    read_headers(base, length, h);
    EXPECT(b >= 0 && h[b].buffer_state == IMAGESTREAM_BUFFER_STATE_CLIENT_LOCKED);
    EXPECT(SharedMemoryImageStream_unlock(client) == IMAGESTREAM_NOERROR);
    frame_state = IMAGESTREAM_FRAME_STATE_UNDEFINED;
    read_headers(base, length, h);
    EXPECT(h[0].buffer_state == IMAGESTREAM_BUFFER_STATE_SERVER);
    EXPECT(h[1].buffer_state == IMAGESTREAM_BUFFER_STATE_SERVER);
    EXPECT(IMAGESTREAM_FRAME_STATE_IMAGE_READY == 1 && frame_state == 0);

    /* EnSight's types for a monitoring thread are there too. */
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    EXPECT(pthread_mutex_lock(&mutex) == 0 && pthread_mutex_unlock(&mutex) == 0);

    munmap(base, length);
    free(pixels);
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(server);
    unlink(path);
    printf("EnSight header program: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
