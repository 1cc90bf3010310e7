/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gstsmisrc.c -- smisrc, a live push source that reads a shared-memory image
 * stream (either layout) as a client of the SharedMemoryImage library.
 *
 * Each frame is locked, copied once (SharedMemoryImageStream_copyframe, which
 * the library guards against a file truncated meanwhile) into a buffer of the
 * negotiated pool, and unlocked. Caps follow the frames: a new format or size
 * renegotiates before the frame is pushed. The streaming thread sleeps in the
 * library's blocking wait, 50 ms at a time, so unlock() and stop() take
 * effect within 50 ms. Attaching follows the library's one policy
 * (SharedMemoryImageStream_attach/_refresh): a file no server has set up yet
 * is waited for, and the stream is attached again when the library says so
 * (the file replaced or removed, a new server on an EnSight-layout stream).
 * When the stream fails while running (the file truncated or replaced),
 * smisrc posts a warning and attaches again, for up to retry-timeout ms,
 * before it posts an error.
 */
#include "gstsmisrc.h"

#include <math.h>
#include <string.h>

#include "gstsmicommon.h"

GST_DEBUG_CATEGORY_STATIC(gst_smi_src_debug);
#define GST_CAT_DEFAULT gst_smi_src_debug

enum { PROP_0, PROP_LOCATION, PROP_RETRY_TIMEOUT, PROP_MODE, PROP_LOST };

/* What smisrc reads: the newest frame, or every frame in order (a queue
   reader of the library; reliable: never overrun, the server waits). */
typedef enum { SMI_SRC_NEWEST, SMI_SRC_QUEUE, SMI_SRC_RELIABLE } GstSmiSrcMode;

/* The GType of GstSmiSrcMode (the `mode` property). */
static GType gst_smi_src_mode_get_type(void)
{
    static gsize type = 0;
    static const GEnumValue values[] = {
        {SMI_SRC_NEWEST, "The newest frame (frames published meanwhile are skipped)", "newest"},
        {SMI_SRC_QUEUE, "Every frame in order; frames overwritten before they were read are "
                        "counted (lost)", "queue"},
        {SMI_SRC_RELIABLE, "Every frame in order, never overrun: the server drops or waits",
         "reliable"},
        {0, NULL, NULL},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstSmiSrcMode", values));
    return (GType)type;
}

#define WAIT_STEP_MS 50            /* longest sleep in the library's wait */
#define CHECK_INTERVAL_US 250000   /* how often an idle source looks at the server */
#define DEFAULT_RETRY_TIMEOUT 5000 /* ms */

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_SMI_VIDEO_CAPS));

G_DEFINE_TYPE(GstSmiSrc, gst_smi_src, GST_TYPE_PUSH_SRC)

/* The location, copied under the object lock. */
static gchar *smi_src_location(GstSmiSrc *self)
{
    GST_OBJECT_LOCK(self);
    gchar *location = g_strdup(self->location);
    GST_OBJECT_UNLOCK(self);
    return location;
}

static void smi_src_detach(GstSmiSrc *self)
{
    if (self->stream) {
        SharedMemoryImageStream_destroy(self->stream);
        self->stream = NULL;
    }
}

/* Attach to the stream (SharedMemoryImageStream_attach): self->stream set,
   or NULL with the library's code in self->status.code. Returns the
   situation (IMAGESTREAM_SITUATION_*). */
static uint32_t smi_src_attach(GstSmiSrc *self, const gchar *location)
{
    GST_OBJECT_LOCK(self);
    gint mode = self->mode;
    GST_OBJECT_UNLOCK(self);
    uint32_t options = IMAGESTREAM_OPTIONS_ANYFORMAT |
                       (mode == SMI_SRC_RELIABLE ? IMAGESTREAM_OPTIONS_RELIABLE
                        : mode == SMI_SRC_QUEUE  ? IMAGESTREAM_OPTIONS_QUEUE
                                                 : 0);
    uint32_t situation =
        SharedMemoryImageStream_attach(location, options, &self->stream, &self->status);
    self->next_check_us = g_get_monotonic_time() + CHECK_INTERVAL_US;
    GST_INFO_OBJECT(self, "%s: %s", location, SharedMemoryImageStream_situationstring(situation));
    return situation;
}

