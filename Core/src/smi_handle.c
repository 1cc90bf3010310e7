/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_handle.c -- what both layouts need of a stream handle: is the file
 * still whole, map it for a client, the default frame description, and the
 * server's frame numbering after a takeover. Depends on the platform layer
 * only (smi_stream.c and the layouts call it, it calls none of them).
 */
#include "smi_internal.h"
#include "smi_platform.h"

/* A file truncated under its mapping turns every access past its new end
   into SIGBUS. Calls run under the library's SIGBUS guard (smi_stream.c,
   smi_on_mapping) and need no size check; this one (one fstat) serves where
   the guard is another copy's, and the few places that want the file's
   size itself (destroy, info, a wait that slept, a descriptor copy). */
int smi_file_intact(SharedMemoryImageStream s)
{
    int64_t size = smi_file_size(s->fd);
    return size >= 0 && (uint64_t)size >= s->map_size ? IMAGESTREAM_NOERROR
                                                       : IMAGESTREAM_BAD_FILE_SIZE;
}

/* The mapping changed (or is gone): the layout geometry taken for the old
   one is forgotten, so that nothing is addressed through it until the
   layout has validated the file against the new mapping. */
static void smi_forget_geometry(SharedMemoryImageStream s)
{
    s->buffer_count = 0;
    s->buffer_size = 0;
    s->file_size = 0;
    s->es_payload = 0;
}

void smi_unmap_stream(SharedMemoryImageStream s)
{
    smi_unmap(s->base, s->map_reserve > s->map_size ? s->map_reserve : s->map_size);
    s->base = NULL;
    s->page = NULL;
    s->map_size = 0;
    s->map_reserve = 0;
    smi_forget_geometry(s);
}

int smi_span_mapped(SharedMemoryImageStream s, const uint8_t *p, uint64_t bytes)
{
    if (!s->base || p < s->base)
        return 0;
    uint64_t at = (uint64_t)(p - s->base);
    return at <= s->map_size && bytes <= s->map_size - at;
}

/* Address space a client holds for a file of `size` bytes: room for it to
   grow to four times that (a stream made for two buffers growing to eight),
   or just the file when that would be absurd. */
static uint64_t smi_client_reserve(uint64_t size)
{
    uint64_t r;
    if (__builtin_mul_overflow(size, (uint64_t)4, &r) || r > ((uint64_t)1 << 46))
        return size;
    return r;
}

/* Map the whole file read-only; the layout code then makes its header
   pages writable, and validates the file against the new mapping: the
   geometry taken for the old one is forgotten here, whether the new mapping
   could be made or not. A file that grew within the address space already held
   is mapped on in place: the pages mapped before keep their page tables
   (a new mapping would fault every page of every buffer in again, at every
   client). Returns a code. */
int smi_map_client(SharedMemoryImageStream s)
{
    int64_t size = smi_file_size(s->fd);
    if (size < (int64_t)SMI_ENSIGHT_MIN_FILE)
        return IMAGESTREAM_BAD_FILE_SIZE;
    if (s->base && (uint64_t)size > s->map_size && (uint64_t)size <= s->map_reserve &&
        smi_map_extend(s->fd, s->base, s->map_size, (uint64_t)size) == 0) {
        s->map_size = (uint64_t)size;
        smi_forget_geometry(s);
        return IMAGESTREAM_NOERROR;
    }
    smi_unmap_stream(s);
    uint64_t reserve = smi_client_reserve((uint64_t)size);
    s->base = smi_map_reserved(s->fd, (uint64_t)size, reserve);
    if (!s->base && reserve > (uint64_t)size) /* (no room for the reserve: the file alone) */
        s->base = smi_map_reserved(s->fd, (uint64_t)size, reserve = (uint64_t)size);
    s->map_size = s->base ? (uint64_t)size : 0;
    s->map_reserve = s->base ? reserve : 0;
    s->page = (smi_ext_page_t *)s->base;
    return s->base ? IMAGESTREAM_NOERROR : IMAGESTREAM_UNABLE_TO_MAP_FILE;
}

void smi_fill_default_desc(SharedMemoryImageDesc *d, uint32_t w, uint32_t h)
{
    memset(d, 0, sizeof *d);
    d->size = sizeof *d;
    d->format = IMAGESTREAM_FORMAT_RGB8;
    d->width = w;
    d->height = h;
    d->depth = 1;
    d->spacing[0] = d->spacing[1] = d->spacing[2] = 1.0;
}

/* A server took over a file that holds frames, the newest numbered
   `last_frame`: from now on its numbers are raised when they would not be
   above the last one, so that clients never see numbers go backwards. */
void smi_take_over_numbers(SharedMemoryImageStream s, uint32_t last_frame)
{
    if (!s->numbered || last_frame > s->last_frame)
        s->last_frame = last_frame;
    s->numbered = 1;
    s->renumber = 1;
}

uint8_t *smi_staging(SharedMemoryImageStream s, uint64_t bytes)
{
    if (s->staging_size < bytes) {
        free(s->staging);
        s->staging_size = 0;
        s->staging = bytes <= SIZE_MAX ? malloc((size_t)bytes) : NULL;
        if (s->staging)
            s->staging_size = bytes;
    }
    return s->staging;
}

int smi_in_staging(SharedMemoryImageStream s, const uint8_t *p, uint64_t bytes)
{
    if (!s->staging || p < s->staging)
        return 0;
    uint64_t at = (uint64_t)(p - s->staging);
    return at <= s->staging_size && bytes <= s->staging_size - at;
}
