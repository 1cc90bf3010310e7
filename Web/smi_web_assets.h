/* SPDX-License-Identifier: BSD-3-Clause */
/* smi_web_assets.h -- the page's files (Web/www/), compiled into smi-web by embed.cmake. */
#ifndef SMI_WEB_ASSETS_H
#define SMI_WEB_ASSETS_H

#include <stddef.h>

/** One embedded file: its name (served as "/" + name), MIME type and bytes. */
typedef struct SmiWebAsset {
    const char *name;
    const char *type;
    const unsigned char *data;
    size_t size;
} SmiWebAsset;

/** Every embedded file, ended by an entry whose name is NULL. */
extern const SmiWebAsset smi_web_assets[];

#endif /* SMI_WEB_ASSETS_H */
