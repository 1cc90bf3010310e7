#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Core.Layering: the core's calls go one way, as Core/src/smi_internal.h
# says ("The core's layers"): an object file of the library calls only
# objects of lower layers, a layout only through its smi_layout_ops_t table,
# and only the platform file calls the operating system (anything but the C
# library's memory and string functions).
# Change the layers here and in that comment together.
# Usage: check_layering.sh NM OBJECT...
nm=$1
shift
for o in "$@"; do
    f=$(basename "$o" .o)
    "$nm" --defined-only -g "$o" | awk -v f="$f" '{print "def", f, $3}'
    "$nm" -u "$o" | awk -v f="$f" '{print "use", f, $2}'
done | awk '
function layer(f) {
    if (f == "smi_stream.c") return 1
    if (f == "smi_extended.c" || f == "smi_ensight.c") return 2
    if (f == "smi_handle.c" || f == "smi_fork.c" || f == "smi_formats.c" || f == "smi_errors.c")
        return 3
    if (f == "smi_platform_linux.c") return 4
    if (f == "smi_serve.c" || f == "smi_attach.c" || f == "smi_policy.c") return 0
    return -1
}
{ if (layer($2) < 0) unknown[$2] = 1 }
$1 == "def" { def[$3] = $2; next }
{ use[++n] = $2 " " $3 }
END {
    bad = 0
    for (f in unknown) {
        printf "%s is in no layer: add it to the list in smi_internal.h and here\n", f
        bad = 1
    }
    for (i = 1; i <= n; i++) {
        split(use[i], u, " ")
        f = u[1]; sym = u[2]; to = def[sym]
        if (to != "") {
            if (to != f && layer(to) <= layer(f)) {
                printf "%s (layer %d) calls %s in %s (layer %d): not a lower layer\n",
                       f, layer(f), sym, to, layer(to)
                bad = 1
            } else if (to != f && layer(to) == 2 && sym !~ /_ops$/) {
                printf "%s calls %s in %s: a layout is reached through its ops only\n",
                       f, sym, to
                bad = 1
            }
        } else if (layer(f) != 4 &&
                   sym !~ /^(mem(cpy|cmp|set|move|chr)|str[a-z]*|v?snprintf|malloc|calloc|realloc|free|__stack_chk_fail|__[a-z]+_chk|_GLOBAL_OFFSET_TABLE_)$/) {
            printf "%s calls %s: an operating-system call outside smi_platform_linux.c\n", f, sym
            bad = 1
        }
    }
    if (!bad)
        print "the core calls one way: stream -> layouts -> shared helpers -> platform"
    exit bad
}'