static gboolean gst_smi_src_start(GstBaseSrc *base)
{
    GstSmiSrc *self = GST_SMI_SRC(base);
    gchar *location = smi_src_location(self);
    if (location == NULL || *location == '\0') {
        g_free(location);
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No stream file given (set \"location\")"),
                          (NULL));
        return FALSE;
    }
    /* A file no server has set up yet is waited for (as while running);
       anything else that does not attach fails the state change. */
    if (smi_src_attach(self, location) != IMAGESTREAM_SITUATION_NO_SERVER && !self->stream) {
        SharedMemoryImageError rc = self->status.code;
        gchar *code = gst_smi_code_name(rc);
        gchar *text = gst_smi_open_error_text(location, rc);
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                          ("Cannot read the shared-memory image stream \"%s\": %s", location,
                           text),
                          ("SharedMemoryImageStream_attach: %s", code));
        g_free(text);
        g_free(code);
        g_free(location);
        return FALSE;
    }
    g_free(location);
    g_atomic_int_set(&self->flushing, 0);
    self->failing_since_us = 0;
    self->anchored = FALSE;
    self->last_pts = GST_CLOCK_TIME_NONE;
    gst_caps_replace(&self->caps, NULL);
    return TRUE;
}

static gboolean gst_smi_src_stop(GstBaseSrc *base)
{
    GstSmiSrc *self = GST_SMI_SRC(base);
    smi_src_detach(self);
    gst_caps_replace(&self->caps, NULL);
    return TRUE;
}

static gboolean gst_smi_src_unlock(GstBaseSrc *base)
{
    g_atomic_int_set(&GST_SMI_SRC(base)->flushing, 1);
    return TRUE;
}

static gboolean gst_smi_src_unlock_stop(GstBaseSrc *base)
{
    g_atomic_int_set(&GST_SMI_SRC(base)->flushing, 0);
    return TRUE;
}

/* The caps of the frames so far (a new reference), or NULL before the first. */
static GstCaps *smi_src_frame_caps(GstSmiSrc *self)
{
    GstCaps *caps = NULL;
    GST_OBJECT_LOCK(self);
    if (self->caps)
        caps = gst_caps_ref(self->caps);
    GST_OBJECT_UNLOCK(self);
    return caps;
}

/* Before the first frame: every format (the template); then the frames' caps. */
static GstCaps *gst_smi_src_get_caps(GstBaseSrc *base, GstCaps *filter)
{
    GstSmiSrc *self = GST_SMI_SRC(base);
    GstCaps *caps = smi_src_frame_caps(self);
    if (caps == NULL)
        caps = gst_pad_get_pad_template_caps(GST_BASE_SRC_PAD(base));
    return gst_smi_caps_filtered(caps, filter);
}

/* Caps are set once a frame tells them: until then there is nothing to
   negotiate (create() negotiates when it has the first frame). */
static gboolean gst_smi_src_negotiate(GstBaseSrc *base)
{
    GstSmiSrc *self = GST_SMI_SRC(base);
    GstCaps *caps = smi_src_frame_caps(self);
    if (caps == NULL)
        return TRUE;
    gboolean ok = gst_pad_peer_query_accept_caps(GST_BASE_SRC_PAD(base), caps) &&
                  gst_base_src_set_caps(base, caps);
    gst_caps_unref(caps);
    return ok;
}

/* No caps yet (the negotiation before the first frame): no pool yet. */
static gboolean gst_smi_src_decide_allocation(GstBaseSrc *base, GstQuery *query)
{
    GstCaps *caps = NULL;
    gst_query_parse_allocation(query, &caps, NULL);
    if (caps == NULL)
        return TRUE;
    /* A video pool of our own when downstream offers none. */
    if (gst_query_get_n_allocation_pools(query) == 0) {
        GstVideoInfo info;
        if (!gst_video_info_from_caps(&info, caps))
            return FALSE;
        GstBufferPool *pool = gst_video_buffer_pool_new();
        GstStructure *config = gst_buffer_pool_get_config(pool);
        gst_buffer_pool_config_set_params(config, caps, (guint)info.size, 2, 0);
        gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
        gst_buffer_pool_set_config(pool, config);
        gst_query_add_allocation_pool(query, pool, (guint)info.size, 2, 0);
        gst_object_unref(pool);
    }
    if (!GST_BASE_SRC_CLASS(gst_smi_src_parent_class)->decide_allocation(base, query))
        return FALSE;
    /* Downstream reads GstVideoMeta: let its pool lay rows out its way (a
       smisink pool then hands out the stream's own buffers, packed rows). */
    GstBufferPool *pool = NULL;
    if (gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, NULL) &&
        gst_query_get_n_allocation_pools(query) > 0) {
        gst_query_parse_nth_allocation_pool(query, 0, &pool, NULL, NULL, NULL);
        if (pool && gst_buffer_pool_has_option(pool, GST_BUFFER_POOL_OPTION_VIDEO_META)) {
            GstStructure *config = gst_buffer_pool_get_config(pool);
            gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
            if (!gst_buffer_pool_set_config(pool, config))
                GST_DEBUG_OBJECT(base, "the pool refused GstVideoMeta");
        }
        if (pool)
            gst_object_unref(pool);
    }
    return TRUE;
}

