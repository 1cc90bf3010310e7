/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared_memory_image_client.h -- EnSight's client header, by its name: code
 * written for EnSight's client API compiles against it unchanged. The API
 * itself (client, server and this library's extensions) is in
 * shared_memory_image.h.
 */
#ifndef SHARED_MEMORY_IMAGE_CLIENT_H
#define SHARED_MEMORY_IMAGE_CLIENT_H

#include "shared_memory_image.h"

#endif /* SHARED_MEMORY_IMAGE_CLIENT_H */
