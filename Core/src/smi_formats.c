/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_formats.c -- the pixel formats (the public SMI_FORMAT_LIST as a
 * table), the public calls that look them up, and the size of a frame with
 * its overflow checks, for both layouts and the public API. Calls nothing
 * else of the library.
 */
#include "smi_formats.h"

static const SharedMemoryImageFormatInfo smi_formats[] = {
#define SMI_FORMAT_ENTRY(name, channels, bytes, kind, text) \
    {IMAGESTREAM_FORMAT_##name, channels, bytes, kind, text},
    SMI_FORMAT_LIST(SMI_FORMAT_ENTRY)
#undef SMI_FORMAT_ENTRY
};

const SharedMemoryImageFormatInfo *smi_format_info(uint32_t format)
{
    for (size_t i = 0; i < sizeof smi_formats / sizeof smi_formats[0]; i++)
        if (smi_formats[i].format == format)
            return &smi_formats[i];
    return NULL;
}

uint32_t smi_format_bpp(uint32_t format)
{
    const SharedMemoryImageFormatInfo *f = smi_format_info(format);
    return f ? f->channels * f->bytes_per_channel : 0;
}

int smi_frame_size(uint32_t format, uint32_t width, uint32_t height, uint32_t depth,
                   uint64_t *bytes)
{
    uint64_t bpp = smi_format_bpp(format), n;
    *bytes = 0;
    if (bpp == 0 || width == 0 || height == 0 || depth == 0)
        return SMI_SIZE_INVALID;
    if (__builtin_mul_overflow((uint64_t)width, (uint64_t)height, &n) ||
        __builtin_mul_overflow(n, (uint64_t)depth, &n) || __builtin_mul_overflow(n, bpp, &n))
        return SMI_SIZE_OVERFLOW;
    *bytes = n;
    return SMI_SIZE_OK;
}

/* ---- The public calls ---------------------------------------------------- */

const SharedMemoryImageFormatInfo *SharedMemoryImageStream_formatinfo(uint32_t format)
{
    return smi_format_info(format);
}

uint32_t SharedMemoryImageStream_formatsize(uint32_t format)
{
    return smi_format_bpp(format);
}

const char *SharedMemoryImageStream_formatname(uint32_t format)
{
    const SharedMemoryImageFormatInfo *f = smi_format_info(format);
    return f ? f->name : "unknown";
}
