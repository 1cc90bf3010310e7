/* SPDX-License-Identifier: BSD-3-Clause */
/* smi_web_stream.c -- smi-web's streams (reader and encoder pipelines) and viewers (webrtcbin). */
#define GST_USE_UNSTABLE_API /* the WebRTC library of gst-plugins-bad */
#include "smi_web_stream.h"

#include <gst/app/app.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shared_memory_image.h"

#define TICK_MS 250            /* how often a stream looks at its file and viewers */
#define REPEAT_AFTER_US 300000 /* a keyframe is wanted and no frame came for this long: send the last again */
#define REFRESH_US 1000000     /* no frame for this long: send the last again (late joiners, lost packets) */
#define MAX_MESSAGES 1000      /* signaling messages one viewer may send */
#define MAX_CANDIDATE 1024     /* longest ICE candidate line */
#define HELLO_TIMEOUT_US 30000000 /* a viewer must say hello within this */
#define RATE_SAMPLES 9         /* rate measured over the last (RATE_SAMPLES - 1) ticks */

/* One viewer: a WebSocket and a webrtcbin fed by the stream's tee. */
typedef struct Viewer {
    gint refs;
    guint id;
    SmiWebStream *stream;           /* NULL once closed */
    SoupWebsocketConnection *ws;    /* NULL once closed */
    GstElement *queue, *webrtc;     /* references held until freed */
    GstPad *teepad;
    char *peer;
    const SmiWebConfig *config;     /* the stream's, for GStreamer's threads */
    gint64 joined_us;
    guint messages;
    gboolean started;               /* its webrtcbin is there (after "hello") */
    SmiWebCodec codec;              /* what it is sent */
    gboolean answered;
} Viewer;

/* One encode for the viewers of one codec. */
typedef struct Branch {
    GstElement *valve, *encoder, *tee;
    guint viewers;
} Branch;

struct SmiWebStream {
    char *name, *path;
    const SmiWebConfig *config;
    GstElement *encoder_pipe, *appsrc, *rawtee;
    Branch *branches[SMI_WEB_CODECS]; /* made when a viewer first needs them */
    GstElement *reader;             /* NULL while stopped */
    guint reader_bus_watch, encoder_bus_watch, timer;
    GList *viewers;                 /* Viewer* */
    char *last_error;               /* last reader error logged (not repeated) */
    char *status;                   /* last status sent to viewers */
    /* Shared with the reader's streaming thread, under lock. */
    GMutex lock;
    GstBuffer *last_buffer;
    GstCaps *last_caps, *pushed_caps;
    gint64 last_push_us;
    gboolean want_keyframe;
    guint64 frames_sent;
    guint width, height;            /* of the frames being encoded */
    /* What the file looks like (from inspect, each tick). */
    gboolean present, server_alive;
    guint file_width, file_height, file_depth;
    const char *file_format;
    gboolean unshowable;            /* the newest frame is one no browser is shown */
    guint64 rate_count[RATE_SAMPLES];
    gint64 rate_time[RATE_SAMPLES];
    guint rate_n;
};

static guint viewer_total;
static guint viewer_next_id = 1;

void smi_web_log(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    GDateTime *now = g_date_time_new_now_local();
    gchar *when = g_date_time_format(now, "%H:%M:%S");
    fprintf(stderr, "%s smi-web: ", when);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    fflush(stderr);
    g_free(when);
    g_date_time_unref(now);
    va_end(args);
}

guint smi_web_viewer_count(void)
{
    return viewer_total;
}

const char *smi_web_stream_name(const SmiWebStream *stream)
{
    return stream->name;
}

const char *smi_web_stream_path(const SmiWebStream *stream)
{
    return stream->path;
}

/* ---- viewers ------------------------------------------------------------ */

static Viewer *viewer_ref(Viewer *v)
{
    g_atomic_int_inc(&v->refs);
    return v;
}

static void viewer_unref(gpointer data)
{
    Viewer *v = data;
    if (!g_atomic_int_dec_and_test(&v->refs))
        return;
    if (v->queue)
        gst_object_unref(v->queue);
    if (v->webrtc)
        gst_object_unref(v->webrtc);
    g_free(v->peer);
    g_free(v);
}

static void viewer_close(Viewer *v, gushort code, const char *reason);

/* Send a JSON object on the viewer's socket (main thread). */
static void viewer_send(Viewer *v, JsonBuilder *builder)
{
    JsonNode *root = json_builder_get_root(builder);
    if (v->ws && soup_websocket_connection_get_state(v->ws) == SOUP_WEBSOCKET_STATE_OPEN) {
        gchar *text = json_to_string(root, FALSE);
        soup_websocket_connection_send_text(v->ws, text);
        g_free(text);
    }
    json_node_unref(root);
}

/* Send {"type": type, key: value} (value a string; key NULL for none). */
static void viewer_send_text(Viewer *v, const char *type, const char *key, const char *value)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, type);
    if (key) {
        json_builder_set_member_name(b, key);
        json_builder_add_string_value(b, value);
    }
    json_builder_end_object(b);
    viewer_send(v, b);
    g_object_unref(b);
}

/* Work handed from a GStreamer thread to the main thread. */
typedef struct Deferred {
    Viewer *viewer;
    JsonBuilder *message; /* to send, or NULL */
    char *close_reason;   /* to close with, or NULL */
} Deferred;

static gboolean deferred_run(gpointer data)
{
    Deferred *d = data;
    if (d->viewer->stream) {
        if (d->message)
            viewer_send(d->viewer, d->message);
        if (d->close_reason)
            viewer_close(d->viewer, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, d->close_reason);
    }
    return G_SOURCE_REMOVE;
}

static void deferred_free(gpointer data)
{
    Deferred *d = data;
    viewer_unref(d->viewer);
    if (d->message)
        g_object_unref(d->message);
    g_free(d->close_reason);
    g_free(d);
}

