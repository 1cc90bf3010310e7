/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gstsmisink.c -- smisink, a sink that serves a shared-memory image stream
 * (extended or EnSight layout) and publishes each buffer as a frame.
 *
 * Going to READY checks the location (the file is created when missing, or
 * checked as a careful server would), so a bad one fails the state change.
 * The stream is served once caps are known, and served again when a frame
 * would not fit (SharedMemoryImageStream_serve: the file sized for the
 * chosen layout alone, grown as needed). Upstream is offered a GstSmiPool
 * whose buffers are the stream's own (acquire/publish, no copy); any other
 * buffer is copied once (putframe, or acquire + rows for padded strides).
 * Frame numbers are the buffers' offsets when set (videotestsrc, smisrc), else
 * counted. The stream's timestamp is the UNIX time of the acquire.
 */
#include "gstsmisink.h"

#include <string.h>

#include "gstsmicommon.h"
#include "gstsmipool.h"

GST_DEBUG_CATEGORY_STATIC(gst_smi_sink_debug);
#define GST_CAT_DEFAULT gst_smi_sink_debug

enum { PROP_0, PROP_LOCATION, PROP_LAYOUT };

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_SMI_VIDEO_CAPS));

G_DEFINE_TYPE(GstSmiSink, gst_smi_sink, GST_TYPE_BASE_SINK)

#define GST_TYPE_SMI_LAYOUT (gst_smi_layout_get_type())
static GType gst_smi_layout_get_type(void)
{
    static GType type = 0;
    static const GEnumValue values[] = {
        {GST_SMI_LAYOUT_EXTENDED, "Extended layout: many clients, every format", "extended"},
        {GST_SMI_LAYOUT_ENSIGHT, "EnSight's layout: one client, RGB only", "ensight"},
        {0, NULL, NULL},
    };
    if (g_once_init_enter(&type)) {
        GType t = g_enum_register_static("GstSmiLayout", values);
        g_once_init_leave(&type, t);
    }
    return type;
}

/* Post an error naming the library's code; always FALSE. */
static gboolean smi_sink_error(GstSmiSink *self, const char *what, const char *location,
                               const char *call, SharedMemoryImageError rc)
{
    gchar *code = gst_smi_code_name(rc);
    gchar *text = gst_smi_open_error_text(location, rc);
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("%s \"%s\": %s", what, location, text),
                      ("%s: %s", call, code));
    g_free(text);
    g_free(code);
    return FALSE;
}

/* TRUE when a location is set; else FALSE after posting an error. */
static gboolean smi_sink_location_set(GstSmiSink *self, const gchar *location)
{
    if (location == NULL || *location == '\0') {
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No stream file given (set \"location\")"),
                          (NULL));
        return FALSE;
    }
    return TRUE;
}

/* Create the stream file `location` for frames like `desc` in `layout`, or
   check (and grow) an existing one as a careful server would. FALSE after
   posting an error (no location, or the library's refusal). */
static gboolean smi_sink_create_file(GstSmiSink *self, const gchar *location, GstSmiLayout layout,
                                     const SharedMemoryImageDesc *desc)
{
    if (!smi_sink_location_set(self, location))
        return FALSE;
    SharedMemoryImageError rc = SharedMemoryImageStream_createfilelayout(
        location,
        layout == GST_SMI_LAYOUT_ENSIGHT ? IMAGESTREAM_LAYOUT_ENSIGHT : IMAGESTREAM_LAYOUT_EXTENDED,
        desc);
    if (rc < IMAGESTREAM_NOERROR)
        return smi_sink_error(self, "Cannot create the stream file", location,
                              "SharedMemoryImageStream_createfilelayout", rc);
    return TRUE;
}

static void smi_sink_destroy_locked(GstSmiSink *self)
{
    if (self->stream) {
        SharedMemoryImageStream_destroy(self->stream);
        self->stream = NULL;
    }
    g_clear_pointer(&self->stream_location, g_free);
    self->closing = FALSE;
}

/* Serve the stream for the negotiated caps when it is not served, or must be
   served anew (location, layout, or a frame that does not fit). Not while a
   stream buffer is out (its memory is the mapping): then later. FALSE after
   posting an error. */
