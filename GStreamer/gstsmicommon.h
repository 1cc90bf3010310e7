/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gstsmicommon.h -- what smisrc and smisink share: the pixel formats both
 * carry (RGB8 <-> RGB, RGBA8 <-> RGBA, GRAY8 <-> GRAY8, GRAY16 <-> GRAY16_LE)
 * and error messages that carry the library's own error string.
 */
#ifndef GST_SMI_COMMON_H
#define GST_SMI_COMMON_H

#include <gst/gst.h>
#include <gst/video/video.h>

#include "shared_memory_image.h"

G_BEGIN_DECLS

/** Caps of every raw video format the elements carry (any size, any rate). */
#define GST_SMI_VIDEO_CAPS GST_VIDEO_CAPS_MAKE("{ RGB, RGBA, GRAY8, GRAY16_LE }")

/** Caps of what the EnSight layout carries: packed RGB only. */
#define GST_SMI_VIDEO_CAPS_RGB GST_VIDEO_CAPS_MAKE("RGB")

/** The GstVideoFormat of a stream format (IMAGESTREAM_FORMAT_*), or
    GST_VIDEO_FORMAT_UNKNOWN for one the elements do not carry: float32,
    int16, int32, uint32 and float64, for which GStreamer has no raw video
    format of the same meaning (its GRAY16_LE is unsigned; it has no 32-bit
    or float gray). */
GstVideoFormat gst_smi_video_format(uint32_t smi_format);

/** The stream format of a GstVideoFormat into *smi_format; FALSE when the
    elements do not carry that format. */
gboolean gst_smi_stream_format(GstVideoFormat format, uint32_t *smi_format);

/** Bytes of one packed row (no padding) of `width` pixels of a stream format. */
guint64 gst_smi_packed_stride(uint32_t smi_format, uint32_t width);

/** Copy one frame of `height` rows of `row_bytes` from `src` (rows `src_stride`
    apart) to `dst` (rows `dst_stride` apart). */
void gst_smi_copy_rows(guint8 *dst, gsize dst_stride, const guint8 *src, gsize src_stride,
                       gsize row_bytes, guint height);

/** `caps` narrowed by `filter` (a get_caps() query's), taking `caps`'s
    reference; `caps` itself when there is no filter. */
GstCaps *gst_smi_caps_filtered(GstCaps *caps, GstCaps *filter);

/** A short name of a library return code for debug text: "IMAGESTREAM_BAD_ARGS (-1)". */
gchar *gst_smi_code_name(SharedMemoryImageError err);

/** The message for `err` from opening the stream file `location`, as every
    face shows it (SharedMemoryImageStream_openerrorstring()). Free with
    g_free(). */
gchar *gst_smi_open_error_text(const char *location, SharedMemoryImageError err);

G_END_DECLS

#endif /* GST_SMI_COMMON_H */
