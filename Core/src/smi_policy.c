/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_policy.c -- the rules every face (tools, Python, GStreamer, ParaView)
 * shares, built on the public API alone: the message for a path that could
 * not be opened.
 */
#include "shared_memory_image.h"

#include <stdio.h>
#include <string.h>

const char *SharedMemoryImageStream_openerrorstring(const char *filename, uint32_t options,
                                                    SharedMemoryImageError err, const char *optin,
                                                    char *text, size_t text_size)
{
    const char *plain = SharedMemoryImageStream_errorstring(err);
    if (!text || text_size == 0)
        return plain;
    snprintf(text, text_size, "%s", plain);
    if (!filename || (err != IMAGESTREAM_UNABLE_TO_OPEN_FILE && err != IMAGESTREAM_BAD_FILE_SIZE &&
                      err != IMAGESTREAM_UNSAFE_FILE))
        return text;
    /* What the path is, which rule failed, and the fix. */
    char why[1024];
    SharedMemoryImageError found = SharedMemoryImageStream_checkfile(filename, options, why,
                                                                     sizeof why);
    if (found >= IMAGESTREAM_NOERROR || !why[0])
        return text; /* the file changed meanwhile, or nothing to say */
    /* The caller's way to opt in, when that would lift the refusal: the file
       is unsafe by a rule IMAGESTREAM_OPTIONS_ANYFILE waives (not a FIFO, a
       device, a dangling link). */
    int opt_in = optin && optin[0] && err == IMAGESTREAM_UNSAFE_FILE &&
                 found == IMAGESTREAM_UNSAFE_FILE && !(options & IMAGESTREAM_OPTIONS_ANYFILE) &&
                 SharedMemoryImageStream_checkfile(filename, options | IMAGESTREAM_OPTIONS_ANYFILE,
                                                   NULL, 0) == IMAGESTREAM_NOERROR;
    snprintf(text, text_size, "%s (%s%s%s%s)", plain, why, opt_in ? "; or pass " : "",
             opt_in ? optin : "", opt_in ? " to use it as it is" : "");
    return text;
}
