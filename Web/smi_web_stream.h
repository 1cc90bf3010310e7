/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_web_stream.h -- smi-web's streams and viewers.
 *
 * A stream (one file named on the command line) has two pipelines:
 *   reader:  smisrc ! appsink                       (restarted at will)
 *   encoder: appsrc ! videoconvert ! RGB ! videoconvert ! I420 ! tee
 *            tee ! queue ! valve ! ENCODER ! PAYLOADER ! tee   (one per codec in use)
 *            tee ! queue ! webrtcbin                (one branch per viewer)
 * The reader runs only while the stream has viewers and its file is there;
 * when it fails (file missing, truncated, replaced) it is stopped and started
 * again a second later, while the viewers stay connected. The viewers of a
 * codec share its one encode (the first codec of the configuration that the
 * browser says it decodes); an encoder without viewers drops its input. A viewer is a WebSocket (signaling: JSON messages) and a
 * webrtcbin that sends the stream's RTP.
 *
 * Everything here runs in the main context's thread, except the GStreamer
 * callbacks, which hand their work to it.
 */
#ifndef SMI_WEB_STREAM_H
#define SMI_WEB_STREAM_H

#include <glib.h>
#include <libsoup/soup.h>

/** A video codec (each stream encodes once per codec its viewers use). */
typedef enum SmiWebCodec { SMI_WEB_VP8 = 0, SMI_WEB_H264 = 1, SMI_WEB_CODECS = 2 } SmiWebCodec;

/** Settings shared by every stream. */
typedef struct SmiWebConfig {
    SmiWebCodec codecs[SMI_WEB_CODECS]; /**< codecs offered, preferred first: each viewer gets the first its browser can decode */
    guint n_codecs;         /**< how many of codecs[] are used */
    guint bitrate_kbps;     /**< target bitrate at 640x480 (scaled by pixel count), 0: automatic */
    const char *stun;       /**< STUN server URI (stun://host:port), NULL: host candidates only */
    guint max_viewers;      /**< viewers at once, all streams together */
    guint max_message;      /**< largest signaling message accepted, bytes */
} SmiWebConfig;

typedef struct SmiWebStream SmiWebStream;

/** What a stream looks like now, for the list page (from the file, without attaching). */
typedef struct SmiWebStreamState {
    gboolean present;       /**< the file is there and holds a stream */
    gboolean server_alive;  /**< a server of this library holds it */
    guint width, height;    /**< newest frame's size (0 before any) */
    const char *format;     /**< newest frame's format name ("rgb8", ...) */
    double fps;             /**< frames published per second, measured over the last seconds */
    guint viewers;          /**< viewers now */
    guint64 frames_sent;    /**< frames encoded for the viewers */
} SmiWebStreamState;

/** A new stream NAME reading the file PATH (absolute), not started yet. */
SmiWebStream *smi_web_stream_new(const char *name, const char *path, const SmiWebConfig *config);

/** Stop the stream's pipelines, close its viewers and free it. */
void smi_web_stream_free(SmiWebStream *stream);

/** The stream's name, as in /view/NAME. */
const char *smi_web_stream_name(const SmiWebStream *stream);

/** The stream's file. */
const char *smi_web_stream_path(const SmiWebStream *stream);

/** Fill *state with what the stream looks like now. */
void smi_web_stream_state(SmiWebStream *stream, SmiWebStreamState *state);

/**
 * A new viewer of `stream` on the WebSocket `ws` (the stream takes a
 * reference): the stream's pipelines start if needed, a webrtcbin is added,
 * and its offer goes out on the socket. `peer` names the viewer in log lines.
 */
void smi_web_stream_add_viewer(SmiWebStream *stream, SoupWebsocketConnection *ws, const char *peer);

/** Viewers of every stream together. */
guint smi_web_viewer_count(void);

/** Print a log line ("smi-web: " and the text) on stderr. */
void smi_web_log(const char *format, ...) G_GNUC_PRINTF(1, 2);

/**
 * Check that smisrc, webrtcbin and the rest can be made; codecs whose encoder
 * or payloader is missing leave config (with a message in `missing`). FALSE
 * when a needed element or every codec is missing.
 */
gboolean smi_web_check_elements(SmiWebConfig *config, GString *missing);

#endif /* SMI_WEB_STREAM_H */