static void defer(Viewer *v, JsonBuilder *message, const char *close_reason)
{
    Deferred *d = g_new0(Deferred, 1);
    d->viewer = viewer_ref(v);
    d->message = message;
    d->close_reason = g_strdup(close_reason);
    g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, deferred_run, d, deferred_free);
}

/* webrtcbin made the offer (its thread): set it locally, send it. */
static void on_offer_created(GstPromise *promise, gpointer data)
{
    Viewer *v = data;
    if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) {
        gst_promise_unref(promise);
        return;
    }
    const GstStructure *reply = gst_promise_get_reply(promise);
    GstWebRTCSessionDescription *offer = NULL;
    if (reply)
        gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
    gst_promise_unref(promise);
    if (!offer) {
        defer(v, NULL, "webrtcbin made no offer");
        return;
    }
    g_signal_emit_by_name(v->webrtc, "set-local-description", offer, NULL);
    gchar *sdp = gst_sdp_message_as_text(offer->sdp);
    gst_webrtc_session_description_free(offer);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, "offer");
    json_builder_set_member_name(b, "sdp");
    json_builder_add_string_value(b, sdp);
    json_builder_set_member_name(b, "iceServers");
    json_builder_begin_array(b);
    const char *stun = v->config->stun;
    if (stun)
        json_builder_add_string_value(b, stun);
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_free(sdp);
    defer(v, b, NULL);
}

static void on_negotiation_needed(GstElement *webrtc, gpointer data)
{
    Viewer *v = data;
    GstPromise *promise = gst_promise_new_with_change_func(on_offer_created, viewer_ref(v), viewer_unref);
    g_signal_emit_by_name(webrtc, "create-offer", NULL, promise);
}

static void on_ice_candidate(GstElement *webrtc, guint mline, gchar *candidate, gpointer data)
{
    (void)webrtc;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, "ice");
    json_builder_set_member_name(b, "candidate");
    json_builder_add_string_value(b, candidate);
    json_builder_set_member_name(b, "sdpMLineIndex");
    json_builder_add_int_value(b, mline);
    json_builder_end_object(b);
    defer(data, b, NULL);
}

/* The answer was applied (webrtcbin's thread): close the viewer if it was refused. */
static void on_answer_set(GstPromise *promise, gpointer data)
{
    Viewer *v = data;
    const GstStructure *reply = NULL;
    if (gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED)
        reply = gst_promise_get_reply(promise);
    if (reply && gst_structure_has_field(reply, "error")) {
        GError *error = NULL;
        gst_structure_get(reply, "error", G_TYPE_ERROR, &error, NULL);
        gchar *reason = g_strdup_printf("its answer was refused (%s)",
                                        error ? error->message : "unknown error");
        defer(v, NULL, reason);
        g_free(reason);
        g_clear_error(&error);
    }
    gst_promise_unref(promise);
}

/* A malformed message: log it, close the socket, nothing else. */
static void viewer_refuse(Viewer *v, const char *why)
{
    smi_web_log("viewer %u (%s) of \"%s\": bad signaling message (%s): closing its socket", v->id,
                v->peer, v->stream->name, why);
    viewer_close(v, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
}

static const char *codec_name(SmiWebCodec codec)
{
    return codec == SMI_WEB_H264 ? "H264" : "VP8";
}

static void viewer_start(Viewer *v, SmiWebCodec codec);

/* One signaling message from the browser (main thread). */
static void on_ws_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
    (void)ws;
    Viewer *v = data;
    if (!v->stream)
        return;
    if (++v->messages > MAX_MESSAGES) {
        viewer_refuse(v, "too many messages");
        return;
    }
    if (type != SOUP_WEBSOCKET_DATA_TEXT) {
        viewer_refuse(v, "binary message");
        return;
    }
    gsize size = 0;
    const char *text = g_bytes_get_data(message, &size);
    if (size > v->stream->config->max_message) {
        viewer_refuse(v, "too large");
        return;
    }
    JsonParser *parser = json_parser_new();
    JsonObject *object = NULL;
    if (text && g_utf8_validate(text, (gssize)size, NULL) &&
        json_parser_load_from_data(parser, text, (gssize)size, NULL)) {
        JsonNode *root = json_parser_get_root(parser);
        if (root && JSON_NODE_HOLDS_OBJECT(root))
            object = json_node_get_object(root);
    }
    const char *kind = NULL;
    if (object && json_object_has_member(object, "type")) {
        JsonNode *node = json_object_get_member(object, "type");
        if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
            kind = json_node_get_string(node);
    }
    if (!kind) {
        viewer_refuse(v, "not a JSON object with a string \"type\"");
        g_object_unref(parser);
        return;
    }
    const char *why = NULL;
    if (strcmp(kind, "hello") == 0) {
        /* The codecs the browser can decode ("VP8", "H264", ...), when it says:
           the first of ours among them; ours first when it does not say. */
        JsonNode *node = json_object_get_member(object, "codecs");
        const SmiWebConfig *config = v->stream->config;
        gint chosen = -1;
        if (v->started)
            why = "a second hello";
        else if (node && JSON_NODE_HOLDS_ARRAY(node)) {
            JsonArray *codecs = json_node_get_array(node);
            for (guint k = 0; k < config->n_codecs && chosen < 0; k++)
                for (guint i = 0; i < json_array_get_length(codecs) && i < 64; i++) {
                    JsonNode *c = json_array_get_element(codecs, i);
                    if (JSON_NODE_HOLDS_VALUE(c) && json_node_get_value_type(c) == G_TYPE_STRING &&
                        g_ascii_strcasecmp(json_node_get_string(c), codec_name(config->codecs[k])) == 0) {
                        chosen = (gint)config->codecs[k];
                        break;
                    }
                }
            if (chosen < 0) {
                GString *offered = g_string_new(NULL);
                for (guint k = 0; k < config->n_codecs; k++)
                    g_string_append_printf(offered, "%s%s", k ? " or " : "", codec_name(config->codecs[k]));
                gchar *reason = g_strdup_printf("this browser decodes none of the codecs offered (%s)",
                                                offered->str);
                smi_web_log("viewer %u (%s) of \"%s\": %s", v->id, v->peer, v->stream->name, reason);
                viewer_send_text(v, "error", "message", reason);
                viewer_close(v, 4415, NULL);
                g_free(reason);
                g_string_free(offered, TRUE);
            }
        } else if (node && !JSON_NODE_HOLDS_NULL(node)) {
            why = "\"codecs\" is not an array";
        } else {
            chosen = (gint)config->codecs[0];
        }
        if (!why && chosen >= 0)
            viewer_start(v, (SmiWebCodec)chosen);
    } else if (strcmp(kind, "answer") == 0) {
        const char *sdp_text = json_object_get_string_member_with_default(object, "sdp", NULL);
        GstSDPMessage *sdp = NULL;
        if (!v->started)
            why = "an answer before hello";
        else if (v->answered)
            why = "a second answer";
        else if (!sdp_text)
            why = "an answer without \"sdp\"";
        else if (gst_sdp_message_new_from_text(sdp_text, &sdp) != GST_SDP_OK || !sdp)
            why = "an answer whose SDP does not parse";
        else if (gst_sdp_message_medias_len(sdp) == 0) {
            why = "an answer without media";
            gst_sdp_message_free(sdp);
        } else {
            v->answered = TRUE;
            GstWebRTCSessionDescription *answer =
                gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
            GstPromise *promise = gst_promise_new_with_change_func(on_answer_set, viewer_ref(v), viewer_unref);
            g_signal_emit_by_name(v->webrtc, "set-remote-description", answer, promise);
            gst_webrtc_session_description_free(answer);
        }
    } else if (strcmp(kind, "ice") == 0) {
        const char *candidate = json_object_get_string_member_with_default(object, "candidate", NULL);
        gint64 mline = json_object_get_int_member_with_default(object, "sdpMLineIndex", -1);
        if (!candidate)
            why = "an ICE message without \"candidate\"";
        else if (strlen(candidate) > MAX_CANDIDATE || strchr(candidate, '\n') || strchr(candidate, '\r'))
            why = "an ICE candidate too long or with line breaks";
        else if (mline != 0)
            why = "an ICE candidate for a media line that does not exist";
        else if (!v->started || !v->answered)
            why = "an ICE candidate before the answer";
        else if (*candidate)
            g_signal_emit_by_name(v->webrtc, "add-ice-candidate", (guint)mline, candidate);
    } else {
        why = "unknown \"type\"";
    }
    if (why)
        viewer_refuse(v, why);
    g_object_unref(parser);
}

