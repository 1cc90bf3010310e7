/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi-web -- shared-memory image streams in a web browser, over WebRTC.
 *
 *   smi-web [--listen ADDR:PORT] [--token T] [--codec vp8,h264] STREAM...
 *
 * Serves, over HTTP (libsoup 3):
 *   /                 the streams, with their size, format and frame rate
 *   /view/NAME        a page that plays stream NAME in a <video> element
 *   /streams.json     the same list for programs
 *   /ws/NAME          the page's WebSocket: WebRTC signaling, JSON messages
 *   /smi-web.js, /smi-web.css   the page's files (compiled in)
 * Only the streams named on the command line are served: no path of a URL
 * ever reaches the file system. Listens on 127.0.0.1 unless told otherwise;
 * on any other address a token is required (one is made up when none is
 * given). Requests whose Host is not an IP address or localhost are refused
 * without a token (DNS rebinding), and so are WebSockets opened by a page of
 * another origin.
 */
#include <glib-unix.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "smi_web_assets.h"
#include "smi_web_stream.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"

typedef struct App {
    SmiWebConfig config;
    const char *token;     /* NULL: none needed */
    GPtrArray *streams;    /* SmiWebStream* */
    SoupServer *server;
    GMainLoop *loop;
} App;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: smi-web [OPTION]... STREAM...\n"
            "Serve shared-memory image streams to web browsers over WebRTC.\n"
            "STREAM is FILE or NAME=FILE; the page of a stream is /view/NAME (NAME defaults\n"
            "to the file's name without its extension; letters, digits, '.', '_', '-').\n"
            "\n"
            "  -l, --listen ADDR:PORT  address to listen on (default " DEFAULT_LISTEN "; port 0:\n"
            "                          any free port). Other than loopback, a token is needed:\n"
            "                          one is made up when --token is not given\n"
            "  -t, --token T           viewers need ?token=T on the page (the page passes it\n"
            "                          to the WebSocket); also from SMI_WEB_TOKEN\n"
            "  -c, --codec C[,C]       codecs offered, preferred first: each viewer gets the\n"
            "                          first its browser decodes (default vp8,h264; h264 is\n"
            "                          x264enc tune=zerolatency). One encode per stream and\n"
            "                          codec in use, shared by all its viewers\n"
            "  -b, --bitrate KBPS      target bitrate at 640x480, scaled by the pixel count\n"
            "                          (default 2000)\n"
            "  -m, --max-viewers N     viewers at once, all streams together (default 16)\n"
            "  -s, --stun URI          STUN server (stun://HOST:PORT) for viewers behind NAT;\n"
            "                          without it, only host ICE candidates are used\n"
            "  -h, --help              show this help and exit\n"
            "  -V, --version           show the version and exit\n"
            "\n"
            "Prints the URL of each stream's page on stdout, log lines on stderr.\n"
            "Exit status: 0 stopped by SIGINT/SIGTERM, 1 error, 2 usage error.\n");
}

/* ---- HTTP ---------------------------------------------------------------- */

static void no_cache_headers(SoupServerMessage *msg)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Cache-Control", "no-store");
    soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
    soup_message_headers_replace(h, "Content-Security-Policy",
                                 "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                                 "media-src 'self' blob:; object-src 'none'; base-uri 'none'");
}

static void respond(SoupServerMessage *msg, guint status, const char *type, const char *body, gsize size)
{
    no_cache_headers(msg);
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body, size);
}