/* Latency: live, no minimum; the stream holds its newest frame for as long
   as need be, so no maximum either. */
static gboolean gst_smi_src_query(GstBaseSrc *base, GstQuery *query)
{
    if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
        gst_query_set_latency(query, TRUE, 0, GST_CLOCK_TIME_NONE);
        return TRUE;
    }
    return GST_BASE_SRC_CLASS(gst_smi_src_parent_class)->query(base, query);
}

/* The running time of the pipeline now, or NONE without a clock. */
static GstClockTime smi_src_now(GstSmiSrc *self)
{
    GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
    if (clock == NULL)
        return GST_CLOCK_TIME_NONE;
    GstClockTime now = gst_clock_get_time(clock);
    GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
    gst_object_unref(clock);
    return now > base ? now - base : 0;
}

/* The buffer's PTS, from the frame's own timestamp (seconds). A UNIX time
   (what the library's acquire() presets) within 10 s of ours gives the frame's
   age, so PTS = now - age. Other clocks: the distance from an anchor frame,
   anchored again at "now" when that would put a frame in the future or far
   behind (a new server). No timestamp (EnSight's layout): "now". Never in the
   future, never decreasing. */
static GstClockTime smi_src_pts(GstSmiSrc *self, double ts)
{
    GstClockTime now = smi_src_now(self);
    if (!GST_CLOCK_TIME_IS_VALID(now))
        return GST_CLOCK_TIME_NONE;
    GstClockTime pts = now;
    if (isfinite(ts) && ts > 0.0) {
        double age = (double)g_get_real_time() / 1e6 - ts;
        if (age >= 0.0 && age < 10.0) {
            GstClockTime behind = (GstClockTime)(age * GST_SECOND);
            pts = behind < now ? now - behind : 0;
        } else {
            double cand = (double)self->rt_anchor + (ts - self->ts_anchor) * GST_SECOND;
            if (!self->anchored || ts < self->last_ts || cand > (double)now ||
                cand + 5.0 * GST_SECOND < (double)now) {
                self->anchored = TRUE;
                self->ts_anchor = ts;
                self->rt_anchor = now;
            } else {
                pts = (GstClockTime)cand;
            }
        }
        self->last_ts = ts;
    }
    if (GST_CLOCK_TIME_IS_VALID(self->last_pts) && pts <= self->last_pts)
        pts = self->last_pts + 1;
    self->last_pts = pts;
    return pts;
}

/* An idle stream: where does it stand (SharedMemoryImageStream_refresh)?
   Attach again when the library says so (the file replaced or removed, a
   new server on an EnSight-layout stream). */
static void smi_src_check_server(GstSmiSrc *self, const gchar *location)
{
    gint64 now = g_get_monotonic_time();
    if (now < self->next_check_us)
        return;
    self->next_check_us = now + CHECK_INTERVAL_US;
    uint32_t before = self->status.situation;
    uint32_t situation = SharedMemoryImageStream_refresh(location, self->stream, &self->status);
    if (situation != before)
        GST_INFO_OBJECT(self, "%s: %s", location,
                        SharedMemoryImageStream_situationstring(situation));
    if (self->status.reattach) {
        smi_src_detach(self);
        if (smi_src_attach(self, location) != IMAGESTREAM_SITUATION_NO_SERVER && !self->stream)
            self->failing_since_us = now;
    }
}

/* The stream failed (rc) while running: warn, detach, and try again until
   retry-timeout; FALSE (an error posted) once that has passed. */