static void on_ws_closed(SoupWebsocketConnection *ws, gpointer data)
{
    (void)ws;
    Viewer *v = data;
    if (v->stream)
        viewer_close(v, 0, NULL);
}

static void on_ws_error(SoupWebsocketConnection *ws, GError *error, gpointer data)
{
    (void)ws;
    Viewer *v = data;
    if (v->stream)
        smi_web_log("viewer %u (%s) of \"%s\": %s: closing its socket", v->id, v->peer,
                    v->stream->name, error->message);
    /* libsoup closes the connection itself ("closed" follows). */
}

/* Close a viewer (idempotent, main thread): its socket, its webrtcbin. */
static void viewer_close(Viewer *v, gushort code, const char *reason)
{
    SmiWebStream *stream = v->stream;
    if (!stream)
        return;
    if (reason)
        smi_web_log("viewer %u (%s) of \"%s\": %s: closing", v->id, v->peer, stream->name, reason);
    v->stream = NULL;
    stream->viewers = g_list_remove(stream->viewers, v);
    viewer_total--;
    if (v->ws) {
        g_signal_handlers_disconnect_by_data(v->ws, v);
        if (soup_websocket_connection_get_state(v->ws) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close(v->ws, code ? code : SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
        g_object_unref(v->ws);
        v->ws = NULL;
    }
    if (v->webrtc)
        g_signal_handlers_disconnect_by_data(v->webrtc, v);
    if (v->teepad) {
        Branch *b = stream->branches[v->codec];
        gst_element_release_request_pad(b->tee, v->teepad);
        gst_object_unref(v->teepad);
        v->teepad = NULL;
        if (--b->viewers == 0)
            g_object_set(b->valve, "drop", TRUE, NULL); /* nobody watches: no encode */
    }
    if (v->started) {
        /* webrtcbin first: until negotiated it blocks its sink pad, and with
           it the queue's thread, which the queue's stop would wait for. */
        gst_element_set_state(v->webrtc, GST_STATE_NULL);
        gst_element_set_state(v->queue, GST_STATE_NULL);
        gst_bin_remove_many(GST_BIN(stream->encoder_pipe), v->queue, v->webrtc, NULL);
    }
    smi_web_log("viewer %u (%s) of \"%s\" left (%u viewer%s of it now)", v->id, v->peer, stream->name,
                g_list_length(stream->viewers), g_list_length(stream->viewers) == 1 ? "" : "s");
    viewer_unref(v);
}

/* ---- the stream's pipelines --------------------------------------------- */

/* Bitrate for a frame size: the configured rate at 640x480, scaled by the pixel count. */
static guint bitrate_kbps(const SmiWebStream *s, guint width, guint height)
{
    double base = s->config->bitrate_kbps ? s->config->bitrate_kbps : 2000;
    double scaled = base * ((double)width * height) / (640.0 * 480.0);
    return (guint)CLAMP(scaled, 200.0, 40000.0);
}

/* Set an encoder's bitrate for the frames' size (any thread). */
static void set_bitrate(SmiWebStream *s, SmiWebCodec codec, GstElement *encoder)
{
    guint kbps = bitrate_kbps(s, s->width ? s->width : 640, s->height ? s->height : 480);
    if (codec == SMI_WEB_VP8)
        g_object_set(encoder, "target-bitrate", (gint)(kbps * 1000), NULL);
    else
        g_object_set(encoder, "bitrate", kbps, NULL);
}

/* Push the last frame into the encoder again (main thread, or the reader's with s->lock held). */
static void push_locked(SmiWebStream *s, GstBuffer *buffer, GstCaps *caps)
{
    if (!s->pushed_caps || !gst_caps_is_equal(caps, s->pushed_caps)) {
        GstVideoInfo info;
        if (gst_video_info_from_caps(&info, caps) &&
            ((guint)info.width != s->width || (guint)info.height != s->height)) {
            s->width = (guint)info.width;
            s->height = (guint)info.height;
            for (int c = 0; c < SMI_WEB_CODECS; c++)
                if (s->branches[c])
                    set_bitrate(s, (SmiWebCodec)c, s->branches[c]->encoder);
        }
        gst_app_src_set_caps(GST_APP_SRC(s->appsrc), caps);
        gst_caps_replace(&s->pushed_caps, caps);
    }
    /* A new buffer sharing the pixels, without the reader's timestamps: the
       encoder's appsrc stamps it with its own running time. */
    GstBuffer *copy = gst_buffer_copy(buffer);
    GST_BUFFER_PTS(copy) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(copy) = GST_CLOCK_TIME_NONE;
    gst_app_src_push_buffer(GST_APP_SRC(s->appsrc), copy);
    s->last_push_us = g_get_monotonic_time();
    s->frames_sent++;
}

/* A frame from smisrc (the reader's streaming thread). */
static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer data)
{
    SmiWebStream *s = data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (!sample)
        return GST_FLOW_EOS;
    GstBuffer *buffer = gst_sample_get_buffer(sample);
    GstCaps *caps = gst_sample_get_caps(sample);
    if (buffer && caps) {
        g_mutex_lock(&s->lock);
        gst_buffer_replace(&s->last_buffer, buffer);
        gst_caps_replace(&s->last_caps, caps);
        push_locked(s, buffer, caps);
        s->want_keyframe = FALSE;
        g_mutex_unlock(&s->lock);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

/* Ask a codec's encoder for a keyframe now (a new viewer). */
static void request_keyframe(SmiWebStream *s, SmiWebCodec codec)
{
    GstPad *pad = gst_element_get_static_pad(s->branches[codec]->encoder, "src");
    gst_pad_send_event(pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(pad);
    g_mutex_lock(&s->lock);
    s->want_keyframe = TRUE;
    g_mutex_unlock(&s->lock);
}

static void reader_stop(SmiWebStream *s)
{
    if (!s->reader)
        return;
    gst_element_set_state(s->reader, GST_STATE_NULL);
    if (s->reader_bus_watch)
        g_source_remove(s->reader_bus_watch);
    s->reader_bus_watch = 0;
    gst_object_unref(s->reader);
    s->reader = NULL;
}

static gboolean reader_stop_idle(gpointer data)
{
    reader_stop(data);
    return G_SOURCE_REMOVE;
}

static gboolean on_reader_bus(GstBus *bus, GstMessage *message, gpointer data)
{
    (void)bus;
    SmiWebStream *s = data;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR || GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
        GError *error = NULL;
        if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR)
            gst_message_parse_error(message, &error, NULL);
        const char *text = error ? error->message : "end of stream";
        if (!s->last_error || strcmp(s->last_error, text) != 0) {
            smi_web_log("stream \"%s\": %s; trying again every second", s->name, text);
            g_free(s->last_error);
            s->last_error = g_strdup(text);
        }
        g_clear_error(&error);
        s->reader_bus_watch = 0;
        /* Stopped from an idle callback: not from inside this bus watch. */
        g_idle_add(reader_stop_idle, s);
        return G_SOURCE_REMOVE;
    }
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
        GError *error = NULL;
        gst_message_parse_warning(message, &error, NULL);
        smi_web_log("stream \"%s\": %s", s->name, error->message);
        g_clear_error(&error);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean reader_start(SmiWebStream *s)
{
    GstElement *pipe = gst_pipeline_new(NULL);
    GstElement *src = gst_element_factory_make("smisrc", NULL);
    GstElement *sink = gst_element_factory_make("appsink", NULL);
    if (!pipe || !src || !sink) {
        if (pipe)
            gst_object_unref(pipe);
        return FALSE;
    }
    g_object_set(src, "location", s->path, "retry-timeout", 2000u, NULL);
    g_object_set(sink, "sync", FALSE, "max-buffers", 1u, "drop", TRUE, "enable-last-sample", FALSE, NULL);
    GstAppSinkCallbacks callbacks = {0};
    callbacks.new_sample = on_new_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, s, NULL);
    gst_bin_add_many(GST_BIN(pipe), src, sink, NULL);
    gst_element_link(src, sink);
    GstBus *bus = gst_pipeline_get_bus(GST_PIPELINE(pipe));
    s->reader_bus_watch = gst_bus_add_watch(bus, on_reader_bus, s);
    gst_object_unref(bus);
    s->reader = pipe;
    if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        /* The bus holds the reason; on_reader_bus logs it and stops. */
        return FALSE;
    }
    if (s->last_error) {
        smi_web_log("stream \"%s\": reading %s again", s->name, s->path);
        g_clear_pointer(&s->last_error, g_free);
    }
    return TRUE;
}

/* The viewer whose webrtcbin holds `object`, or NULL. */
static Viewer *viewer_of(SmiWebStream *s, GstObject *object)
{
    for (GList *l = s->viewers; l; l = l->next) {
        Viewer *v = l->data;
        for (GstObject *o = object; o; o = GST_OBJECT_PARENT(o))
            if (o == GST_OBJECT(v->webrtc))
                return v;
    }
    return NULL;
}

static gboolean on_encoder_bus(GstBus *bus, GstMessage *message, gpointer data)
{
    (void)bus;
    SmiWebStream *s = data;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        GError *error = NULL;
        gchar *debug = NULL;
        gst_message_parse_error(message, &error, &debug);
        Viewer *v = viewer_of(s, GST_MESSAGE_SRC(message));
        if (v) {
            gchar *reason = g_strdup_printf("WebRTC error: %s", error->message);
            viewer_close(v, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, reason);
            g_free(reason);
        } else {
            smi_web_log("stream \"%s\": encoder error: %s (%s)", s->name, error->message,
                        debug ? debug : "");
        }
        g_clear_error(&error);
        g_free(debug);
    }
    return G_SOURCE_CONTINUE;
}

