/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_format.h -- the pixel formats (IMAGESTREAM_FORMAT_*) as the tools name
 * and size them (the library's table).
 */
#ifndef SMI_FORMAT_H
#define SMI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes per pixel of an IMAGESTREAM_FORMAT_*, 0 if unknown. */
uint32_t smi_tool_format_bytes(uint32_t format);

/** Name of an IMAGESTREAM_FORMAT_* ("rgb8", ...), "unknown" if unknown. */
const char *smi_tool_format_name(uint32_t format);

/** Every format's name, in the library's order, joined by ", " ("rgb8,
    rgba8, ..."), into out[size] (cut short if it does not fit). */
void smi_tool_format_names(char *out, size_t size);

/** Parse a format name: rgb8, rgba8, gray8, gray16, float32, int16, int32,
    uint32, float64 (any case; the library's table).
    Returns 0 and stores the IMAGESTREAM_FORMAT_*, or -1 (untouched). */
int smi_tool_parse_format(const char *text, uint32_t *format);

#ifdef __cplusplus
}
#endif

#endif /* SMI_FORMAT_H */
