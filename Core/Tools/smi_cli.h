/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_cli.h -- what every tool's command line needs: getopt_long glue,
 * usage-error messages, number parsing, the stop flag for SIGINT/SIGTERM,
 * and the wording of "unsafe file" messages.
 *
 * Conventions: a tool's parse_options() returns SMI_CLI_RUN to go on, or the
 * exit status to leave with (0 after --help, 2 after a usage error). Parsers
 * return 0 and store the value, or -1 (value untouched) when the text is not
 * entirely a valid value; none prints anything.
 */
#ifndef SMI_CLI_H
#define SMI_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "shared_memory_image.h"

/** What parse_options() returns when the tool should run (not an exit status). */
#define SMI_CLI_RUN (-1)

/** The exit status of a usage error, for every tool. */
#define SMI_CLI_USAGE 2

/* ---- getopt_long ---------------------------------------------------------- */

/**
 * Build getopt_long()'s optstring from `options` (ended by a zero entry):
 * a leading ':' (so a missing value is reported as ':'), then each option's
 * `val` when it is a printable character, followed by ':' when it takes a
 * value. Options whose `val` is not printable have no short form. Also sets
 * opterr = 0: messages come from smi_tool_option_error().
 */
void smi_cli_optstring(const struct option *options, char *out, size_t size);

/** Print "PROG: unknown option ..." or "PROG: option ... needs a value" to
    stderr for what getopt_long() just returned as `c` ('?' or ':'). */
void smi_tool_option_error(const char *prog, int c, char **argv);

/** smi_tool_option_error(), then "Try 'PROG --help'."; returns SMI_CLI_USAGE. */
int smi_tool_option_usage_error(const char *prog, int c, char **argv);

/** Print "TOOL: MESSAGE[: 'ARG']" and a --help hint to stderr; returns 2,
    the usage-error exit status. */
int smi_tool_usage_error(const char *tool, const char *message, const char *arg);

/** After the options: exactly one operand FILE must remain. Stores it and
    returns SMI_CLI_RUN, or reports "no FILE given" / "only one FILE" as a
    usage error and returns 2. */
int smi_cli_one_file(const char *tool, int argc, char **argv, const char **path);

/* ---- Values --------------------------------------------------------------- */

/** Decimal unsigned integer, 0 .. UINT32_MAX (no sign, no spaces). */
int smi_tool_parse_u32(const char *text, uint32_t *value);

/** Decimal unsigned integer, 0 .. UINT64_MAX (no sign, no spaces). */
int smi_tool_parse_u64(const char *text, uint64_t *value);

/** A finite, non-negative number (seconds, hertz): "60", "0.5", "1e-3". */
int smi_tool_parse_nonneg(const char *text, double *value);

/** "WIDTHxHEIGHT" (or 'X'), both 1 .. 65536: "640x480". */
int smi_tool_parse_size(const char *text, uint32_t *width, uint32_t *height);

/* ---- Stop on SIGINT / SIGTERM / SIGHUP ------------------------------------ */

/** Set to the signal number by the handler installed below; 0 until then. */
extern volatile sig_atomic_t smi_tool_stop;

/** Install a handler for SIGINT, SIGTERM and SIGHUP that sets smi_tool_stop
    (without SA_RESTART, so sleeps end early). Returns 0, or -1 with errno. */
int smi_tool_install_stop_handler(void);

/* ---- Messages ------------------------------------------------------------- */

/** How the tools' users ask for IMAGESTREAM_OPTIONS_ANYFILE, for
    SharedMemoryImageStream_openerrorstring()'s messages. */
#define SMI_TOOL_OPTIN "--any-file"

#endif /* SMI_CLI_H */