static gboolean smi_sink_serve_locked(GstSmiSink *self)
{
    if (!self->have_info || self->acquired)
        return TRUE;
    GST_OBJECT_LOCK(self);
    gchar *location = g_strdup(self->location);
    GstSmiLayout layout = self->layout;
    GST_OBJECT_UNLOCK(self);
    SharedMemoryImageDesc desc = SMI_DESC_INIT;
    desc.format = self->smi_format;
    desc.width = (uint32_t)GST_VIDEO_INFO_WIDTH(&self->info);
    desc.height = (uint32_t)GST_VIDEO_INFO_HEIGHT(&self->info);
    desc.depth = 1;
    guint64 bytes = gst_smi_packed_stride(desc.format, desc.width) * desc.height;
    if (self->stream && !self->reopen && !self->closing &&
        g_strcmp0(location, self->stream_location) == 0 && layout == self->stream_layout &&
        bytes <= self->capacity) {
        g_free(location);
        return TRUE;
    }
    smi_sink_destroy_locked(self);
    self->reopen = FALSE;
    if (!smi_sink_location_set(self, location)) {
        g_free(location);
        return FALSE;
    }
    SharedMemoryImageStream stream = NULL;
    SharedMemoryImageError rc = SharedMemoryImageStream_serve(
        location,
        layout == GST_SMI_LAYOUT_ENSIGHT ? IMAGESTREAM_LAYOUT_ENSIGHT : IMAGESTREAM_LAYOUT_EXTENDED,
        &desc, IMAGESTREAM_OPTIONS_NONE, &stream, &self->capacity);
    if (rc < IMAGESTREAM_NOERROR) {
        smi_sink_error(self, "Cannot serve the shared-memory image stream", location,
                       "SharedMemoryImageStream_serve", rc);
        g_free(location);
        return FALSE;
    }
    self->stream = stream;
    self->stream_location = location;
    self->stream_layout = layout;
    self->warned_too_large = FALSE;
    GST_INFO_OBJECT(self, "serving %s (%s layout, %" G_GUINT64_FORMAT " bytes per frame)",
                    location, layout == GST_SMI_LAYOUT_ENSIGHT ? "EnSight" : "extended",
                    self->capacity);
    if (bytes > self->capacity)
        GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                            ("The stream \"%s\" holds frames of %" G_GUINT64_FORMAT
                             " bytes, not %" G_GUINT64_FORMAT ": clients still attached keep "
                             "its buffers from growing; frames are dropped",
                             location, self->capacity, bytes),
                            (NULL));
    return TRUE;
}

GstBuffer *gst_smi_sink_acquire_locked(GstSmiSink *self, const GstVideoInfo *info,
                                       gboolean video_meta)
{
    if (!self->stream || !self->have_info || self->acquired || self->reopen || self->closing)
        return NULL;
    if (GST_VIDEO_INFO_FORMAT(info) != GST_VIDEO_INFO_FORMAT(&self->info) ||
        GST_VIDEO_INFO_WIDTH(info) != GST_VIDEO_INFO_WIDTH(&self->info) ||
        GST_VIDEO_INFO_HEIGHT(info) != GST_VIDEO_INFO_HEIGHT(&self->info))
        return NULL;
    guint64 row = gst_smi_packed_stride(self->smi_format, (uint32_t)GST_VIDEO_INFO_WIDTH(info));
    guint64 bytes = row * (guint64)GST_VIDEO_INFO_HEIGHT(info);
    /* Without GstVideoMeta upstream writes the default strides: only when
       they are the stream's (packed rows) can it write into the stream. */
    if (!video_meta && (guint64)GST_VIDEO_INFO_PLANE_STRIDE(info, 0) != row)
        return NULL;
    if (bytes > self->capacity)
        return NULL;
    SharedMemoryImageDesc desc = SMI_DESC_INIT;
    desc.format = self->smi_format;
    desc.width = (uint32_t)GST_VIDEO_INFO_WIDTH(info);
    desc.height = (uint32_t)GST_VIDEO_INFO_HEIGHT(info);
    desc.depth = 1;
    SharedMemoryFrame frame = NULL;
    if (SharedMemoryImageStream_acquireformat(self->stream, &desc, &frame) != IMAGESTREAM_NOERROR)
        return NULL; /* no free buffer, no client (EnSight), ...: ordinary memory */
    GstBuffer *buf = gst_buffer_new();
    GstMemory *mem = gst_memory_new_wrapped(0, frame->buffer, bytes, 0, bytes, NULL, NULL);
    gst_buffer_append_memory(buf, mem);
    if (video_meta) {
        gsize offset[GST_VIDEO_MAX_PLANES] = {0};
        gint stride[GST_VIDEO_MAX_PLANES] = {(gint)row};
        gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(info),
                                       desc.width, desc.height, 1, offset, stride);
    }
    if (++self->next_id == 0)
        self->next_id = 1;
    gst_smi_pool_mark_shared(buf, self->next_id);
    self->acquired = buf;
    self->acquired_mem = mem;
    self->acquired_frame = frame;
    self->acquired_id = self->next_id;
    return buf;
}

