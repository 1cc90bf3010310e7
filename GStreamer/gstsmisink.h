/* SPDX-License-Identifier: BSD-3-Clause */
/* gstsmisink.h -- smisink: publishes raw video into a shared-memory image stream. */
#ifndef GST_SMI_SINK_H
#define GST_SMI_SINK_H

#include <gst/base/gstbasesink.h>
#include <gst/video/video.h>

#include "shared_memory_image.h"

G_BEGIN_DECLS

#define GST_TYPE_SMI_SINK (gst_smi_sink_get_type())
G_DECLARE_FINAL_TYPE(GstSmiSink, gst_smi_sink, GST, SMI_SINK, GstBaseSink)

/** The stream layouts smisink writes (its "layout" property). */
typedef enum {
    GST_SMI_LAYOUT_EXTENDED = 0, /**< this library's layout: many clients, every format */
    GST_SMI_LAYOUT_ENSIGHT = 1,  /**< EnSight's layout: one client, RGB only */
} GstSmiLayout;

/** The smisink element. Fields past the properties are guarded by `lock`
    (the streaming thread and upstream's buffer pool both use the stream). */
struct _GstSmiSink {
    GstBaseSink parent;

    gchar *location;     /* property, under the object lock */
    GstSmiLayout layout; /* property, under the object lock */

    GMutex lock;
    SharedMemoryImageStream stream; /* the server end, once caps are known */
    gchar *stream_location;         /* what it serves */
    GstSmiLayout stream_layout;
    guint64 capacity;               /* bytes a frame may have in the stream's buffers */
    GstVideoInfo info;              /* negotiated caps */
    uint32_t smi_format;            /* of info */
    gboolean have_info;
    guint32 next_number;            /* frame number when a buffer has no offset */
    GstBuffer *acquired;            /* the pool buffer that holds the acquired frame */
    GstMemory *acquired_mem;        /* its memory (wraps acquired_frame->buffer) */
    SharedMemoryFrame acquired_frame;
    guint acquired_id;              /* its id (pointers can be reused) */
    guint next_id;
    gboolean reopen;                /* the stream must be served anew (caps, location) */
    gboolean closing;               /* stopped while a stream buffer was out: destroy
                                       the stream when it comes back */
    gboolean warned_too_large;
    guint64 zero_copy, copied;      /* frames published each way */
};

/** For the pool (gstsmipool.c), with sink->lock held: acquire the stream's
   buffer for a frame of `info` (the pool's caps). NULL when it cannot be had
   now (another is out, no client in the EnSight layout, other caps, ...);
   else the buffer wraps the shared memory and is recorded as acquired. */
GstBuffer *gst_smi_sink_acquire_locked(GstSmiSink *sink, const GstVideoInfo *info,
                                       gboolean video_meta);

/** For the pool: a buffer from gst_smi_sink_acquire_locked() comes back; when it
   was never published, its frame is abandoned. Takes sink->lock. */
void gst_smi_sink_release(GstSmiSink *sink, GstBuffer *buffer);

G_END_DECLS

#endif /* GST_SMI_SINK_H */
