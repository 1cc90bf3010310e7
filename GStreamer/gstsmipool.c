/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gstsmipool.c -- smisink's buffer pool (see gstsmipool.h).
 *
 * Buffers are made on demand, never kept: acquire_buffer() asks smisink for
 * the stream's acquired buffer (wrapped, not copied) and falls back to
 * ordinary memory; release_buffer() gives an unpublished stream buffer back
 * (abandon) and frees the GstBuffer. The stream's buffer is handed out only
 * while no other buffer of the pool is out, so buffers reach smisink in the
 * order they were taken and a copied frame never waits for a shared one.
 */
#include "gstsmipool.h"

#include "gstsmicommon.h"

struct _GstSmiPool {
    GstBufferPool parent;
    GstSmiSink *sink;     /* reference */
    GstVideoInfo info;    /* the configured caps */
    gboolean video_meta;  /* upstream reads GstVideoMeta (strides of ours) */
    gint outstanding;     /* atomic: buffers out */
};

G_DEFINE_TYPE(GstSmiPool, gst_smi_pool, GST_TYPE_BUFFER_POOL)

static GQuark smi_shared_quark;

gboolean gst_smi_pool_is_shared(GstBuffer *buffer, guint *id)
{
    guint value = GPOINTER_TO_UINT(gst_mini_object_get_qdata(GST_MINI_OBJECT(buffer),
                                                             smi_shared_quark));
    if (id)
        *id = value;
    return value != 0;
}

static const gchar **gst_smi_pool_get_options(GstBufferPool *pool)
{
    (void)pool;
    static const gchar *options[] = {GST_BUFFER_POOL_OPTION_VIDEO_META, NULL};
    return options;
}

static gboolean gst_smi_pool_set_config(GstBufferPool *pool, GstStructure *config)
{
    GstSmiPool *self = GST_SMI_POOL(pool);
    GstCaps *caps = NULL;
    guint size, min, max;
    if (!gst_buffer_pool_config_get_params(config, &caps, &size, &min, &max) || caps == NULL)
        return FALSE;
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps))
        return FALSE;
    self->info = info;
    self->video_meta =
        gst_buffer_pool_config_has_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
    return GST_BUFFER_POOL_CLASS(gst_smi_pool_parent_class)->set_config(pool, config);
}

/* Nothing to allocate up front: buffers are made as they are asked for. */
static gboolean gst_smi_pool_start(GstBufferPool *pool)
{
    (void)pool;
    return TRUE;
}

static GstFlowReturn gst_smi_pool_acquire_buffer(GstBufferPool *pool, GstBuffer **buffer,
                                                 GstBufferPoolAcquireParams *params)
{
    GstSmiPool *self = GST_SMI_POOL(pool);
    (void)params;
    if (GST_BUFFER_POOL_IS_FLUSHING(pool))
        return GST_FLOW_FLUSHING;
    GstBuffer *buf = NULL;
    if (g_atomic_int_add(&self->outstanding, 1) == 0) {
        g_mutex_lock(&self->sink->lock);
        buf = gst_smi_sink_acquire_locked(self->sink, &self->info, self->video_meta);
        g_mutex_unlock(&self->sink->lock);
    }
    if (buf == NULL) {
        buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&self->info), NULL);
        if (buf == NULL) {
            g_atomic_int_add(&self->outstanding, -1);
            return GST_FLOW_ERROR;
        }
        if (self->video_meta)
            gst_buffer_add_video_meta_full(
                buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(&self->info),
                GST_VIDEO_INFO_WIDTH(&self->info), GST_VIDEO_INFO_HEIGHT(&self->info),
                GST_VIDEO_INFO_N_PLANES(&self->info), self->info.offset, self->info.stride);
    }
    *buffer = buf;
    return GST_FLOW_OK;
}

/* Buffers are not reused: nothing to reset. */
static void gst_smi_pool_reset_buffer(GstBufferPool *pool, GstBuffer *buffer)
{
    (void)pool;
    (void)buffer;
}

static void gst_smi_pool_release_buffer(GstBufferPool *pool, GstBuffer *buffer)
{
    GstSmiPool *self = GST_SMI_POOL(pool);
    if (gst_smi_pool_is_shared(buffer, NULL))
        gst_smi_sink_release(self->sink, buffer);
    gst_buffer_unref(buffer); /* its pool is unset by now: this frees it */
    g_atomic_int_add(&self->outstanding, -1);
}

static void gst_smi_pool_finalize(GObject *object)
{
    GstSmiPool *self = GST_SMI_POOL(object);
    gst_object_unref(self->sink);
    G_OBJECT_CLASS(gst_smi_pool_parent_class)->finalize(object);
}

static void gst_smi_pool_class_init(GstSmiPoolClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstBufferPoolClass *pool_class = GST_BUFFER_POOL_CLASS(klass);
    gobject_class->finalize = gst_smi_pool_finalize;
    pool_class->get_options = gst_smi_pool_get_options;
    pool_class->set_config = gst_smi_pool_set_config;
    pool_class->start = gst_smi_pool_start;
    pool_class->acquire_buffer = gst_smi_pool_acquire_buffer;
    pool_class->reset_buffer = gst_smi_pool_reset_buffer;
    pool_class->release_buffer = gst_smi_pool_release_buffer;
    smi_shared_quark = g_quark_from_static_string("GstSmiPool-shared");
}

static void gst_smi_pool_init(GstSmiPool *self)
{
    gst_video_info_init(&self->info);
}

GstBufferPool *gst_smi_pool_new(GstSmiSink *sink)
{
    GstSmiPool *self = g_object_new(GST_TYPE_SMI_POOL, NULL);
    gst_object_ref_sink(self);
    self->sink = gst_object_ref(sink);
    return GST_BUFFER_POOL(self);
}

void gst_smi_pool_mark_shared(GstBuffer *buffer, guint id)
{
    gst_mini_object_set_qdata(GST_MINI_OBJECT(buffer), smi_shared_quark, GUINT_TO_POINTER(id),
                              NULL);
}