void gst_smi_sink_release(GstSmiSink *self, GstBuffer *buffer)
{
    guint id = 0;
    gst_smi_pool_is_shared(buffer, &id);
    g_mutex_lock(&self->lock);
    if (self->acquired == buffer && self->acquired_id == id) {
        GST_DEBUG_OBJECT(self, "frame in buffer %u dropped unpublished: abandoned", id);
        if (self->stream)
            SharedMemoryImageStream_abandon(self->stream);
        self->acquired = NULL;
        self->acquired_mem = NULL;
        self->acquired_frame = NULL;
        if (self->closing)
            smi_sink_destroy_locked(self);
    }
    g_mutex_unlock(&self->lock);
}

static gboolean gst_smi_sink_set_caps(GstBaseSink *base, GstCaps *caps)
{
    GstSmiSink *self = GST_SMI_SINK(base);
    GstVideoInfo info;
    uint32_t smi_format;
    if (!gst_video_info_from_caps(&info, caps) ||
        !gst_smi_stream_format(GST_VIDEO_INFO_FORMAT(&info), &smi_format)) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Caps not supported: %" GST_PTR_FORMAT, caps),
                          (NULL));
        return FALSE;
    }
    g_mutex_lock(&self->lock);
    self->info = info;
    self->smi_format = smi_format;
    self->have_info = TRUE;
    gboolean ok = smi_sink_serve_locked(self);
    g_mutex_unlock(&self->lock);
    return ok;
}

/* The EnSight layout carries RGB only. */
static GstCaps *gst_smi_sink_get_caps(GstBaseSink *base, GstCaps *filter)
{
    GstSmiSink *self = GST_SMI_SINK(base);
    GST_OBJECT_LOCK(self);
    gboolean rgb_only = self->layout == GST_SMI_LAYOUT_ENSIGHT;
    GST_OBJECT_UNLOCK(self);
    GstCaps *caps = rgb_only ? gst_caps_from_string(GST_SMI_VIDEO_CAPS_RGB)
                             : gst_pad_get_pad_template_caps(GST_BASE_SINK_PAD(base));
    return gst_smi_caps_filtered(caps, filter);
}

static gboolean gst_smi_sink_propose_allocation(GstBaseSink *base, GstQuery *query)
{
    GstSmiSink *self = GST_SMI_SINK(base);
    GstCaps *caps = NULL;
    gboolean need_pool = FALSE;
    gst_query_parse_allocation(query, &caps, &need_pool);
    GstVideoInfo info;
    if (caps == NULL || !gst_video_info_from_caps(&info, caps))
        return FALSE;
    if (need_pool) {
        GstBufferPool *pool = gst_smi_pool_new(self);
        GstStructure *config = gst_buffer_pool_get_config(pool);
        gst_buffer_pool_config_set_params(config, caps, (guint)GST_VIDEO_INFO_SIZE(&info), 0, 0);
        gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
        if (!gst_buffer_pool_set_config(pool, config)) {
            gst_object_unref(pool);
            return FALSE;
        }
        gst_query_add_allocation_pool(query, pool, (guint)GST_VIDEO_INFO_SIZE(&info), 0, 0);
        gst_object_unref(pool);
    }
    gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, NULL);
    return TRUE;
}

/* Copy an ordinary buffer into the stream and publish it: putframe for packed
   rows, else acquire and copy the rows. */
static SharedMemoryImageError smi_sink_copy_locked(GstSmiSink *self, GstBuffer *buf,
                                                   guint32 number)
{
    GstVideoFrame vf;
    if (!gst_video_frame_map(&vf, &self->info, buf, GST_MAP_READ))
        return IMAGESTREAM_BAD_ARGS;
    SharedMemoryImageDesc desc = SMI_DESC_INIT;
    desc.format = self->smi_format;
    desc.width = (uint32_t)GST_VIDEO_INFO_WIDTH(&self->info);
    desc.height = (uint32_t)GST_VIDEO_INFO_HEIGHT(&self->info);
    desc.depth = 1;
    gsize row = (gsize)gst_smi_packed_stride(desc.format, desc.width);
    gsize stride = (gsize)GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);
    const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA(&vf, 0);
    SharedMemoryImageError rc;
    if (stride == row) {
        rc = SharedMemoryImageStream_putframeformat(self->stream, &desc, number, src);
    } else {
        SharedMemoryFrame frame = NULL;
        rc = SharedMemoryImageStream_acquireformat(self->stream, &desc, &frame);
        if (rc == IMAGESTREAM_NOERROR) {
            gst_smi_copy_rows(frame->buffer, row, src, stride, row, desc.height);
            frame->iFrame = number;
            rc = SharedMemoryImageStream_publish(self->stream);
        }
    }
    gst_video_frame_unmap(&vf);
    return rc;
}

