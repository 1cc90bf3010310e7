/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gstsmipool.h -- the buffer pool smisink offers upstream: its buffers are the
 * stream's own (SharedMemoryImageStream_acquireformat), so upstream draws
 * straight into shared memory; when the stream's buffer cannot be had (one is
 * out already, no client in the EnSight layout, strides that do not match and
 * no GstVideoMeta upstream) it hands out ordinary memory, which smisink then
 * copies once.
 */
#ifndef GST_SMI_POOL_H
#define GST_SMI_POOL_H

#include <gst/video/video.h>

#include "gstsmisink.h"

G_BEGIN_DECLS

#define GST_TYPE_SMI_POOL (gst_smi_pool_get_type())
G_DECLARE_FINAL_TYPE(GstSmiPool, gst_smi_pool, GST, SMI_POOL, GstBufferPool)

/** A new pool that takes its buffers from `sink`'s stream (holds a reference). */
GstBufferPool *gst_smi_pool_new(GstSmiSink *sink);

/** TRUE when `buffer`'s memory is a stream buffer acquired for smisink. */
gboolean gst_smi_pool_is_shared(GstBuffer *buffer, guint *id);

/** Mark `buffer` as holding the stream's acquired frame, under the id `id` (> 0). */
void gst_smi_pool_mark_shared(GstBuffer *buffer, guint id);

G_END_DECLS

#endif /* GST_SMI_POOL_H */
