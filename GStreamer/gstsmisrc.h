/* SPDX-License-Identifier: BSD-3-Clause */
/* gstsmisrc.h -- smisrc: a live source that reads a shared-memory image stream. */
#ifndef GST_SMI_SRC_H
#define GST_SMI_SRC_H

#include <gst/base/gstpushsrc.h>
#include <gst/video/video.h>

#include "shared_memory_image.h"

G_BEGIN_DECLS

#define GST_TYPE_SMI_SRC (gst_smi_src_get_type())
G_DECLARE_FINAL_TYPE(GstSmiSrc, gst_smi_src, GST, SMI_SRC, GstPushSrc)

/** The smisrc element (private fields: see gstsmisrc.c). */
struct _GstSmiSrc {
    GstPushSrc parent;

    /* Properties (under the object lock). */
    gchar *location;      /* stream file */
    guint retry_timeout;  /* ms to keep re-attaching after the stream failed */
    gint mode;            /* GstSmiSrcMode */
    guint64 lost;         /* queue modes: frames overwritten before they were read */

    /* Streaming state (streaming thread, start and stop only). */
    SharedMemoryImageStream stream;
    SharedMemoryStreamStatus status; /* where the stream stands (the library's policy) */
    gint64 next_check_us;    /* next look at the server (monotonic) */
    gint64 failing_since_us; /* re-attaching since (0: attached) */
    gint flushing;           /* atomic: unlock() was called */
    GstCaps *caps;           /* caps of the frames pushed lately */
    GstVideoInfo info;       /* of caps */
    uint32_t smi_format;     /* of caps */
    gboolean anchored;       /* stream timestamps mapped to running time */
    gdouble ts_anchor;       /* a stream timestamp ... */
    GstClockTime rt_anchor;  /* ... and its running time */
    gdouble last_ts;
    GstClockTime last_pts;
};

G_END_DECLS

#endif /* GST_SMI_SRC_H */