static GstFlowReturn gst_smi_sink_render(GstBaseSink *base, GstBuffer *buf)
{
    GstSmiSink *self = GST_SMI_SINK(base);
    g_mutex_lock(&self->lock);
    if (!smi_sink_serve_locked(self)) {
        g_mutex_unlock(&self->lock);
        return GST_FLOW_ERROR;
    }
    if (!self->stream) {
        g_mutex_unlock(&self->lock);
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("No caps before the first buffer"), (NULL));
        return GST_FLOW_NOT_NEGOTIATED;
    }
    guint64 offset = GST_BUFFER_OFFSET(buf);
    guint32 number = (offset != GST_BUFFER_OFFSET_NONE && offset <= G_MAXUINT32)
                         ? (guint32)offset
                         : self->next_number;
    self->next_number = number + 1;
    SharedMemoryImageError rc;
    const char *call;
    if (self->acquired && gst_buffer_n_memory(buf) == 1 &&
        gst_buffer_peek_memory(buf, 0) == self->acquired_mem) {
        /* Upstream drew into the stream's buffer: publish it, no copy. */
        self->acquired_frame->iFrame = number;
        rc = SharedMemoryImageStream_publish(self->stream);
        call = "SharedMemoryImageStream_publish";
        self->acquired = NULL;
        self->acquired_mem = NULL;
        self->acquired_frame = NULL;
        self->zero_copy++;
    } else if (self->acquired) {
        /* A stream buffer is still out upstream and holds the stream's one
           acquired frame; this buffer came first (rare): drop it. */
        GST_DEBUG_OBJECT(self, "frame %u dropped: a stream buffer is out", number);
        rc = IMAGESTREAM_NO_BUFFERAVAILABLE;
        call = NULL;
    } else {
        rc = smi_sink_copy_locked(self, buf, number);
        call = "SharedMemoryImageStream_putframeformat";
        self->copied++;
    }
    gchar *location = g_strdup(self->stream_location);
    gboolean too_large = rc == IMAGESTREAM_FRAME_TOO_LARGE && !self->warned_too_large;
    if (too_large)
        self->warned_too_large = TRUE;
    g_mutex_unlock(&self->lock);

    GstFlowReturn ret = GST_FLOW_OK;
    if (rc == IMAGESTREAM_FRAME_TOO_LARGE) {
        if (too_large)
            GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                                ("Frames do not fit the stream \"%s\" (%s); dropping them",
                                 location, SharedMemoryImageStream_errorstring(rc)),
                                (NULL));
    } else if (rc < IMAGESTREAM_NOERROR) {
        gchar *code = gst_smi_code_name(rc);
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                          ("Cannot publish into the shared-memory image stream \"%s\": %s",
                           location, SharedMemoryImageStream_errorstring(rc)),
                          ("%s: %s", call ? call : "render", code));
        g_free(code);
        ret = GST_FLOW_ERROR;
    }
    g_free(location);
    return ret;
}

/* Going to READY: check the location now, so that an unusable one (no such
   folder, a FIFO, a link, another user's file) fails the state change itself
   rather than the first frame in the streaming thread. The file is created
   when missing (for the smallest frame; caps grow it) or checked as it is. */
static gboolean gst_smi_sink_start(GstBaseSink *base)
{
    GstSmiSink *self = GST_SMI_SINK(base);
    GST_OBJECT_LOCK(self);
    gchar *location = g_strdup(self->location);
    GstSmiLayout layout = self->layout;
    GST_OBJECT_UNLOCK(self);
    SharedMemoryImageDesc smallest = SMI_DESC_INIT;
    smallest.format = IMAGESTREAM_FORMAT_RGB8;
    smallest.width = smallest.height = smallest.depth = 1;
    gboolean ok = smi_sink_create_file(self, location, layout, &smallest);
    g_free(location);
    if (!ok)
        return FALSE;
    g_mutex_lock(&self->lock);
    self->have_info = FALSE;
    self->next_number = 0;
    self->zero_copy = self->copied = 0;
    g_mutex_unlock(&self->lock);
    return TRUE;
}

/* Stop serving. A stream buffer still out upstream keeps the stream (and
   its mapping, which that buffer's memory is) until it comes back. */
