/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_errors.c -- one table gives every return code its string, so the codes
 * and their descriptions cannot drift apart.
 */
#include "shared_memory_image_client_priv.h"

#define SMI_ERROR_MAP(XX)                                                                  \
    XX(FORMAT_SKIPPED, "a new frame was skipped: its pixel format is not packed RGB "      \
                       "(create the client with IMAGESTREAM_OPTIONS_ANYFORMAT to get it)") \
    XX(UNCONNECTED, "no client is attached to the stream")                                 \
    XX(RECONNECTING, "the stream was already active and has been taken over")              \
    XX(NO_FRAMEAVAILABLE, "no new frame is available")                                     \
    XX(NO_BUFFERAVAILABLE, "no free buffer: clients hold every buffer, frame dropped")     \
    XX(NOERROR, "success")                                                                 \
    XX(BAD_ARGS, "invalid argument (NULL pointer, zero size or unknown option)")           \
    XX(NOT_LOCKED, "no frame is locked (or acquired)")                                     \
    XX(BAD_FILE_SIZE, "stream file is missing or too small")                               \
    XX(UNABLE_TO_OPEN_FILE, "cannot open the stream file for reading and writing")         \
    XX(UNABLE_TO_MAP_FILE, "cannot memory-map the stream file")                            \
    XX(MEMORY_ALLOC_ERROR, "out of memory")                                                \
    XX(THREAD_CREATE_ERROR, "cannot create a background thread")                           \
    XX(IS_SERVER, "call not valid on a server stream")                                     \
    XX(IS_NOTSERVER, "call not valid on a client stream")                                  \
    XX(FRAME_TOO_LARGE, "frame is larger than the stream file's buffers")                  \
    XX(LOCKED, "not allowed while a frame is locked (or acquired)")                        \
    XX(BAD_FILE_FORMAT, "stream file has an invalid header (not a stream, or corrupted)")  \
    XX(VERSION_MISMATCH, "stream file uses an unsupported layout version "                 \
                         "(this library reads extended layout version 1)")                 \
    XX(SERVER_ACTIVE, "another live server is already publishing to this stream file")     \
    XX(TOO_MANY_CLIENTS, "every client slot of the stream is in use")                      \
    XX(BAD_FORMAT, "pixel format, depth or size not supported by this stream's layout")   \
    XX(UNSAFE_FILE, "the stream file is a symbolic link, not a regular file, owned by "     \
                    "another user, or writable by group or others")                         \
    XX(NO_SPACE, "not enough space on the file system for the stream file")

const char *SharedMemoryImageStream_errorstring(SharedMemoryImageError err)
{
    switch (err) {
#define SMI_ERROR_CASE(name, msg) \
    case IMAGESTREAM_##name:      \
        return msg;
        SMI_ERROR_MAP(SMI_ERROR_CASE)
#undef SMI_ERROR_CASE
    default:
        return "unknown error code";
    }
}
