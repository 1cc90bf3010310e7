/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_attach.c -- a client's one attach policy (SharedMemoryImageStream_attach,
 * _refresh, _situationstring): what situation a stream is in (missing, being
 * set up, no server yet, server gone, new server, file replaced, not a stream,
 * unsafe, fatal), whether it is worth waiting for, and when a client must
 * attach again. Built on the public API and the platform file's
 * smi_file_identity(); every face (smi-read,
 * smisrc, the ParaView source) asks it instead of keeping its own rules.
 */
#include "shared_memory_image.h"
#include "smi_platform.h"

#include <string.h>

/* A file whose header is not valid yet but that changed this recently is
   still being set up (a server makes the file, then writes its header). */
#define SMI_SETUP_SECONDS 3.0

/* Did a server ever set this stream up (rather than only create its file)? */
static int smi_served_before(const SharedMemoryStreamInfo *info)
{
    if (info->server_generation > 0 || info->last_sequence > 0)
        return 1;
    for (uint32_t i = 0; i < info->buffer_count && i < IMAGESTREAM_MAX_BUFFERS; i++)
        if (info->buffers[i].width > 0 || info->buffers[i].state != 0)
            return 1;
    return 0;
}

/* The situation of an attached stream from its info (and what the status
   remembers: a server seen once, whose EnSight-layout blocks a client has
   since taken back, was still a server). */
static uint32_t smi_attached_situation(const SharedMemoryStreamInfo *info,
                                       SharedMemoryStreamStatus *status)
{
    status->server_alive = info->server_alive != 0;
    status->layout = info->layout;
    if (info->server_alive || smi_served_before(info))
        status->served = 1;
    if (info->server_alive)
        return IMAGESTREAM_SITUATION_SERVING;
    return status->served ? IMAGESTREAM_SITUATION_SERVER_GONE : IMAGESTREAM_SITUATION_NO_SERVER;
}

/* The situation behind create()'s failure `rc` on `path`. */
static uint32_t smi_failed_situation(const char *path, SharedMemoryImageError rc)
{
    uint64_t device, inode;
    double age = 0.0;
    int exists = smi_file_identity(path, &device, &inode, &age) == 0;
    switch (rc) {
    case IMAGESTREAM_BAD_FILE_SIZE:
        return exists ? IMAGESTREAM_SITUATION_SETTING_UP : IMAGESTREAM_SITUATION_MISSING;
    case IMAGESTREAM_UNABLE_TO_OPEN_FILE:
        /* (a folder not there yet; a folder or no permission at the path is the user's to fix) */
        return exists ? IMAGESTREAM_SITUATION_FATAL : IMAGESTREAM_SITUATION_MISSING;
    case IMAGESTREAM_UNABLE_TO_MAP_FILE:
        return exists ? IMAGESTREAM_SITUATION_SETTING_UP : IMAGESTREAM_SITUATION_MISSING;
    case IMAGESTREAM_BAD_FILE_FORMAT:
    case IMAGESTREAM_VERSION_MISMATCH:
    case IMAGESTREAM_NOT_A_STREAM:
        return exists && age < SMI_SETUP_SECONDS ? IMAGESTREAM_SITUATION_SETTING_UP
                                                 : IMAGESTREAM_SITUATION_NOT_A_STREAM;
    case IMAGESTREAM_UNSAFE_FILE: return IMAGESTREAM_SITUATION_UNSAFE;
    default: return IMAGESTREAM_SITUATION_FATAL;
    }
}

