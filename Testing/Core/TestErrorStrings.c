/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestErrorStrings -- every return code has its own non-empty string; an
 * unknown code gets one generic string, never NULL. Also pins the values
 * that are fixed (EnSight's API and our additions), so a renumbering is
 * caught here.
 */
#include "smi_test.h"

static int TestErrorStrings(void)
{
    /* Values fixed by EnSight's client API and the public headers. */
    ASSERT_STR_EQ(IMAGESTREAM_API_VERSION, "1.0");
    ASSERT_EQ(IMAGESTREAM_UNCONNECTED, 4);
    ASSERT_EQ(IMAGESTREAM_RECONNECTING, 3);
    ASSERT_EQ(IMAGESTREAM_NO_FRAMEAVAILABLE, 2);
    ASSERT_EQ(IMAGESTREAM_NO_BUFFERAVAILABLE, 1);
    ASSERT_EQ(IMAGESTREAM_NOERROR, 0);
    ASSERT_EQ(IMAGESTREAM_BAD_ARGS, -1);
    ASSERT_EQ(IMAGESTREAM_NOT_LOCKED, -2);
    ASSERT_EQ(IMAGESTREAM_BAD_FILE_SIZE, -3);
    ASSERT_EQ(IMAGESTREAM_UNABLE_TO_OPEN_FILE, -4);
    ASSERT_EQ(IMAGESTREAM_UNABLE_TO_MAP_FILE, -5);
    ASSERT_EQ(IMAGESTREAM_MEMORY_ALLOC_ERROR, -6);
    ASSERT_EQ(IMAGESTREAM_THREAD_CREATE_ERROR, -7);
    ASSERT_EQ(IMAGESTREAM_IS_SERVER, -8);
    ASSERT_EQ(IMAGESTREAM_IS_NOTSERVER, -9);
    ASSERT_EQ(IMAGESTREAM_FRAME_TOO_LARGE, -10);
    ASSERT_EQ(IMAGESTREAM_LOCKED, -11);
    ASSERT_EQ(IMAGESTREAM_OPTIONS_NONE, 0x00000000);
    ASSERT_EQ(IMAGESTREAM_OPTIONS_FLIPVERTICAL, 0x00000100);
    ASSERT_EQ(IMAGESTREAM_OPTIONS_INITBUFFERHEADERS, 0x00000001);
    ASSERT_EQ(IMAGESTREAM_OPTIONS_NOTHREADS, 0x00000002);
    ASSERT_EQ(IMAGESTREAM_OPTIONS_SERVER, 0x00000003);
    /* Our additions: new non-errors above 4, new errors below -11. */
    ASSERT(IMAGESTREAM_FORMAT_SKIPPED > 4);
    ASSERT(IMAGESTREAM_BAD_FILE_FORMAT < -11);
    ASSERT(IMAGESTREAM_VERSION_MISMATCH < -11);
    ASSERT(IMAGESTREAM_SERVER_ACTIVE < -11);
    ASSERT(IMAGESTREAM_TOO_MANY_CLIENTS < -11);
    ASSERT(IMAGESTREAM_BAD_FORMAT < -11);
    ASSERT_EQ(IMAGESTREAM_BAD_FORMAT, -16);
    ASSERT_EQ(IMAGESTREAM_UNSAFE_FILE, -17);
    ASSERT_EQ(IMAGESTREAM_NO_SPACE, -18);
    ASSERT_EQ(IMAGESTREAM_OPTIONS_EXTENDED, 0x00010000);
    ASSERT_EQ(IMAGESTREAM_OPTIONS_ANYFORMAT, 0x00020000);
    ASSERT_EQ(IMAGESTREAM_OPTIONS_ANYFILE, 0x00040000);

    /* Every code from -18 to 5: non-NULL, non-empty, distinct. */
    enum { LO = -19, HI = 5, N = HI - LO + 1 };
    const char *known[N];
    for (int code = LO; code <= HI; code++) {
        const char *s = SharedMemoryImageStream_errorstring(code);
        ASSERT_MSG(s != NULL, "code %d", code);
        ASSERT_MSG(s[0] != '\0', "code %d has an empty string", code);
        /* Human-readable: printable text, nothing odd. */
        for (const char *c = s; *c; c++)
            ASSERT_MSG((unsigned char)*c >= 0x20, "code %d: control character in \"%s\"", code, s);
        ASSERT_MSG(SharedMemoryImageStream_errorstring(code) == s ||
                       strcmp(SharedMemoryImageStream_errorstring(code), s) == 0,
                   "code %d gives different strings on two calls", code);
        for (int prev = LO; prev < code; prev++)
            ASSERT_MSG(strcmp(known[prev - LO], s) != 0, "codes %d and %d share \"%s\"", prev, code,
                       s);
        known[code - LO] = s;
    }

    /* Unknown codes: one generic string, never NULL, unlike every known one. */
    const int unknown[] = {1337, -1337, HI + 1, LO - 1, 1000000, -1000000, 0x7fffffff,
                           (int)0x80000000};
    const char *generic = SharedMemoryImageStream_errorstring(1337);
    ASSERT(generic != NULL);
    ASSERT(generic[0] != '\0');
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = SharedMemoryImageStream_errorstring(unknown[i]);
        ASSERT_MSG(s != NULL, "code %d", unknown[i]);
        ASSERT_MSG(strcmp(s, generic) == 0, "unknown code %d: \"%s\" vs \"%s\"", unknown[i], s,
                   generic);
    }
    for (int code = LO; code <= HI; code++)
        ASSERT_MSG(strcmp(known[code - LO], generic) != 0,
                   "known code %d has the generic string \"%s\"", code, generic);

    /* The pixel-format helpers of the _priv header. */
    const struct { uint32_t format, size; const char *name; } formats[] = {
        {IMAGESTREAM_FORMAT_RGB8, 3, "rgb8"},   {IMAGESTREAM_FORMAT_RGBA8, 4, "rgba8"},
        {IMAGESTREAM_FORMAT_GRAY8, 1, "gray8"}, {IMAGESTREAM_FORMAT_GRAY16, 2, "gray16"},
        {IMAGESTREAM_FORMAT_FLOAT32, 4, "float32"}, {IMAGESTREAM_FORMAT_INT16, 2, "int16"},
        {IMAGESTREAM_FORMAT_INT32, 4, "int32"}, {IMAGESTREAM_FORMAT_UINT32, 4, "uint32"},
        {IMAGESTREAM_FORMAT_FLOAT64, 8, "float64"}};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        ASSERT_EQ(formats[i].format, i);
        ASSERT_EQ(SharedMemoryImageStream_formatsize(formats[i].format), formats[i].size);
        ASSERT_STR_EQ(SharedMemoryImageStream_formatname(formats[i].format), formats[i].name);
    }
    ASSERT_EQ(SharedMemoryImageStream_formatsize(9), 0);
    ASSERT_EQ(SharedMemoryImageStream_formatsize(0xffffffffu), 0);
    ASSERT_STR_EQ(SharedMemoryImageStream_formatname(9), "unknown");
    ASSERT_STR_EQ(SharedMemoryImageStream_formatname(0xffffffffu), "unknown");

    /* The two codes of careful opening say what they mean. */
    ASSERT(strstr(SharedMemoryImageStream_errorstring(IMAGESTREAM_UNSAFE_FILE),
                  "symbolic link") != NULL);
    ASSERT(strstr(SharedMemoryImageStream_errorstring(IMAGESTREAM_UNSAFE_FILE),
                  "not a regular file") != NULL);
    ASSERT(strstr(SharedMemoryImageStream_errorstring(IMAGESTREAM_NO_SPACE), "space") != NULL);
    return 0;
}

int main(void)
{
    smi_test_watchdog(20);
    return TestErrorStrings();
}
