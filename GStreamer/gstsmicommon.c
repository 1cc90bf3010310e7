/* SPDX-License-Identifier: BSD-3-Clause */
/* gstsmicommon.c -- format mapping and helpers shared by smisrc and smisink. */
#include "gstsmicommon.h"

#include <string.h>

GstVideoFormat gst_smi_video_format(uint32_t smi_format)
{
    switch (smi_format) {
    case IMAGESTREAM_FORMAT_RGB8: return GST_VIDEO_FORMAT_RGB;
    case IMAGESTREAM_FORMAT_RGBA8: return GST_VIDEO_FORMAT_RGBA;
    case IMAGESTREAM_FORMAT_GRAY8: return GST_VIDEO_FORMAT_GRAY8;
    case IMAGESTREAM_FORMAT_GRAY16: return GST_VIDEO_FORMAT_GRAY16_LE;
    default: return GST_VIDEO_FORMAT_UNKNOWN;
    }
}

gboolean gst_smi_stream_format(GstVideoFormat format, uint32_t *smi_format)
{
    switch (format) {
    case GST_VIDEO_FORMAT_RGB: *smi_format = IMAGESTREAM_FORMAT_RGB8; return TRUE;
    case GST_VIDEO_FORMAT_RGBA: *smi_format = IMAGESTREAM_FORMAT_RGBA8; return TRUE;
    case GST_VIDEO_FORMAT_GRAY8: *smi_format = IMAGESTREAM_FORMAT_GRAY8; return TRUE;
    case GST_VIDEO_FORMAT_GRAY16_LE: *smi_format = IMAGESTREAM_FORMAT_GRAY16; return TRUE;
    default: return FALSE;
    }
}

guint64 gst_smi_packed_stride(uint32_t smi_format, uint32_t width)
{
    return (guint64)SharedMemoryImageStream_formatsize(smi_format) * width;
}

void gst_smi_copy_rows(guint8 *dst, gsize dst_stride, const guint8 *src, gsize src_stride,
                       gsize row_bytes, guint height)
{
    if (dst_stride == row_bytes && src_stride == row_bytes) {
        memcpy(dst, src, row_bytes * height);
        return;
    }
    for (guint y = 0; y < height; y++)
        memcpy(dst + (gsize)y * dst_stride, src + (gsize)y * src_stride, row_bytes);
}

gchar *gst_smi_code_name(SharedMemoryImageError err)
{
    const char *name = SharedMemoryImageStream_errorname(err);
    return g_strdup_printf("%s (%d)", name ? name : "unknown code", err);
}

gchar *gst_smi_open_error_text(const char *location, SharedMemoryImageError err)
{
    char text[1400];
    return g_strdup(SharedMemoryImageStream_openerrorstring(location, IMAGESTREAM_OPTIONS_NONE,
                                                            err, NULL, text, sizeof text));
}

GstCaps *gst_smi_caps_filtered(GstCaps *caps, GstCaps *filter)
{
    if (filter == NULL)
        return caps;
    GstCaps *both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(caps);
    return both;
}
