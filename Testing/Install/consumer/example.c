/* Publish 100 frames (./example serve FILE), or print each new frame (./example watch FILE). */
#include <shared_memory_image.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) return 2;
    SharedMemoryImageStream s;
    if (strcmp(argv[1], "serve") == 0) {
        SharedMemoryImageStream_createfile(argv[2], 640, 480);
        int err = SharedMemoryImageStream_create(argv[2],
                      IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s);
        if (err < 0) { fprintf(stderr, "%s\n", SharedMemoryImageStream_errorstring(err)); return 1; }
        for (int i = 0; i < 100; i++) {
            SharedMemoryFrame f;
            if (SharedMemoryImageStream_acquire(s, 640, 480, &f) == IMAGESTREAM_NOERROR) {
                memset(f->buffer, i, 640 * 480 * 3);  /* render into shared memory */
                SharedMemoryImageStream_publish(s);
            }
        }
    } else {
        int err = SharedMemoryImageStream_create(argv[2], IMAGESTREAM_OPTIONS_NONE, &s);
        if (err < 0) { fprintf(stderr, "%s\n", SharedMemoryImageStream_errorstring(err)); return 1; }
        SharedMemoryFrame f;
        while (SharedMemoryImageStream_wait(s, 1000) == IMAGESTREAM_NOERROR)
            if (SharedMemoryImageStream_lock(s, &f) == IMAGESTREAM_NOERROR) {
                printf("frame %u: %ux%u, first byte %u\n", f->iFrame, f->iWidth, f->iHeight, f->buffer[0]);
                SharedMemoryImageStream_unlock(s);
            }
    }
    SharedMemoryImageStream_destroy(s);
    return 0;
}
