/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestApi -- the public header's tables and the calls made from them:
 *   - version(): the header's version string and number;
 *   - every code of SMI_ERROR_LIST has its macro's name from errorname() and
 *     its description from errorstring(); other values get NULL and
 *     "unknown error code";
 *   - every format of SMI_FORMAT_LIST has its description from
 *     formatinfo(), and formatsize()/formatname() agree with it;
 *   - a SharedMemoryImageDesc's size: 0 and sizeof work, a size no version
 *     has is BAD_ARGS, a newer caller's larger struct is read up to this
 *     version's members; describe() sets it.
 */
#include "smi_test.h"

#define STR2(x) #x
#define STR(x) STR2(x)

static void check_version(void)
{
    uint32_t number = 0;
    const char *v = SharedMemoryImageStream_version(&number);
    ASSERT_STR_EQ(v, STR(SMI_VERSION_MAJOR) "." STR(SMI_VERSION_MINOR) "." STR(SMI_VERSION_PATCH));
    ASSERT_EQ(number, SMI_VERSION_NUMBER);
    ASSERT(SharedMemoryImageStream_version(NULL) == v);
}

static void check_errors(void)
{
    int seen = 0;
#define CHECK_CODE(name, text)                                                             \
    ASSERT_STR_EQ(SharedMemoryImageStream_errorname(IMAGESTREAM_##name), "IMAGESTREAM_" #name); \
    ASSERT_STR_EQ(SharedMemoryImageStream_errorstring(IMAGESTREAM_##name), text);          \
    seen++;
    SMI_ERROR_LIST(CHECK_CODE)
#undef CHECK_CODE
    ASSERT_EQ(seen, 5 + 1 + 19); /* FORMAT_SKIPPED..NO_BUFFERAVAILABLE, NOERROR, -1..-19 */
    for (int code = -40; code <= 40; code++) {
        int known = (code >= IMAGESTREAM_NOT_A_STREAM && code <= IMAGESTREAM_FORMAT_SKIPPED);
        ASSERT_EQ(SharedMemoryImageStream_errorname(code) != NULL, known);
        if (!known)
            ASSERT_STR_EQ(SharedMemoryImageStream_errorstring(code), "unknown error code");
    }
}

static void check_formats(void)
{
    int seen = 0;
#define CHECK_FORMAT(fmt, ch, bytes, kind_, text)                                         \
    do {                                                                                    \
        const SharedMemoryImageFormatInfo *f =                                              \
            SharedMemoryImageStream_formatinfo(IMAGESTREAM_FORMAT_##fmt);                  \
        ASSERT(f != NULL);                                                                  \
        ASSERT_EQ(f->format, IMAGESTREAM_FORMAT_##fmt);                                    \
        ASSERT_EQ(f->channels, ch);                                                         \
        ASSERT_EQ(f->bytes_per_channel, bytes);                                             \
        ASSERT_EQ(f->kind, kind_);                                                          \
        ASSERT_STR_EQ(f->name, text);                                                       \
        ASSERT_EQ(SharedMemoryImageStream_formatsize(IMAGESTREAM_FORMAT_##fmt), ch * bytes); \
        ASSERT_STR_EQ(SharedMemoryImageStream_formatname(IMAGESTREAM_FORMAT_##fmt), text); \
        seen++;                                                                             \
    } while (0);
    SMI_FORMAT_LIST(CHECK_FORMAT)
#undef CHECK_FORMAT
    ASSERT_EQ(seen, 9);
    ASSERT(SharedMemoryImageStream_formatinfo(9) == NULL);
    ASSERT(SharedMemoryImageStream_formatinfo(UINT32_MAX) == NULL);
    ASSERT_EQ(SharedMemoryImageStream_formatsize(9), 0);
    ASSERT_STR_EQ(SharedMemoryImageStream_formatname(9), "unknown");
}

/* A later version's struct: this one's members, then more. */
typedef struct {
    SharedMemoryImageDesc v1;
    uint64_t later_member;
} newer_desc_t;

static void check_desc_size(void)
{
    const char *path = smi_test_path("api");
    SharedMemoryImageDesc d = SMI_DESC_INIT;
    ASSERT_EQ(d.size, sizeof d);
    d.format = IMAGESTREAM_FORMAT_GRAY16;
    d.width = 32;
    d.height = 8;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(path, &d));
    d.size = 0; /* the first version */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(path, &d));
    d.size = 4; /* no version is this small */
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfileformat(path, &d));

    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_acquireformat(s, &d, &f));
    newer_desc_t newer;
    memset(&newer, 0, sizeof newer);
    newer.v1 = d;
    newer.v1.size = sizeof newer;
    newer.v1.timestamp = 12.5;
    newer.later_member = 99; /* unknown to this version: ignored */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquireformat(s, &newer.v1, &f));
    SharedMemoryImageDesc got;
    /* describe() sets every member of the struct's first version, size
       included (flags come from frameflags()) */
    memset(&got, 0xA5, sizeof got);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_describe(s, &got));
    ASSERT_EQ(got.size, SMI_DESC_SIZE_V1);
    ASSERT_EQ(got.format, IMAGESTREAM_FORMAT_GRAY16);
    ASSERT_EQ(got.width, 32);
    ASSERT_EQ(got.height, 8);
    ASSERT_EQ(got.depth, 1);
    ASSERT(got.timestamp == 12.5);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_abandon(s));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

int main(void)
{
    smi_test_watchdog(30);
    check_version();
    check_errors();
    check_formats();
    check_desc_size();
    puts("TestApi: passed");
    return 0;
}