static gboolean smi_src_failed(GstSmiSrc *self, const gchar *location, const char *call,
                               SharedMemoryImageError rc)
{
    gint64 now = g_get_monotonic_time();
    GST_OBJECT_LOCK(self);
    gint64 limit_us = (gint64)self->retry_timeout * 1000;
    GST_OBJECT_UNLOCK(self);
    gchar *code = gst_smi_code_name(rc);
    if (self->failing_since_us == 0) {
        self->failing_since_us = now;
        if (limit_us > 0)
            GST_ELEMENT_WARNING(self, RESOURCE, READ,
                                ("Shared-memory image stream \"%s\" failed: %s; attaching again",
                                 location, SharedMemoryImageStream_errorstring(rc)),
                                ("%s: %s", call, code));
    }
    gboolean go_on = now - self->failing_since_us < limit_us;
    if (!go_on)
        GST_ELEMENT_ERROR(self, RESOURCE, READ,
                          ("Cannot read the shared-memory image stream \"%s\": %s", location,
                           SharedMemoryImageStream_errorstring(rc)),
                          ("%s: %s", call, code));
    g_free(code);
    smi_src_detach(self);
    return go_on;
}

/* New caps for the locked frame: set them and renegotiate. */
static gboolean smi_src_renegotiate(GstSmiSrc *self, GstVideoFormat format, uint32_t smi_format,
                                    const SharedMemoryImageDesc *desc)
{
    GstVideoInfo info;
    gst_video_info_init(&info);
    if (!gst_video_info_set_format(&info, format, desc->width, desc->height))
        return FALSE;
    GST_VIDEO_INFO_FPS_N(&info) = 0;
    GST_VIDEO_INFO_FPS_D(&info) = 1;
    GstCaps *caps = gst_video_info_to_caps(&info);
    GST_INFO_OBJECT(self, "frames now %" GST_PTR_FORMAT, caps);
    GST_OBJECT_LOCK(self);
    gst_caps_replace(&self->caps, caps);
    GST_OBJECT_UNLOCK(self);
    gst_caps_unref(caps);
    self->info = info;
    self->smi_format = smi_format;
    return gst_base_src_negotiate(GST_BASE_SRC(self));
}

/* Copy the locked frame into a buffer of the negotiated pool (one copy).
   GST_FLOW_CUSTOM_ERROR: the library's copy failed with *copy_rc. */
static GstFlowReturn smi_src_fill(GstSmiSrc *self, SharedMemoryFrame frame,
                                  const SharedMemoryImageDesc *desc, GstBuffer **out,
                                  SharedMemoryImageError *copy_rc)
{
    *copy_rc = IMAGESTREAM_NOERROR;
    GstBaseSrc *base = GST_BASE_SRC(self);
    GstBuffer *buf = NULL;
    GstBufferPool *pool = gst_base_src_get_buffer_pool(base);
    GstFlowReturn ret = GST_FLOW_OK;
    if (pool) {
        ret = gst_buffer_pool_acquire_buffer(pool, &buf, NULL);
        gst_object_unref(pool);
        if (ret != GST_FLOW_OK)
            return ret;
    } else {
        buf = gst_buffer_new_allocate(NULL, self->info.size, NULL);
        if (buf == NULL)
            return GST_FLOW_ERROR;
    }
    GstVideoFrame vf;
    if (!gst_video_frame_map(&vf, &self->info, buf, GST_MAP_WRITE)) {
        gst_buffer_unref(buf);
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Cannot map an output buffer"), (NULL));
        return GST_FLOW_ERROR;
    }
    guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA(&vf, 0);
    gsize stride = (gsize)GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);
    gsize row = (gsize)gst_smi_packed_stride(self->smi_format, desc->width);
    gsize room = vf.map[0].size - ((guint8 *)dst - (guint8 *)vf.map[0].data);
    if (stride < row || room < stride * (desc->height - 1) + row) {
        gst_video_frame_unmap(&vf);
        gst_buffer_unref(buf);
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("An output buffer is too small for the frame"),
                          (NULL));
        return GST_FLOW_ERROR;
    }
    /* The library's guarded copy (a truncated file is an error, not a
       SIGBUS), packed; then, for padded rows, the rows moved apart in place,
       last row first (each moves to an address at or above its own). */
    SharedMemoryImageError rc = SharedMemoryImageStream_copyframe(self->stream, dst, room, 0);
    if (rc == IMAGESTREAM_NOERROR && stride != row)
        for (guint y = desc->height; y-- > 1;)
            memmove(dst + y * stride, dst + y * row, row);
    gst_video_frame_unmap(&vf);
    if (rc != IMAGESTREAM_NOERROR) {
        gst_buffer_unref(buf);
        *copy_rc = rc;
        return GST_FLOW_CUSTOM_ERROR;
    }
    GST_BUFFER_OFFSET(buf) = frame->iFrame;
    GST_BUFFER_OFFSET_END(buf) = (guint64)frame->iFrame + 1;
    GstClockTime previous = self->last_pts;
    GST_BUFFER_PTS(buf) = smi_src_pts(self, desc->timestamp);
    /* The duration is unknown until the next frame: estimate it as the last
       interval (a muxer would otherwise drop the last frame). */
    GST_BUFFER_DURATION(buf) = GST_CLOCK_TIME_IS_VALID(previous) &&
                                       GST_CLOCK_TIME_IS_VALID(GST_BUFFER_PTS(buf))
                                   ? GST_BUFFER_PTS(buf) - previous
                                   : GST_CLOCK_TIME_NONE;
    GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
    *out = buf;
    return GST_FLOW_OK;
}

