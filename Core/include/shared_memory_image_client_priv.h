/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared_memory_image_client_priv.h -- EnSight's server header, by its name:
 * code written for EnSight's server API (server options, putframe,
 * BufferHeader) compiles against it unchanged. The API itself is in
 * shared_memory_image.h; this header adds the system headers EnSight's
 * includes.
 */
#ifndef SHARED_MEMORY_IMAGE_CLIENT_PRIV_H
#define SHARED_MEMORY_IMAGE_CLIENT_PRIV_H

/* The system headers EnSight's server header includes, so that code written
   against it compiles unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif

#include "shared_memory_image.h"

#endif /* SHARED_MEMORY_IMAGE_CLIENT_PRIV_H */