uint32_t SharedMemoryImageStream_attach(const char *filename, uint32_t options,
                                        SharedMemoryImageStream *stream,
                                        SharedMemoryStreamStatus *status)
{
    SharedMemoryStreamStatus none;
    if (!status)
        status = &none;
    memset(status, 0, sizeof *status);
    if (stream)
        *stream = NULL;
    if (!filename || !stream) {
        status->code = IMAGESTREAM_BAD_ARGS;
        return status->situation = IMAGESTREAM_SITUATION_FATAL;
    }
    /* A file no server has set up yet (all zeros, as createfile() makes it
       and pyensight writes it) is not attached to: a client would map it
       for nothing (on a full tmpfs that takes blocks the server needs), and
       a server's setup follows at once. Looked at without changing a byte. */
    SharedMemoryStreamInfo info;
    memset(&info, 0, sizeof info);
    if (SharedMemoryImageStream_inspect(filename, &info) == IMAGESTREAM_NOERROR &&
        info.layout == IMAGESTREAM_LAYOUT_ENSIGHT && !smi_served_before(&info)) {
        status->code = IMAGESTREAM_BAD_FILE_SIZE;
        return status->situation = IMAGESTREAM_SITUATION_NO_SERVER;
    }
    SharedMemoryImageError rc = SharedMemoryImageStream_create(filename, options, stream);
    status->code = rc;
    if (rc < IMAGESTREAM_NOERROR) {
        *stream = NULL;
        return status->situation = smi_failed_situation(filename, rc);
    }
    double age;
    if (smi_file_identity(filename, &status->device, &status->inode, &age) != 0)
        status->device = status->inode = 0; /* removed at once: refresh() says so */
    memset(&info, 0, sizeof info);
    (void)SharedMemoryImageStream_info(*stream, &info);
    return status->situation = smi_attached_situation(&info, status);
}

uint32_t SharedMemoryImageStream_refresh(const char *filename, SharedMemoryImageStream stream,
                                         SharedMemoryStreamStatus *status)
{
    if (!filename || !stream || !status) {
        if (status) {
            status->code = IMAGESTREAM_BAD_ARGS;
            status->situation = IMAGESTREAM_SITUATION_FATAL;
        }
        return IMAGESTREAM_SITUATION_FATAL;
    }
    status->reattach = 0;
    status->code = IMAGESTREAM_NOERROR;
    uint64_t device, inode;
    double age;
    if (smi_file_identity(filename, &device, &inode, &age) != 0) {
        status->code = IMAGESTREAM_BAD_FILE_SIZE;
        status->reattach = 1;
        return status->situation = IMAGESTREAM_SITUATION_MISSING;
    }
    if (device != status->device || inode != status->inode) {
        status->reattach = 1;
        return status->situation = IMAGESTREAM_SITUATION_REPLACED;
    }
    SharedMemoryStreamInfo info;
    SharedMemoryImageError rc = SharedMemoryImageStream_info(stream, &info);
    if (rc < IMAGESTREAM_NOERROR) {
        /* Truncated or garbled under the stream: attach again to see. */
        status->code = rc;
        status->reattach = 1;
        return status->situation = smi_failed_situation(filename, rc);
    }
    uint32_t was_alive = status->server_alive;
    uint32_t situation = smi_attached_situation(&info, status);
    if (status->server_alive && !was_alive) {
        /* An EnSight-layout client attaches again (a fresh create() on the
           blocks the new server set up, as EnSight's own client would); an
           extended-layout client goes on as it is. */
        status->reattach = info.layout == IMAGESTREAM_LAYOUT_ENSIGHT;
        return status->situation = IMAGESTREAM_SITUATION_NEW_SERVER;
    }
    return status->situation = situation;
}

int SharedMemoryImageStream_situationwaits(uint32_t situation)
{
    return situation <= IMAGESTREAM_SITUATION_REPLACED;
}

const char *SharedMemoryImageStream_situationstring(uint32_t situation)
{
    switch (situation) {
#define SMI_SITUATION_CASE(name, text) \
    case IMAGESTREAM_SITUATION_##name: \
        return text;
        SMI_SITUATION_LIST(SMI_SITUATION_CASE)
#undef SMI_SITUATION_CASE
    default: return "unknown situation";
    }
}