/* Lock the newest frame, or (queue modes) the next one, counting the
   frames lost before it. BAD_ARGS (an error posted): a queue mode on an
   EnSight-layout stream. */
static SharedMemoryImageError smi_src_take(GstSmiSrc *self, const gchar *location,
                                           SharedMemoryFrame *frame)
{
    GST_OBJECT_LOCK(self);
    gint mode = self->mode;
    GST_OBJECT_UNLOCK(self);
    if (mode == SMI_SRC_NEWEST)
        return SharedMemoryImageStream_lock(self->stream, frame);
    uint64_t lost = 0;
    SharedMemoryImageError rc = SharedMemoryImageStream_next(self->stream, frame, &lost);
    if (rc == IMAGESTREAM_BAD_ARGS) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                          ("Stream \"%s\" is in EnSight's layout, which holds one frame at a "
                           "time: mode=queue and mode=reliable need the extended layout "
                           "(use mode=newest)",
                           location),
                          (NULL));
        return rc;
    }
    if (lost > 0) {
        GST_OBJECT_LOCK(self);
        self->lost += lost;
        GST_OBJECT_UNLOCK(self);
        GST_WARNING_OBJECT(self, "%" G_GUINT64_FORMAT " frames lost before frame %u (the "
                           "server overwrote them first)", lost, (*frame)->iFrame);
    }
    return rc;
}

/* Attached, or attaching again, or waiting for a server: 1 attached, 0 not
   yet (after a pause: ask again), -1 failed for good (an error posted). */
static int smi_src_ensure_attached(GstSmiSrc *self, const gchar *location)
{
    if (self->stream != NULL)
        return 1;
    uint32_t situation = smi_src_attach(self, location);
    if (self->stream == NULL) {
        if (situation != IMAGESTREAM_SITUATION_NO_SERVER &&
            !smi_src_failed(self, location, "SharedMemoryImageStream_attach", self->status.code))
            return -1;
        g_usleep(WAIT_STEP_MS * 1000);
        return 0;
    }
    self->failing_since_us = 0;
    return 1;
}

/* The locked frame's description in *desc, with caps negotiated for it:
   FALSE (the frame unlocked, an error posted) when smisrc cannot output it. */
static gboolean smi_src_describe(GstSmiSrc *self, const gchar *location, SharedMemoryFrame frame,
                                 SharedMemoryImageDesc *desc)
{
    SharedMemoryImageError rc = SharedMemoryImageStream_describe(self->stream, desc);
    GstVideoFormat format = gst_smi_video_format(desc->format);
    if (rc != IMAGESTREAM_NOERROR || format == GST_VIDEO_FORMAT_UNKNOWN ||
        (desc->depth != 0 && desc->depth != 1)) {
        SharedMemoryImageStream_unlock(self->stream);
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("Stream \"%s\" carries %s frames of %ux%ux%u: smisrc outputs "
                           "2-D RGB8, RGBA8, GRAY8 and GRAY16 frames only (GStreamer has "
                           "no raw video format for float, signed or 32-bit values)",
                           location, SharedMemoryImageStream_formatname(desc->format),
                           desc->width, desc->height, desc->depth ? desc->depth : 1),
                          ("frame %u", frame->iFrame));
        return FALSE;
    }
    if (self->caps == NULL || self->smi_format != desc->format ||
        GST_VIDEO_INFO_WIDTH(&self->info) != (gint)desc->width ||
        GST_VIDEO_INFO_HEIGHT(&self->info) != (gint)desc->height) {
        if (!smi_src_renegotiate(self, format, desc->format, desc)) {
            SharedMemoryImageStream_unlock(self->stream);
            GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                              ("Downstream does not accept %s frames of %ux%u",
                               gst_video_format_to_string(format), desc->width, desc->height),
                              (NULL));
            return FALSE;
        }
    }
    return TRUE;
}