/* The RTP caps every viewer's webrtcbin offers (the payloader's output). */
static GstCaps *rtp_caps(SmiWebCodec codec)
{
    if (codec == SMI_WEB_H264)
        return gst_caps_from_string("application/x-rtp,media=video,encoding-name=H264,payload=96,"
                                    "clock-rate=90000,packetization-mode=(string)1,"
                                    "profile-level-id=(string)42e01f,rtcp-fb-nack-pli=(boolean)true");
    return gst_caps_from_string("application/x-rtp,media=video,encoding-name=VP8,payload=96,"
                                "clock-rate=90000,rtcp-fb-nack-pli=(boolean)true");
}

static gboolean encoder_build(SmiWebStream *s)
{
    GstElement *pipe = gst_pipeline_new(NULL);
    GstElement *src = gst_element_factory_make("appsrc", NULL);
    GstElement *torgb = gst_element_factory_make("videoconvert", NULL);
    GstElement *rgbcaps = gst_element_factory_make("capsfilter", NULL);
    GstElement *convert = gst_element_factory_make("videoconvert", NULL);
    GstElement *rawcaps = gst_element_factory_make("capsfilter", NULL);
    GstElement *rawtee = gst_element_factory_make("tee", NULL);
    if (!pipe || !src || !torgb || !rgbcaps || !convert || !rawcaps || !rawtee) {
        GstElement *all[] = {pipe, src, torgb, rgbcaps, convert, rawcaps, rawtee};
        for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
            if (all[i])
                gst_object_unref(gst_object_ref_sink(all[i]));
        return FALSE;
    }
    g_object_set(src, "is-live", TRUE, "do-timestamp", TRUE, "format", GST_FORMAT_TIME,
                 "max-bytes", (guint64)0, "block", FALSE, NULL);
    gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "downstream");
    g_object_set(src, "max-buffers", (guint64)2, NULL);
    /* BT.601, limited range, whatever the size and format: what browsers
       assume for VP8 (and H.264 without colour information). Left to itself,
       videoconvert keeps GRAY8 full range and picks BT.709 for HD frames. */
    GstCaps *i420 = gst_caps_from_string("video/x-raw,format=I420,colorimetry=bt601");
    /* Gray frames become RGB first (RGB and RGBA pass through): straight to
       I420, videoconvert would copy GRAY8 values into Y as if they were
       limited-range luma, and the browser would stretch them. */
    GstCaps *rgb = gst_caps_from_string("video/x-raw,format={RGB,RGBA,RGBx,BGR,BGRA,BGRx}");
    g_object_set(rgbcaps, "caps", rgb, NULL);
    gst_caps_unref(rgb);
    g_object_set(rawcaps, "caps", i420, NULL);
    gst_caps_unref(i420);
    g_object_set(rawtee, "allow-not-linked", TRUE, NULL);
    gst_bin_add_many(GST_BIN(pipe), src, torgb, rgbcaps, convert, rawcaps, rawtee, NULL);
    if (!gst_element_link_many(src, torgb, rgbcaps, convert, rawcaps, rawtee, NULL)) {
        gst_object_unref(pipe);
        return FALSE;
    }
    GstBus *bus = gst_pipeline_get_bus(GST_PIPELINE(pipe));
    s->encoder_bus_watch = gst_bus_add_watch(bus, on_encoder_bus, s);
    gst_object_unref(bus);
    s->encoder_pipe = pipe;
    s->appsrc = src;
    s->rawtee = rawtee;
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    return TRUE;
}

