/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_serve.c -- serve a stream file in one call (SharedMemoryImageStream_serve):
 * make or grow the file for a layout and a frame, open the server end, tell
 * the largest frame it takes. Built on the public API alone; every face
 * (smi-publish, smisink, the ParaView writer and publisher, Python's Server)
 * serves through it.
 */
#include "shared_memory_image.h"

#include <string.h>

/* Does the inspected EnSight-layout file hold a frame like `d` split over
   its two blocks (Core/LAYOUT.md, "Frames split over both blocks")? */
static int smi_holds_split_frame(const SharedMemoryStreamInfo *info,
                                 const SharedMemoryImageDesc *d)
{
    uint64_t row = (uint64_t)d->width * 3u;
    if (info->layout != IMAGESTREAM_LAYOUT_ENSIGHT || d->format != IMAGESTREAM_FORMAT_RGB8 ||
        (d->depth > 1) || row == 0)
        return 0;
    return (uint64_t)d->height <= 2u * (info->buffer_size / row);
}

SharedMemoryImageError SharedMemoryImageStream_serve(const char *filename, uint32_t layout,
                                                     const SharedMemoryImageDesc *max_frame,
                                                     uint32_t options,
                                                     SharedMemoryImageStream *stream,
                                                     uint64_t *capacity)
{
    if (stream)
        *stream = NULL;
    if (capacity)
        *capacity = 0;
    const uint32_t layout_options = IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED;
    if (!filename || !max_frame || !stream || (options & layout_options) ||
        (layout != IMAGESTREAM_LAYOUT_ENSIGHT && layout != IMAGESTREAM_LAYOUT_EXTENDED))
        return IMAGESTREAM_BAD_ARGS;
    /* Never resize a file under a live server: it would move the EnSight
       layout's second block under its clients. */
    SharedMemoryStreamInfo info;
    memset(&info, 0, sizeof info);
    int inspected = SharedMemoryImageStream_inspect(filename, &info) == IMAGESTREAM_NOERROR;
    if (inspected && info.server_alive)
        return IMAGESTREAM_SERVER_ACTIVE;
    /* An EnSight-layout file whose two blocks together hold the frame (the
       25 MiB file pyensight makes, at 4K) is served as it is: frames are
       split over both blocks. Any other file is made or grown to hold two
       whole frames. */
    int split = layout == IMAGESTREAM_LAYOUT_ENSIGHT && inspected &&
                smi_holds_split_frame(&info, max_frame);
    SharedMemoryImageError rc = IMAGESTREAM_NOERROR;
    if (!split)
        rc = SharedMemoryImageStream_createfilelayout(filename, layout, max_frame);
    /* IMAGESTREAM_OPTIONS_ANYFILE: a file the rules refuse is served as it
       is (never grown: createfile*() always refuses it). */
    if (rc == IMAGESTREAM_UNSAFE_FILE && (options & IMAGESTREAM_OPTIONS_ANYFILE) &&
        SharedMemoryImageStream_checkfile(filename, IMAGESTREAM_OPTIONS_ANYFILE, NULL, 0) ==
            IMAGESTREAM_NOERROR)
        rc = IMAGESTREAM_NOERROR;
    if (rc < IMAGESTREAM_NOERROR)
        return rc;
    const uint32_t create_options =
        IMAGESTREAM_OPTIONS_SERVER | options |
        (layout == IMAGESTREAM_LAYOUT_EXTENDED ? IMAGESTREAM_OPTIONS_EXTENDED : 0u);
    rc = SharedMemoryImageStream_create(filename, create_options, stream);
    if (rc < IMAGESTREAM_NOERROR) {
        *stream = NULL;
        return rc;
    }
    if (capacity && SharedMemoryImageStream_info(*stream, &info) == IMAGESTREAM_NOERROR) {
        *capacity = info.buffer_size;
        /* Frames split over both blocks: max_frame is taken, too. */
        uint64_t bytes = (uint64_t)max_frame->width * max_frame->height * 3u;
        if (split && smi_holds_split_frame(&info, max_frame) && bytes > *capacity)
            *capacity = bytes;
    }
    return rc;
}