static GstFlowReturn gst_smi_src_create(GstPushSrc *push, GstBuffer **out)
{
    GstSmiSrc *self = GST_SMI_SRC(push);
    gchar *location = smi_src_location(self);
    GstFlowReturn ret = GST_FLOW_FLUSHING;
    while (!g_atomic_int_get(&self->flushing)) {
        int attached = smi_src_ensure_attached(self, location);
        if (attached < 0) {
            ret = GST_FLOW_ERROR;
            break;
        }
        if (attached == 0)
            continue;
        SharedMemoryImageError rc = SharedMemoryImageStream_wait(self->stream, WAIT_STEP_MS);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE) {
            smi_src_check_server(self, location);
            continue;
        }
        if (rc < IMAGESTREAM_NOERROR) {
            if (!smi_src_failed(self, location, "SharedMemoryImageStream_wait", rc)) {
                ret = GST_FLOW_ERROR;
                break;
            }
            continue;
        }
        SharedMemoryFrame frame = NULL;
        rc = smi_src_take(self, location, &frame);
        if (rc == IMAGESTREAM_BAD_ARGS) { /* (queue modes: an EnSight-layout stream) */
            ret = GST_FLOW_ERROR;
            break;
        }
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE || rc == IMAGESTREAM_FORMAT_SKIPPED)
            continue; /* dropped by the server meanwhile */
        if (rc < IMAGESTREAM_NOERROR) {
            if (!smi_src_failed(self, location, "SharedMemoryImageStream_lock", rc)) {
                ret = GST_FLOW_ERROR;
                break;
            }
            continue;
        }
        SharedMemoryImageDesc desc = SMI_DESC_INIT;
        if (!smi_src_describe(self, location, frame, &desc)) {
            ret = GST_FLOW_ERROR;
            break;
        }
        SharedMemoryImageError copy_rc;
        ret = smi_src_fill(self, frame, &desc, out, &copy_rc);
        SharedMemoryImageStream_unlock(self->stream);
        if (ret == GST_FLOW_CUSTOM_ERROR) { /* the file truncated meanwhile, say */
            if (!smi_src_failed(self, location, "SharedMemoryImageStream_copyframe", copy_rc)) {
                ret = GST_FLOW_ERROR;
                break;
            }
            continue;
        }
        break; /* FLUSHING from the pool, or an error already posted */
    }
    g_free(location);
    return ret;
}