/* The encoder of a codec, made the first time a viewer needs it:
   rawtee ! queue ! valve ! ENCODER ! PAYLOADER ! tee. NULL on failure. */
static Branch *branch_get(SmiWebStream *s, SmiWebCodec codec)
{
    if (s->branches[codec])
        return s->branches[codec];
    GstElement *queue = gst_element_factory_make("queue", NULL);
    GstElement *valve = gst_element_factory_make("valve", NULL);
    GstElement *enc, *pay, *parse = NULL, *fix = NULL;
    if (codec == SMI_WEB_H264) {
        enc = gst_element_factory_make("x264enc", NULL);
        parse = gst_element_factory_make("capsfilter", NULL);
        pay = gst_element_factory_make("rtph264pay", NULL);
        fix = gst_element_factory_make("capssetter", NULL);
    } else {
        enc = gst_element_factory_make("vp8enc", NULL);
        pay = gst_element_factory_make("rtpvp8pay", NULL);
    }
    GstElement *tee = gst_element_factory_make("tee", NULL);
    GstElement *all[] = {queue, valve, enc, parse, pay, fix, tee};
    if (!queue || !valve || !enc || !pay || !tee || (codec == SMI_WEB_H264 && (!parse || !fix))) {
        for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
            if (all[i])
                gst_object_unref(gst_object_ref_sink(all[i]));
        return NULL;
    }
    /* The newest frame only: an encoder that falls behind drops old frames. */
    g_object_set(queue, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time", (guint64)0, NULL);
    gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
    if (codec == SMI_WEB_H264) {
        gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
        gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
        g_object_set(enc, "key-int-max", 300u, NULL);
        GstCaps *h264 = gst_caps_from_string("video/x-h264,profile=constrained-baseline");
        g_object_set(parse, "caps", h264, NULL);
        gst_caps_unref(h264);
        g_object_set(pay, "config-interval", -1, NULL);
        /* The RTP caps stay those of the offer whatever the frame size (the
           level x264 picks follows the size; SPS and PPS go in-band). */
        GstCaps *fixed = gst_caps_from_string("application/x-rtp,profile-level-id=(string)42e01f,"
                                              "sprop-parameter-sets=(string)\"\"");
        g_object_set(fix, "caps", fixed, NULL);
        gst_caps_unref(fixed);
        gst_util_set_object_arg(G_OBJECT(pay), "aggregate-mode", "zero-latency");
    } else {
        gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
        g_object_set(enc, "deadline", (gint64)1, "cpu-used", 16, "lag-in-frames", 0,
                     "keyframe-max-dist", 300,
                     /* libvpx's threads wait for each other spinning: on two
                        CPUs a second thread doubles the CPU time. */
                     "threads", g_get_num_processors() >= 4 ? 2 : 1,
                     "buffer-size", 1000, "buffer-initial-size", 500, "buffer-optimal-size", 600,
                     "max-quantizer", 56, NULL);
        gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
        gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
    }
    g_mutex_lock(&s->lock);
    set_bitrate(s, codec, enc);
    g_mutex_unlock(&s->lock);
    g_object_set(pay, "pt", 96u, "mtu", 1200u, NULL);
    g_object_set(tee, "allow-not-linked", TRUE, NULL);
    gst_bin_add_many(GST_BIN(s->encoder_pipe), queue, valve, enc, pay, tee, NULL);
    gboolean linked;
    if (parse) {
        gst_bin_add_many(GST_BIN(s->encoder_pipe), parse, fix, NULL);
        linked = gst_element_link_many(queue, valve, enc, parse, pay, fix, tee, NULL);
    } else {
        linked = gst_element_link_many(queue, valve, enc, pay, tee, NULL);
    }
    for (int i = (int)G_N_ELEMENTS(all) - 1; i >= 0; i--)
        if (all[i])
            gst_element_sync_state_with_parent(all[i]);
    GstPad *teepad = linked ? gst_element_request_pad_simple(s->rawtee, "src_%u") : NULL;
    GstPad *qsink = gst_element_get_static_pad(queue, "sink");
    linked = teepad && gst_pad_link(teepad, qsink) == GST_PAD_LINK_OK;
    gst_object_unref(qsink);
    if (teepad)
        gst_object_unref(teepad);
    if (!linked) {
        smi_web_log("stream \"%s\": cannot link the %s encoder", s->name, codec_name(codec));
        return NULL; /* its elements stay in the pipeline, unlinked and unused */
    }
    Branch *b = g_new0(Branch, 1);
    b->valve = valve;
    b->encoder = enc;
    b->tee = tee;
    g_mutex_lock(&s->lock); /* the reader's thread looks at the branches to set bitrates */
    s->branches[codec] = b;
    g_mutex_unlock(&s->lock);
    smi_web_log("stream \"%s\": encoding %s", s->name, codec_name(codec));
    return b;
}

/* Tell every viewer of s where the stream stands, when that changed. */
static void stream_status(SmiWebStream *s, const char *text)
{
    if (s->status && strcmp(s->status, text) == 0)
        return;
    g_free(s->status);
    s->status = g_strdup(text);
    for (GList *l = s->viewers; l; l = l->next)
        viewer_send_text(l->data, "status", "text", text);
}

/* TRUE for frames a browser can be shown: 2-D, of 8- or 16-bit unsigned
   channels (RGB8, RGBA8, GRAY8, GRAY16, what smisrc outputs). Float, signed
   and 32-bit values (float32, int16, int32, uint32, float64) have no video
   format, and volumes no picture. */
static gboolean frame_showable(const SharedMemoryBufferInfo *b)
{
    const SharedMemoryImageFormatInfo *f = SharedMemoryImageStream_formatinfo(b->format);
    return f && f->kind == IMAGESTREAM_KIND_UINT && f->bytes_per_channel <= 2 && b->depth <= 1;
}

/* The status of a stream whose frames cannot be shown, saying why. */
static void stream_status_unshowable(SmiWebStream *s)
{
    gchar *text = g_strdup_printf("cannot show this stream: its frames are %s%s (a browser is "
                                  "shown 2-D rgb8, rgba8, gray8 and gray16 frames)",
                                  s->file_depth > 1 ? "volumes of " : "", s->file_format);
    stream_status(s, text);
    g_free(text);
}

/* Every TICK_MS: look at the file, start or stop the reader, resend an idle frame. */
static gboolean stream_tick(gpointer data)
{
    SmiWebStream *s = data;
    SharedMemoryStreamInfo info;
    SharedMemoryImageError rc = SharedMemoryImageStream_inspect(s->path, &info);
    gint64 now = g_get_monotonic_time();
    s->present = rc == IMAGESTREAM_NOERROR && info.layout != 0;
    s->server_alive = s->present && info.server_alive;
    if (s->present) {
        /* Newest buffer: size and format of the last frame. A buffer the
           server is writing (state 1 in both layouts) is not a frame yet. */
        const SharedMemoryBufferInfo *newest = NULL;
        guint count = MIN(info.buffer_count, (guint)IMAGESTREAM_MAX_BUFFERS);
        for (guint i = 0; i < count; i++) {
            const SharedMemoryBufferInfo *b = &info.buffers[i];
            if (b->width == 0 || b->height == 0 || b->state == 1)
                continue;
            if (!newest ||
                (info.layout == IMAGESTREAM_LAYOUT_EXTENDED ? b->sequence > newest->sequence
                                                            : b->frame > newest->frame))
                newest = b;
        }
        s->file_width = newest ? newest->width : 0;
        s->file_height = newest ? newest->height : 0;
        s->file_format = newest ? SharedMemoryImageStream_formatname(newest->format) : NULL;
        s->file_depth = newest ? newest->depth : 0;
        s->unshowable = newest && !frame_showable(newest);
        guint64 count_now = info.layout == IMAGESTREAM_LAYOUT_EXTENDED ? info.last_sequence : info.last_frame;
        memmove(s->rate_count, s->rate_count + 1, sizeof s->rate_count - sizeof s->rate_count[0]);
        memmove(s->rate_time, s->rate_time + 1, sizeof s->rate_time - sizeof s->rate_time[0]);
        s->rate_count[RATE_SAMPLES - 1] = count_now;
        s->rate_time[RATE_SAMPLES - 1] = now;
        if (s->rate_n < RATE_SAMPLES)
            s->rate_n++;
    } else {
        s->rate_n = 0;
        s->unshowable = FALSE;
    }

    /* A socket that never says hello holds a viewer's place: not for long. */
    for (GList *l = s->viewers, *next; l; l = next) {
        next = l->next;
        Viewer *v = l->data;
        if (!v->started && now - v->joined_us > HELLO_TIMEOUT_US)
            viewer_close(v, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "no hello within 30 s");
    }

    if (s->viewers && !s->reader && s->present && !s->unshowable)
        reader_start(s);
    else if (!s->viewers && s->reader)
        reader_stop(s);

    g_mutex_lock(&s->lock);
    gint64 idle = now - s->last_push_us;
    if (s->last_buffer && s->viewers &&
        ((s->want_keyframe && idle > REPEAT_AFTER_US) || idle > REFRESH_US)) {
        push_locked(s, s->last_buffer, s->last_caps);
        s->want_keyframe = FALSE;
    }
    gboolean have_frames = s->last_buffer != NULL;
    g_mutex_unlock(&s->lock);

    if (!s->present)
        stream_status(s, "waiting for the stream (its file is not there yet)");
    else if (s->unshowable)
        stream_status_unshowable(s);
    else if (!have_frames || !s->reader)
        stream_status(s, "waiting for frames");
    else if (!s->server_alive)
        stream_status(s, "the stream's server is not running (last frame shown)");
    else
        stream_status(s, "playing");
    return G_SOURCE_CONTINUE;
}

SmiWebStream *smi_web_stream_new(const char *name, const char *path, const SmiWebConfig *config)
{
    SmiWebStream *s = g_new0(SmiWebStream, 1);
    s->name = g_strdup(name);
    s->path = g_strdup(path);
    s->config = config;
    g_mutex_init(&s->lock);
    if (!encoder_build(s)) {
        smi_web_log("stream \"%s\": cannot build the encoder pipeline", name);
        g_free(s->name);
        g_free(s->path);
        g_free(s);
        return NULL;
    }
    stream_tick(s);
    s->timer = g_timeout_add(TICK_MS, stream_tick, s);
    return s;
}

void smi_web_stream_free(SmiWebStream *s)
{
    if (!s)
        return;
    while (s->viewers)
        viewer_close(s->viewers->data, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    g_source_remove(s->timer);
    reader_stop(s);
    gst_element_set_state(s->encoder_pipe, GST_STATE_NULL);
    g_source_remove(s->encoder_bus_watch);
    for (int c = 0; c < SMI_WEB_CODECS; c++)
        g_free(s->branches[c]);
    gst_object_unref(s->encoder_pipe);
    gst_buffer_replace(&s->last_buffer, NULL);
    gst_caps_replace(&s->last_caps, NULL);
    gst_caps_replace(&s->pushed_caps, NULL);
    g_mutex_clear(&s->lock);
    g_free(s->last_error);
    g_free(s->status);
    g_free(s->name);
    g_free(s->path);
    g_free(s);
}

void smi_web_stream_state(SmiWebStream *s, SmiWebStreamState *state)
{
    memset(state, 0, sizeof *state);
    state->present = s->present;
    state->server_alive = s->server_alive;
    state->width = s->file_width;
    state->height = s->file_height;
    state->format = s->file_format;
    if (s->rate_n >= 2) {
        guint first = RATE_SAMPLES - s->rate_n;
        double seconds = (double)(s->rate_time[RATE_SAMPLES - 1] - s->rate_time[first]) / 1e6;
        guint64 frames = s->rate_count[RATE_SAMPLES - 1] - s->rate_count[first];
        if (seconds > 0 && s->rate_count[RATE_SAMPLES - 1] >= s->rate_count[first])
            state->fps = (double)frames / seconds;
    }
    state->viewers = g_list_length(s->viewers);
    g_mutex_lock(&s->lock);
    state->frames_sent = s->frames_sent;
    g_mutex_unlock(&s->lock);
}

void smi_web_stream_add_viewer(SmiWebStream *s, SoupWebsocketConnection *ws, const char *peer)
{
    Viewer *v = g_new0(Viewer, 1);
    v->refs = 1;
    v->id = viewer_next_id++;
    v->stream = s;
    v->ws = g_object_ref(ws);
    v->peer = g_strdup(peer);
    v->config = s->config;
    v->joined_us = g_get_monotonic_time();
    g_object_set(ws, "max-incoming-payload-size", (guint64)s->config->max_message,
                 "keepalive-interval", 10u, NULL);
    g_signal_connect(ws, "message", G_CALLBACK(on_ws_message), v);
    g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), v);
    g_signal_connect(ws, "error", G_CALLBACK(on_ws_error), v);
    s->viewers = g_list_append(s->viewers, v);
    viewer_total++;
    smi_web_log("viewer %u (%s) of \"%s\" joined (%u viewer%s of it now)", v->id, v->peer, s->name,
                g_list_length(s->viewers), g_list_length(s->viewers) == 1 ? "" : "s");
    if (s->status)
        viewer_send_text(v, "status", "text", s->status);
    /* The webrtcbin comes with the browser's "hello", which says what it decodes. */
}

