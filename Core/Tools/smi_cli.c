/* SPDX-License-Identifier: BSD-3-Clause */
/* smi_cli.c -- command-line glue shared by the tools (see smi_cli.h). */
#include "smi_cli.h"

#include "shared_memory_image.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- getopt_long ---------------------------------------------------------- */

void smi_cli_optstring(const struct option *options, char *out, size_t size)
{
    size_t len = 0;
    if (size == 0)
        return;
    if (size > 1)
        out[len++] = ':';
    for (const struct option *o = options; o->name != NULL; o++) {
        if (o->flag != NULL || o->val <= ' ' || o->val > '~' || len + 2 >= size)
            continue;
        out[len++] = (char)o->val;
        if (o->has_arg == required_argument)
            out[len++] = ':';
    }
    out[len] = '\0';
    opterr = 0;
}

void smi_tool_option_error(const char *prog, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (c == ':') {
        if (strncmp(arg, "--", 2) == 0)
            fprintf(stderr, "%s: option '%s' needs a value\n", prog, arg);
        else
            fprintf(stderr, "%s: option '-%c' needs a value\n", prog, optopt);
    } else if (optopt != 0 && strncmp(arg, "--", 2) != 0) {
        fprintf(stderr, "%s: unknown option '-%c'\n", prog, optopt);
    } else {
        fprintf(stderr, "%s: unknown option '%s'\n", prog, arg);
    }
}

int smi_tool_option_usage_error(const char *prog, int c, char **argv)
{
    smi_tool_option_error(prog, c, argv);
    fprintf(stderr, "Try '%s --help'.\n", prog);
    return SMI_CLI_USAGE;
}

int smi_tool_usage_error(const char *tool, const char *message, const char *arg)
{
    if (arg != NULL)
        fprintf(stderr, "%s: %s: '%s'\n", tool, message, arg);
    else
        fprintf(stderr, "%s: %s\n", tool, message);
    fprintf(stderr, "Try '%s --help'.\n", tool);
    return SMI_CLI_USAGE;
}

int smi_cli_one_file(const char *tool, int argc, char **argv, const char **path)
{
    if (optind >= argc)
        return smi_tool_usage_error(tool, "no FILE given", NULL);
    if (optind + 1 < argc)
        return smi_tool_usage_error(tool, "only one FILE, please; extra argument",
                                    argv[optind + 1]);
    *path = argv[optind];
    return SMI_CLI_RUN;
}

/* ---- Values --------------------------------------------------------------- */

int smi_tool_parse_u64(const char *text, uint64_t *value)
{
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return -1;
    *value = (uint64_t)v;
    return 0;
}

int smi_tool_parse_u32(const char *text, uint32_t *value)
{
    uint64_t v;
    if (smi_tool_parse_u64(text, &v) != 0 || v > UINT32_MAX)
        return -1;
    *value = (uint32_t)v;
    return 0;
}

int smi_tool_parse_nonneg(const char *text, double *value)
{
    if (text == NULL || text[0] == '\0' || isspace((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(v) || v < 0.0)
        return -1;
    *value = v;
    return 0;
}

int smi_tool_parse_size(const char *text, uint32_t *width, uint32_t *height)
{
    if (text == NULL)
        return -1;
    const char *x = strpbrk(text, "xX");
    if (x == NULL || x == text || (size_t)(x - text) >= 16)
        return -1;
    char wtext[16];
    memcpy(wtext, text, (size_t)(x - text));
    wtext[x - text] = '\0';
    uint32_t w, h;
    if (smi_tool_parse_u32(wtext, &w) != 0 || smi_tool_parse_u32(x + 1, &h) != 0)
        return -1;
    if (w < 1 || h < 1 || w > 65536 || h > 65536)
        return -1;
    *width = w;
    *height = h;
    return 0;
}

/* ---- Stop flag ------------------------------------------------------------ */

volatile sig_atomic_t smi_tool_stop = 0;

static void smi_tool_on_signal(int sig)
{
    smi_tool_stop = sig;
}

int smi_tool_install_stop_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = smi_tool_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: let sleeps and waits return early */
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    return 0;
}
