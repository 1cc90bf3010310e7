/* SPDX-License-Identifier: BSD-3-Clause */
/* smi_format.c -- pixel format names and sizes (see smi_format.h), from the
   library's one format table (SMI_FORMAT_LIST). */
#include "smi_format.h"

#include <stddef.h>
#include <stdio.h>
#include <strings.h>

#include "shared_memory_image.h"

uint32_t smi_tool_format_bytes(uint32_t format)
{
    return SharedMemoryImageStream_formatsize(format);
}

const char *smi_tool_format_name(uint32_t format)
{
    return SharedMemoryImageStream_formatname(format);
}

void smi_tool_format_names(char *out, size_t size)
{
    static const char *const names[] = {
#define SMI_FORMAT_NAME(fmt, channels, bytes, kind, name) name,
        SMI_FORMAT_LIST(SMI_FORMAT_NAME)
#undef SMI_FORMAT_NAME
    };
    size_t used = 0;
    if (size > 0)
        out[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i ? ", " : "", names[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int smi_tool_parse_format(const char *text, uint32_t *format)
{
    if (text == NULL)
        return -1;
#define SMI_PARSE_FORMAT(fmt, channels, bytes, kind, name) \
    if (strcasecmp(text, name) == 0) {                      \
        *format = IMAGESTREAM_FORMAT_##fmt;                 \
        return 0;                                           \
    }
    SMI_FORMAT_LIST(SMI_PARSE_FORMAT)
#undef SMI_PARSE_FORMAT
    return -1;
}