/* The viewer said hello: its webrtcbin, fed by the encoder of `codec`, and the offer. */
static void viewer_start(Viewer *v, SmiWebCodec codec)
{
    SmiWebStream *s = v->stream;
    Branch *b = branch_get(s, codec);
    if (!b) {
        viewer_close(v, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, "cannot make the encoder");
        return;
    }
    v->codec = codec;
    v->started = TRUE;
    v->queue = gst_element_factory_make("queue", NULL);
    v->webrtc = gst_element_factory_make("webrtcbin", NULL);
    if (!v->queue || !v->webrtc) {
        v->started = FALSE;
        viewer_close(v, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, "cannot make a webrtcbin");
        return;
    }
    gst_object_ref_sink(v->queue);
    gst_object_ref_sink(v->webrtc);
    /* A slow viewer drops its own old packets; it never holds the others up. */
    g_object_set(v->queue, "max-size-buffers", 0u, "max-size-bytes", 0u,
                 "max-size-time", (guint64)(500 * GST_MSECOND), NULL);
    gst_util_set_object_arg(G_OBJECT(v->queue), "leaky", "downstream");
    gst_util_set_object_arg(G_OBJECT(v->webrtc), "bundle-policy", "max-bundle");
    if (s->config->stun)
        g_object_set(v->webrtc, "stun-server", s->config->stun, NULL);
    g_signal_connect(v->webrtc, "on-negotiation-needed", G_CALLBACK(on_negotiation_needed), v);
    g_signal_connect(v->webrtc, "on-ice-candidate", G_CALLBACK(on_ice_candidate), v);
    gst_bin_add_many(GST_BIN(s->encoder_pipe), v->queue, v->webrtc, NULL);

    GstPad *sink = gst_element_request_pad_simple(v->webrtc, "sink_%u");
    GstPad *qsrc = gst_element_get_static_pad(v->queue, "src");
    gboolean ok = sink && gst_pad_link(qsrc, sink) == GST_PAD_LINK_OK;
    gst_object_unref(qsrc);
    if (ok) {
        GstWebRTCRTPTransceiver *transceiver = NULL;
        g_object_get(sink, "transceiver", &transceiver, NULL);
        if (transceiver) {
            GstCaps *caps = rtp_caps(codec);
            g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                         "codec-preferences", caps, NULL);
            gst_caps_unref(caps);
            gst_object_unref(transceiver);
        }
    }
    if (sink)
        gst_object_unref(sink);
    if (ok) {
        gst_element_sync_state_with_parent(v->queue);
        gst_element_sync_state_with_parent(v->webrtc);
        v->teepad = gst_element_request_pad_simple(b->tee, "src_%u");
        GstPad *qsink = gst_element_get_static_pad(v->queue, "sink");
        ok = v->teepad && gst_pad_link(v->teepad, qsink) == GST_PAD_LINK_OK;
        gst_object_unref(qsink);
        if (v->teepad && ++b->viewers == 1)
            g_object_set(b->valve, "drop", FALSE, NULL);
    }
    if (!ok) {
        viewer_close(v, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, "cannot link a webrtcbin");
        return;
    }
    smi_web_log("viewer %u (%s) of \"%s\": sending %s", v->id, v->peer, s->name, codec_name(codec));
    if (!s->reader && s->present)
        reader_start(s);
    request_keyframe(s, codec);
}