static void respond_text(SoupServerMessage *msg, guint status, const char *text)
{
    respond(msg, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* Constant-time string comparison (the token). */
static gboolean same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

/* Host header names an IP literal or localhost (not a name an attacker's DNS may point here). */
static gboolean host_is_address(const char *host)
{
    if (!host || !*host)
        return FALSE;
    gchar *name;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (!end)
            return FALSE;
        name = g_strndup(host + 1, (gsize)(end - host - 1));
    } else {
        const char *colon = strrchr(host, ':');
        name = colon ? g_strndup(host, (gsize)(colon - host)) : g_strdup(host);
    }
    gboolean ok = g_hostname_is_ip_address(name) || g_ascii_strcasecmp(name, "localhost") == 0;
    g_free(name);
    return ok;
}

/* Whether the request may go on: method, Host, token. Responds (403...) when not. */
static gboolean request_allowed(App *app, SoupServerMessage *msg, GHashTable *query, gboolean need_token)
{
    const char *method = soup_server_message_get_method(msg);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        respond_text(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Only GET is served.\n");
        return FALSE;
    }
    if (!need_token)
        return TRUE;
    if (app->token) {
        const char *given = query ? g_hash_table_lookup(query, "token") : NULL;
        if (!given || !same_secret(given, app->token)) {
            respond_text(msg, SOUP_STATUS_FORBIDDEN,
                         "Forbidden: this server needs its token (?token=...).\n");
            return FALSE;
        }
        return TRUE;
    }
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    if (!host_is_address(soup_message_headers_get_one(h, "Host"))) {
        respond_text(msg, SOUP_STATUS_FORBIDDEN,
                     "Forbidden: without a token, open this server by its IP address or localhost.\n");
        return FALSE;
    }
    return TRUE;
}

static SmiWebStream *find_stream(App *app, const char *name)
{
    for (guint i = 0; i < app->streams->len; i++) {
        SmiWebStream *s = g_ptr_array_index(app->streams, i);
        if (strcmp(smi_web_stream_name(s), name) == 0)
            return s;
    }
    return NULL;
}

static const SmiWebAsset *find_asset(const char *name)
{
    for (const SmiWebAsset *a = smi_web_assets; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

static void serve_asset(SoupServerMessage *msg, const char *name)
{
    const SmiWebAsset *a = find_asset(name);
    if (!a) {
        respond_text(msg, SOUP_STATUS_NOT_FOUND, "Not found.\n");
        return;
    }
    respond(msg, SOUP_STATUS_OK, a->type, (const char *)a->data, a->size);
}

/* "?token=..." (escaped) when the server has a token, else "". */
static gchar *token_query(App *app)
{
    if (!app->token)
        return g_strdup("");
    gchar *escaped = g_uri_escape_string(app->token, NULL, FALSE);
    gchar *q = g_strdup_printf("?token=%s", escaped);
    g_free(escaped);
    return q;
}

static void serve_list(App *app, SoupServerMessage *msg)
{
    GString *html = g_string_new(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>smi-web: streams</title><link rel=\"stylesheet\" href=\"/smi-web.css\"></head>\n"
        "<body class=\"list\"><h1>Shared-memory image streams</h1>\n<table>\n"
        "<tr><th>stream</th><th>size</th><th>format</th><th>frames/s</th><th>viewers</th>"
        "<th>state</th></tr>\n");
    gchar *q = token_query(app);
    for (guint i = 0; i < app->streams->len; i++) {
        SmiWebStream *s = g_ptr_array_index(app->streams, i);
        SmiWebStreamState st;
        smi_web_stream_state(s, &st);
        gchar *name = g_markup_escape_text(smi_web_stream_name(s), -1);
        gchar *href = g_uri_escape_string(smi_web_stream_name(s), NULL, FALSE);
        gchar *qh = g_markup_escape_text(q, -1);
        g_string_append_printf(html, "<tr><td><a href=\"/view/%s%s\">%s</a></td>", href, qh, name);
        if (st.width)
            g_string_append_printf(html, "<td>%u&times;%u</td><td>%s</td>", st.width, st.height,
                                   st.format ? st.format : "?");
        else
            g_string_append(html, "<td>&ndash;</td><td>&ndash;</td>");
        g_string_append_printf(html, "<td>%.1f</td><td>%u</td><td>%s</td></tr>\n", st.fps, st.viewers,
                               !st.present ? "not there yet"
                               : st.server_alive ? "live" : "no server");
        g_free(name);
        g_free(href);
        g_free(qh);
    }
    g_free(q);
    g_string_append(html, "</table>\n</body></html>\n");
    respond(msg, SOUP_STATUS_OK, "text/html; charset=utf-8", html->str, html->len);
    g_string_free(html, TRUE);
}

static void serve_json(App *app, SoupServerMessage *msg)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "streams");
    json_builder_begin_array(b);
    for (guint i = 0; i < app->streams->len; i++) {
        SmiWebStream *s = g_ptr_array_index(app->streams, i);
        SmiWebStreamState st;
        smi_web_stream_state(s, &st);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, smi_web_stream_name(s));
        json_builder_set_member_name(b, "present");
        json_builder_add_boolean_value(b, st.present);
        json_builder_set_member_name(b, "server_alive");
        json_builder_add_boolean_value(b, st.server_alive);
        json_builder_set_member_name(b, "width");
        json_builder_add_int_value(b, st.width);
        json_builder_set_member_name(b, "height");
        json_builder_add_int_value(b, st.height);
        json_builder_set_member_name(b, "format");
        if (st.format)
            json_builder_add_string_value(b, st.format);
        else
            json_builder_add_null_value(b);
        json_builder_set_member_name(b, "fps");
        json_builder_add_double_value(b, st.fps);
        json_builder_set_member_name(b, "viewers");
        json_builder_add_int_value(b, st.viewers);
        json_builder_set_member_name(b, "frames_sent");
        json_builder_add_int_value(b, (gint64)st.frames_sent);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "viewers");
    json_builder_add_int_value(b, smi_web_viewer_count());
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    gchar *text = json_to_string(root, TRUE);
    respond(msg, SOUP_STATUS_OK, "application/json", text, strlen(text));
    g_free(text);
    json_node_unref(root);
    g_object_unref(b);
}

