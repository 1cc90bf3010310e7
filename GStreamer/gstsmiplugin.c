/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gstsmiplugin.c -- the GStreamer plugin "smi": registers smisrc (read a
 * shared-memory image stream) and smisink (publish into one).
 */
#include <gst/gst.h>

#include "gstsmisink.h"
#include "gstsmisrc.h"

/* Register both elements. */
static gboolean plugin_init(GstPlugin *plugin)
{
    return gst_element_register(plugin, "smisrc", GST_RANK_NONE, GST_TYPE_SMI_SRC) &&
           gst_element_register(plugin, "smisink", GST_RANK_NONE, GST_TYPE_SMI_SINK);
}

/* GStreamer's macro leaves the descriptor's padding to zero-initialization. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, smi,
                  "SharedMemoryImage streams: smisrc reads one, smisink publishes into one",
                  plugin_init, SMI_GST_VERSION, "BSD", "SharedMemoryImage",
                  "Unknown package origin")
