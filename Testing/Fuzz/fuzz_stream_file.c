/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_stream_file -- libFuzzer harness for every parser of file contents:
 * the fuzzer's bytes are the whole stream file. inspect() reads it; a client
 * attaches (layout detection, validation of both layouts), waits, locks,
 * copies and unlocks; then a server of each layout takes the same bytes
 * over and publishes. Seeds: Testing/Fuzz/corpus/file/.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path();
    SharedMemoryStreamInfo info;

    fuzz_write_file(data, size);
    (void)SharedMemoryImageStream_inspect(path, &info);
    SharedMemoryImageStream c = NULL;
    if (SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &c) >= 0) {
        fuzz_client_pass(c, 3);
        SharedMemoryImageStream_destroy(c);
    }

    static const uint32_t servers[] = {
        IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED,
        IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_FLIPVERTICAL,
    };
    for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++) {
        fuzz_write_file(data, size);
        SharedMemoryImageStream s = NULL;
        if (SharedMemoryImageStream_create(path, servers[i], &s) >= 0) {
            /* a client of this process sees the server's frames */
            SharedMemoryImageStream cl = NULL;
            if (SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &cl) < 0)
                cl = NULL;
            fuzz_server_pass(s);
            if (cl) {
                fuzz_client_pass(cl, 2);
                SharedMemoryImageStream_destroy(cl);
            }
            SharedMemoryImageStream_destroy(s);
        }
    }
    unlink(path);
    return 0;
}
