/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_fork.c -- streams do not survive fork(). A child shares its parent's
 * open file descriptions, and with them the kernel byte locks that say a
 * server or a client is alive (Core/LAYOUT.md section 3): a child that
 * outlived a killed client would keep that client's hold on a buffer for as
 * long as it runs. So the library keeps a list of its open streams, and in a
 * child it lets go of each stream's file (descriptor and mapping; the
 * parent's locks stay the parent's) and leaves the stream unusable: its
 * calls fail with IMAGESTREAM_BAD_FILE_SIZE until it is destroyed.
 */
#include "smi_internal.h"
#include "smi_platform.h"

static SharedMemoryImageStream smi_streams; /* newest first, through fork_next;
                                               under the fork lock */

static void smi_fork_child(void)
{
    for (SharedMemoryImageStream s = smi_streams; s; s = s->fork_next) {
        /* A mapping of the file holds its open file description (and so the
           locks) too: put private zero pages in its place, so that pointers
           into it stay valid in the child yet lead nowhere. */
        if (s->base)
            smi_map_forget(s->base, s->map_size);
        smi_file_close(s->fd);
        s->fd = -1;
    }
}

void smi_fork_register(SharedMemoryImageStream s)
{
    smi_fork_watch(smi_fork_child);
    smi_fork_lock();
    s->fork_prev = NULL;
    s->fork_next = smi_streams;
    if (smi_streams)
        smi_streams->fork_prev = s;
    smi_streams = s;
    s->registered = 1;
    smi_fork_unlock();
}

void smi_fork_unregister(SharedMemoryImageStream s)
{
    if (!s->registered)
        return;
    smi_fork_lock();
    if (s->fork_prev)
        s->fork_prev->fork_next = s->fork_next;
    else
        smi_streams = s->fork_next;
    if (s->fork_next)
        s->fork_next->fork_prev = s->fork_prev;
    s->registered = 0;
    smi_fork_unlock();
}