static void gst_smi_src_set_property(GObject *object, guint id, const GValue *value,
                                     GParamSpec *pspec)
{
    GstSmiSrc *self = GST_SMI_SRC(object);
    switch (id) {
    case PROP_LOCATION:
        GST_OBJECT_LOCK(self);
        g_free(self->location);
        self->location = g_value_dup_string(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_RETRY_TIMEOUT:
        GST_OBJECT_LOCK(self);
        self->retry_timeout = g_value_get_uint(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_MODE:
        GST_OBJECT_LOCK(self);
        self->mode = g_value_get_enum(value);
        GST_OBJECT_UNLOCK(self);
        break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

static void gst_smi_src_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    GstSmiSrc *self = GST_SMI_SRC(object);
    switch (id) {
    case PROP_LOCATION:
        GST_OBJECT_LOCK(self);
        g_value_set_string(value, self->location);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_RETRY_TIMEOUT:
        GST_OBJECT_LOCK(self);
        g_value_set_uint(value, self->retry_timeout);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_MODE:
        GST_OBJECT_LOCK(self);
        g_value_set_enum(value, self->mode);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_LOST:
        GST_OBJECT_LOCK(self);
        g_value_set_uint64(value, self->lost);
        GST_OBJECT_UNLOCK(self);
        break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

static void gst_smi_src_finalize(GObject *object)
{
    GstSmiSrc *self = GST_SMI_SRC(object);
    smi_src_detach(self);
    gst_caps_replace(&self->caps, NULL);
    g_free(self->location);
    G_OBJECT_CLASS(gst_smi_src_parent_class)->finalize(object);
}

static void gst_smi_src_class_init(GstSmiSrcClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSrcClass *base_class = GST_BASE_SRC_CLASS(klass);
    GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS(klass);

    gobject_class->set_property = gst_smi_src_set_property;
    gobject_class->get_property = gst_smi_src_get_property;
    gobject_class->finalize = gst_smi_src_finalize;

    /**
     * GstSmiSrc:location:
     * The stream file to read (either layout), e.g. /dev/shm/view.smi.
     */
    g_object_class_install_property(
        gobject_class, PROP_LOCATION,
        g_param_spec_string("location", "Location",
                            "Shared-memory image stream file to read (extended or EnSight "
                            "layout, detected from the file)",
                            NULL,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                GST_PARAM_MUTABLE_READY));
    /**
     * GstSmiSrc:retry-timeout:
     * How long to keep attaching again after the stream failed while running.
     */
    g_object_class_install_property(
        gobject_class, PROP_RETRY_TIMEOUT,
        g_param_spec_uint("retry-timeout", "Retry timeout",
                          "Milliseconds to keep attaching again when the stream fails while "
                          "running (file truncated or replaced) before posting an error "
                          "(0: error at once)",
                          0, G_MAXUINT, DEFAULT_RETRY_TIMEOUT,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

    /**
     * GstSmiSrc:mode:
     * newest (default): the newest frame; queue: every frame in order, those
     * the server overwrote first counted in `lost`; reliable: every frame,
     * never overrun (the server drops or waits instead). The frame numbers in
     * the buffers' offsets are consecutive when the server numbers them so
     * and nothing is lost.
     */
    g_object_class_install_property(
        gobject_class, PROP_MODE,
        g_param_spec_enum("mode", "Mode",
                          "Which frames to read: the newest, or every frame in order (queue: "
                          "losses counted in 'lost'; reliable: never overrun; extended layout)",
                          gst_smi_src_mode_get_type(), SMI_SRC_NEWEST,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                              GST_PARAM_MUTABLE_READY));
    /**
     * GstSmiSrc:lost:
     * Queue modes: frames the server overwrote before smisrc read them.
     */
    g_object_class_install_property(
        gobject_class, PROP_LOST,
        g_param_spec_uint64("lost", "Lost",
                            "Frames overwritten before they were read (mode=queue; 0 when none "
                            "was, always 0 with mode=reliable)",
                            0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

    gst_element_class_add_static_pad_template(element_class, &src_template);
    gst_element_class_set_static_metadata(
        element_class, "Shared-memory image stream source", "Source/Video",
        "Reads frames published into a SharedMemoryImage stream file (RGB8, RGBA8, GRAY8, "
        "GRAY16), live, one copy per frame",
        "SharedMemoryImage project");

    base_class->start = GST_DEBUG_FUNCPTR(gst_smi_src_start);
    base_class->stop = GST_DEBUG_FUNCPTR(gst_smi_src_stop);
    base_class->unlock = GST_DEBUG_FUNCPTR(gst_smi_src_unlock);
    base_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_smi_src_unlock_stop);
    base_class->get_caps = GST_DEBUG_FUNCPTR(gst_smi_src_get_caps);
    base_class->negotiate = GST_DEBUG_FUNCPTR(gst_smi_src_negotiate);
    base_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_smi_src_decide_allocation);
    base_class->query = GST_DEBUG_FUNCPTR(gst_smi_src_query);
    push_class->create = GST_DEBUG_FUNCPTR(gst_smi_src_create);

    GST_DEBUG_CATEGORY_INIT(gst_smi_src_debug, "smisrc", 0, "shared-memory image stream source");
}

static void gst_smi_src_init(GstSmiSrc *self)
{
    self->retry_timeout = DEFAULT_RETRY_TIMEOUT;
    self->last_pts = GST_CLOCK_TIME_NONE;
    gst_video_info_init(&self->info);
    gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
    gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}