static gboolean gst_smi_sink_stop(GstBaseSink *base)
{
    GstSmiSink *self = GST_SMI_SINK(base);
    g_mutex_lock(&self->lock);
    GST_INFO_OBJECT(self, "%" G_GUINT64_FORMAT " frames published without a copy, %"
                    G_GUINT64_FORMAT " copied", self->zero_copy, self->copied);
    self->have_info = FALSE;
    if (self->acquired)
        self->closing = TRUE;
    else
        smi_sink_destroy_locked(self);
    g_mutex_unlock(&self->lock);
    return TRUE;
}

static void gst_smi_sink_set_property(GObject *object, guint id, const GValue *value,
                                      GParamSpec *pspec)
{
    GstSmiSink *self = GST_SMI_SINK(object);
    switch (id) {
    case PROP_LOCATION:
        GST_OBJECT_LOCK(self);
        g_free(self->location);
        self->location = g_value_dup_string(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_LAYOUT:
        GST_OBJECT_LOCK(self);
        self->layout = (GstSmiLayout)g_value_get_enum(value);
        GST_OBJECT_UNLOCK(self);
        break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

static void gst_smi_sink_get_property(GObject *object, guint id, GValue *value,
                                      GParamSpec *pspec)
{
    GstSmiSink *self = GST_SMI_SINK(object);
    switch (id) {
    case PROP_LOCATION:
        GST_OBJECT_LOCK(self);
        g_value_set_string(value, self->location);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_LAYOUT:
        GST_OBJECT_LOCK(self);
        g_value_set_enum(value, self->layout);
        GST_OBJECT_UNLOCK(self);
        break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

static void gst_smi_sink_finalize(GObject *object)
{
    GstSmiSink *self = GST_SMI_SINK(object);
    smi_sink_destroy_locked(self); /* no pool is left: each holds a reference */
    g_free(self->location);
    g_mutex_clear(&self->lock);
    G_OBJECT_CLASS(gst_smi_sink_parent_class)->finalize(object);
}

static void gst_smi_sink_class_init(GstSmiSinkClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSinkClass *base_class = GST_BASE_SINK_CLASS(klass);

    gobject_class->set_property = gst_smi_sink_set_property;
    gobject_class->get_property = gst_smi_sink_get_property;
    gobject_class->finalize = gst_smi_sink_finalize;

    /**
     * GstSmiSink:location:
     * The stream file to serve; created when missing, grown when too small.
     */
    g_object_class_install_property(
        gobject_class, PROP_LOCATION,
        g_param_spec_string("location", "Location",
                            "Shared-memory image stream file to serve (created when missing, "
                            "grown when a frame does not fit), e.g. /dev/shm/view.smi",
                            NULL,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                GST_PARAM_MUTABLE_READY));
    /**
     * GstSmiSink:layout:
     * The layout to write: extended (many clients, every format) or ensight.
     */
    g_object_class_install_property(
        gobject_class, PROP_LAYOUT,
        g_param_spec_enum("layout", "Layout",
                          "Stream layout to write: extended (many clients, RGB, RGBA, GRAY8, "
                          "GRAY16_LE) or ensight (EnSight's own: one client, RGB only)",
                          GST_TYPE_SMI_LAYOUT, GST_SMI_LAYOUT_EXTENDED,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                              GST_PARAM_MUTABLE_READY));

    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_set_static_metadata(
        element_class, "Shared-memory image stream sink", "Sink/Video",
        "Publishes raw video into a SharedMemoryImage stream file; upstream draws straight "
        "into the stream's buffers when it takes the offered pool",
        "SharedMemoryImage project");

    base_class->set_caps = GST_DEBUG_FUNCPTR(gst_smi_sink_set_caps);
    base_class->get_caps = GST_DEBUG_FUNCPTR(gst_smi_sink_get_caps);
    base_class->propose_allocation = GST_DEBUG_FUNCPTR(gst_smi_sink_propose_allocation);
    base_class->render = GST_DEBUG_FUNCPTR(gst_smi_sink_render);
    base_class->start = GST_DEBUG_FUNCPTR(gst_smi_sink_start);
    base_class->stop = GST_DEBUG_FUNCPTR(gst_smi_sink_stop);

    gst_type_mark_as_plugin_api(GST_TYPE_SMI_LAYOUT, 0);
    GST_DEBUG_CATEGORY_INIT(gst_smi_sink_debug, "smisink", 0, "shared-memory image stream sink");
}

static void gst_smi_sink_init(GstSmiSink *self)
{
    g_mutex_init(&self->lock);
    gst_video_info_init(&self->info);
    self->layout = GST_SMI_LAYOUT_EXTENDED;
    /* A kept last sample would hold each stream buffer past its render, so
       upstream's next buffer could not be the stream's. */
    gst_base_sink_set_last_sample_enabled(GST_BASE_SINK(self), FALSE);
}