static void on_http(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer data)
{
    (void)server;
    App *app = data;
    if (strcmp(path, "/smi-web.js") == 0 || strcmp(path, "/smi-web.css") == 0) {
        if (request_allowed(app, msg, query, FALSE))
            serve_asset(msg, path + 1);
        return;
    }
    if (!request_allowed(app, msg, query, TRUE))
        return;
    if (strcmp(path, "/") == 0) {
        serve_list(app, msg);
    } else if (strcmp(path, "/streams.json") == 0) {
        serve_json(app, msg);
    } else if (g_str_has_prefix(path, "/view/") && find_stream(app, path + 6)) {
        serve_asset(msg, "view.html");
    } else {
        respond_text(msg, SOUP_STATUS_NOT_FOUND, "Not found.\n");
    }
}

/* Before the WebSocket handshake: refuse it with an HTTP status when it may not go on. */
static void on_ws_early(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                       gpointer data)
{
    (void)server;
    App *app = data;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    const char *origin = soup_message_headers_get_one(h, "Origin");
    const char *host = soup_message_headers_get_one(h, "Host");
    gchar *peer = g_strdup(soup_server_message_get_remote_host(msg));
    if (!request_allowed(app, msg, query, TRUE)) {
        smi_web_log("WebSocket from %s refused: bad or missing token, or Host", peer ? peer : "?");
    } else if (!g_str_has_prefix(path, "/ws/") || !find_stream(app, path + 4)) {
        respond_text(msg, SOUP_STATUS_NOT_FOUND, "No such stream.\n");
    } else if (origin && (!host || !(g_str_has_prefix(origin, "http://") || g_str_has_prefix(origin, "https://")) ||
                          strcmp(strstr(origin, "://") + 3, host) != 0)) {
        smi_web_log("WebSocket from %s refused: a page of another origin (%s)", peer ? peer : "?", origin);
        respond_text(msg, SOUP_STATUS_FORBIDDEN, "Forbidden: a page of another origin.\n");
    } else if (smi_web_viewer_count() >= app->config.max_viewers) {
        smi_web_log("WebSocket from %s refused: %u viewers already (--max-viewers)", peer ? peer : "?",
                    app->config.max_viewers);
        respond_text(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Too many viewers.\n");
    }
    g_free(peer);
}

static void on_ws(SoupServer *server, SoupServerMessage *msg, const char *path,
                  SoupWebsocketConnection *ws, gpointer data)
{
    (void)server;
    App *app = data;
    SmiWebStream *s = g_str_has_prefix(path, "/ws/") ? find_stream(app, path + 4) : NULL;
    if (!s || smi_web_viewer_count() >= app->config.max_viewers) {
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
        return;
    }
    const char *peer = soup_server_message_get_remote_host(msg);
    smi_web_stream_add_viewer(s, ws, peer ? peer : "?");
}

/* ---- command line -------------------------------------------------------- */

static gboolean name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.')
        return FALSE;
    for (const char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
            return FALSE;
    return TRUE;
}

static gboolean on_signal(gpointer data)
{
    App *app = data;
    g_main_loop_quit(app->loop);
    return G_SOURCE_REMOVE;
}

/* Make smisrc findable: GST_PLUGIN_PATH first, then the installed and the build's plugin folders. */
static void find_plugin(void)
{
    GstElementFactory *f = gst_element_factory_find("smisrc");
    if (f) {
        gst_object_unref(f);
        return;
    }
    gchar **dirs = g_strsplit(SMI_WEB_PLUGIN_DIRS, ":", -1);
    for (gchar **d = dirs; *d; d++) {
        gchar *file = g_build_filename(*d, "libgstsmi.so", NULL);
        if (g_file_test(file, G_FILE_TEST_IS_REGULAR)) {
            GstPlugin *plugin = gst_plugin_load_file(file, NULL);
            if (plugin) {
                gst_object_unref(plugin);
                g_free(file);
                break;
            }
        }
        g_free(file);
    }
    g_strfreev(dirs);
}

int main(int argc, char **argv)
{
    App app = {0};
    app.config.codecs[0] = SMI_WEB_VP8;
    app.config.codecs[1] = SMI_WEB_H264;
    app.config.n_codecs = 2;
    app.config.max_viewers = 16;
    app.config.max_message = 64 * 1024;
    const char *listen = DEFAULT_LISTEN;
    const char *token = g_getenv("SMI_WEB_TOKEN");
    GPtrArray *specs = g_ptr_array_new();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        /* Options with a value: "--opt V", "--opt=V", "-o V". */
        static const char *const with_value[][2] = {{"--listen", "-l"}, {"--token", "-t"},
                                                    {"--codec", "-c"},  {"--bitrate", "-b"},
                                                    {"--max-viewers", "-m"}, {"--stun", "-s"}};
        const char *option = NULL;
        for (size_t k = 0; k < G_N_ELEMENTS(with_value) && !option; k++) {
            size_t n = strlen(with_value[k][0]);
            if (strcmp(a, with_value[k][0]) == 0 || strcmp(a, with_value[k][1]) == 0) {
                option = with_value[k][0];
                if (i + 1 >= argc) {
                    fprintf(stderr, "smi-web: %s needs a value\n", a);
                    return 2;
                }
                value = argv[++i];
            } else if (strncmp(a, with_value[k][0], n) == 0 && a[n] == '=') {
                option = with_value[k][0];
                value = a + n + 1;
            }
        }
        if (option) {
            char *end = NULL;
            if (strcmp(option, "--listen") == 0) {
                listen = value;
            } else if (strcmp(option, "--token") == 0) {
                token = value;
            } else if (strcmp(option, "--codec") == 0) {
                gchar **names = g_strsplit(value, ",", -1);
                app.config.n_codecs = 0;
                gboolean bad = g_strv_length(names) == 0 || g_strv_length(names) > SMI_WEB_CODECS;
                for (gchar **n = names; *n && !bad; n++) {
                    SmiWebCodec c = g_ascii_strcasecmp(*n, "vp8") == 0    ? SMI_WEB_VP8
                                    : g_ascii_strcasecmp(*n, "h264") == 0 ? SMI_WEB_H264
                                                                          : SMI_WEB_CODECS;
                    for (guint k = 0; k < app.config.n_codecs; k++)
                        bad = bad || app.config.codecs[k] == c;
                    bad = bad || c == SMI_WEB_CODECS;
                    if (!bad)
                        app.config.codecs[app.config.n_codecs++] = c;
                }
                g_strfreev(names);
                if (bad) {
                    fprintf(stderr, "smi-web: --codec is vp8, h264, vp8,h264 or h264,vp8, not \"%s\"\n",
                            value);
                    return 2;
                }
            } else if (strcmp(option, "--bitrate") == 0) {
                unsigned long v = strtoul(value, &end, 10);
                if (!*value || *end || v < 50 || v > 100000) {
                    fprintf(stderr, "smi-web: --bitrate is 50..100000 kbit/s\n");
                    return 2;
                }
                app.config.bitrate_kbps = (guint)v;
            } else if (strcmp(option, "--max-viewers") == 0) {
                unsigned long v = strtoul(value, &end, 10);
                if (!*value || *end || v < 1 || v > 1000) {
                    fprintf(stderr, "smi-web: --max-viewers is 1..1000\n");
                    return 2;
                }
                app.config.max_viewers = (guint)v;
            } else if (strcmp(option, "--stun") == 0) {
                if (!g_str_has_prefix(value, "stun://")) {
                    fprintf(stderr, "smi-web: --stun takes stun://HOST:PORT\n");
                    return 2;
                }
                app.config.stun = value;
            }
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("smi-web %s\n", SMI_WEB_VERSION);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "smi-web: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            g_ptr_array_add(specs, (gpointer)a);
        }
    }
    if (specs->len == 0) {
        usage(stderr);
        return 2;
    }
    if (token && !*token)
        token = NULL;

    /* The address: ADDR:PORT, [V6]:PORT. */
    gchar *host = NULL;
    guint64 port = 0;
    const char *colon = strrchr(listen, ':');
    if (colon && colon > listen) {
        host = listen[0] == '[' && colon[-1] == ']' ? g_strndup(listen + 1, (gsize)(colon - listen - 2))
                                                    : g_strndup(listen, (gsize)(colon - listen));
        char *end = NULL;
        port = g_ascii_strtoull(colon + 1, &end, 10);
        if (!colon[1] || *end || port > 65535)
            g_clear_pointer(&host, g_free);
    }
    GInetAddress *address = host ? g_inet_address_new_from_string(host) : NULL;
    if (!address) {
        fprintf(stderr, "smi-web: --listen takes ADDR:PORT with ADDR an IP address (e.g. "
                        "127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080), not \"%s\"\n", listen);
        return 2;
    }
    gchar *made_token = NULL;
    if (!g_inet_address_get_is_loopback(address) && !token) {
        guint8 bytes[16];
        if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes) {
            fprintf(stderr, "smi-web: cannot make a token (getrandom); give one with --token\n");
            return 1;
        }
        GString *t = g_string_new(NULL);
        for (size_t k = 0; k < sizeof bytes; k++)
            g_string_append_printf(t, "%02x", bytes[k]);
        made_token = g_string_free(t, FALSE);
        token = made_token;
        fprintf(stderr, "smi-web: listening on %s, which is not loopback: viewers need the token "
                        "in the URLs below\n", host);
    }
    app.token = token;

    gst_init(&argc, &argv);
    find_plugin();
    GString *missing = g_string_new(NULL);
    if (!smi_web_check_elements(&app.config, missing)) {
        fprintf(stderr, "smi-web: GStreamer elements missing: %s\n", missing->str);
        return 1;
    }
    g_string_free(missing, TRUE);

    app.streams = g_ptr_array_new();
    for (guint i = 0; i < specs->len; i++) {
        const char *spec = g_ptr_array_index(specs, i);
        const char *eq = strchr(spec, '=');
        gchar *name, *file;
        const char *slash = strchr(spec, '/');
        if (eq && eq != spec && (!slash || slash > eq)) {
            name = g_strndup(spec, (gsize)(eq - spec));
            file = g_strdup(eq + 1);
        } else {
            gchar *base = g_path_get_basename(spec);
            char *dot = strrchr(base, '.');
            if (dot && dot != base)
                *dot = '\0';
            name = base;
            file = g_strdup(spec);
        }
        if (!name_ok(name)) {
            fprintf(stderr, "smi-web: \"%s\" is not a stream name (letters, digits, '.', '_', '-'; "
                            "give NAME=FILE)\n", name);
            return 2;
        }
        if (find_stream(&app, name)) {
            fprintf(stderr, "smi-web: two streams named \"%s\" (give NAME=FILE)\n", name);
            return 2;
        }
        gchar *absolute = g_canonicalize_filename(file, NULL);
        SmiWebStream *s = smi_web_stream_new(name, absolute, &app.config);
        if (!s)
            return 1;
        g_ptr_array_add(app.streams, s);
        g_free(name);
        g_free(file);
        g_free(absolute);
    }

    app.server = soup_server_new("server-header", "smi-web", NULL);
    soup_server_add_handler(app.server, NULL, on_http, &app, NULL);
    soup_server_add_early_handler(app.server, "/ws", on_ws_early, &app, NULL);
    soup_server_add_websocket_handler(app.server, "/ws", NULL, NULL, on_ws, &app, NULL);
    GSocketAddress *socket_address = g_inet_socket_address_new(address, (guint16)port);
    GError *error = NULL;
    if (!soup_server_listen(app.server, socket_address, 0, &error)) {
        fprintf(stderr, "smi-web: cannot listen on %s: %s\n", listen, error->message);
        return 1;
    }
    g_object_unref(socket_address);

    GSList *uris = soup_server_get_uris(app.server);
    guint bound_port = uris ? (guint)g_uri_get_port(uris->data) : (guint)port;
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    gchar *q = token_query(&app);
    gboolean v6 = g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6;
    if (g_inet_address_get_is_any(address)) {
        /* Every address: print this machine's name, which others can open. */
        g_free(host);
        host = g_strdup(g_get_host_name());
        v6 = FALSE;
    }
    printf("smi-web: listening on http://%s%s%s:%u/%s\n", v6 ? "[" : "", host, v6 ? "]" : "", bound_port, q);
    for (guint i = 0; i < app.streams->len; i++) {
        SmiWebStream *s = g_ptr_array_index(app.streams, i);
        printf("  %s: http://%s%s%s:%u/view/%s%s\n", smi_web_stream_path(s), v6 ? "[" : "", host,
               v6 ? "]" : "", bound_port, smi_web_stream_name(s), q);
    }
    fflush(stdout);
    g_free(q);

    app.loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGINT, on_signal, &app);
    g_unix_signal_add(SIGTERM, on_signal, &app);
    g_main_loop_run(app.loop);

    smi_web_log("stopping");
    soup_server_disconnect(app.server);
    for (guint i = 0; i < app.streams->len; i++)
        smi_web_stream_free(g_ptr_array_index(app.streams, i));
    g_object_unref(app.server);
    g_ptr_array_free(app.streams, TRUE);
    g_ptr_array_free(specs, TRUE);
    g_main_loop_unref(app.loop);
    g_object_unref(address);
    g_free(host);
    g_free(made_token);
    gst_deinit();
    return 0;
}
