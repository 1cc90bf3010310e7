/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_errors.c -- the return codes' strings and names, and the library's
 * version, from the public header's one list (SMI_ERROR_LIST).
 */
#include "smi_internal.h"

#include <stdio.h>

const char *SharedMemoryImageStream_errorstring(SharedMemoryImageError err)
{
    switch (err) {
#define SMI_ERROR_CASE(name, text) \
    case IMAGESTREAM_##name:       \
        return text;
        SMI_ERROR_LIST(SMI_ERROR_CASE)
#undef SMI_ERROR_CASE
    default:
        return "unknown error code";
    }
}

const char *SharedMemoryImageStream_errorname(SharedMemoryImageError err)
{
    switch (err) {
#define SMI_ERROR_CASE(name, text) \
    case IMAGESTREAM_##name:       \
        return "IMAGESTREAM_" #name;
        SMI_ERROR_LIST(SMI_ERROR_CASE)
#undef SMI_ERROR_CASE
    default:
        return NULL;
    }
}

#define SMI_STR2(x) #x
#define SMI_STR(x) SMI_STR2(x)

const char *SharedMemoryImageStream_version(uint32_t *number)
{
    if (number)
        *number = SMI_VERSION_NUMBER;
    return SMI_STR(SMI_VERSION_MAJOR) "." SMI_STR(SMI_VERSION_MINOR) "." SMI_STR(SMI_VERSION_PATCH);
}