gboolean smi_web_check_elements(SmiWebConfig *config, GString *missing)
{
    const char *names[] = {"smisrc", "appsrc", "appsink", "videoconvert", "tee", "queue", "valve",
                           "webrtcbin", "nicesrc"};
    const char *packages[] = {"this project's GStreamer plugin (GStreamer/; set GST_PLUGIN_PATH)",
                              "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-base",
                              "gstreamer1.0-plugins-base", "GStreamer", "GStreamer", "GStreamer",
                              "gstreamer1.0-plugins-bad", "gstreamer1.0-nice"};
    gboolean ok = TRUE;
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        GstElementFactory *f = gst_element_factory_find(names[i]);
        if (f) {
            gst_object_unref(f);
            continue;
        }
        g_string_append_printf(missing, "%s%s (%s)", ok ? "" : ", ", names[i], packages[i]);
        ok = FALSE;
    }
    /* Codecs whose elements are missing are left out. */
    guint kept = 0;
    for (guint k = 0; k < config->n_codecs; k++) {
        gboolean h264 = config->codecs[k] == SMI_WEB_H264;
        const char *need[] = {h264 ? "x264enc" : "vp8enc", h264 ? "rtph264pay" : "rtpvp8pay",
                              h264 ? "capssetter" : "rtpvp8pay"};
        gboolean have = TRUE;
        for (size_t i = 0; i < G_N_ELEMENTS(need); i++) {
            GstElementFactory *f = gst_element_factory_find(need[i]);
            if (f)
                gst_object_unref(f);
            else
                have = FALSE;
        }
        if (have)
            config->codecs[kept++] = config->codecs[k];
        else
            smi_web_log("%s is not offered: %s or its payloader is missing (%s)", codec_name(config->codecs[k]),
                        need[0], h264 ? "gstreamer1.0-plugins-ugly, -good" : "gstreamer1.0-plugins-good");
    }
    if (kept == 0) {
        g_string_append_printf(missing, "%san encoder of a codec asked for", ok ? "" : ", ");
        ok = FALSE;
    }
    config->n_codecs = kept;
    return ok;
}
