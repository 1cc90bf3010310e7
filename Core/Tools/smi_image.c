/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_image.c -- PNG (libpng) and Netpbm files for the tools (see
 * smi_image.h).
 */
#include "smi_image.h"

#include <ctype.h>
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "shared_memory_image.h" /* IMAGESTREAM_FORMAT_* */
#include "smi_format.h"

/* ---- Files ---------------------------------------------------------------- */

static void smi_image_errno(char *err, size_t errsize, const char *what, const char *path)
{
    if (err != NULL && errsize > 0)
        snprintf(err, errsize, "%s %s: %s", what, path, strerror(errno));
}

/* Close f; on any earlier or final error, remove the file. Returns 0 or -1. */
static int smi_image_finish(FILE *f, int failed, const char *path, char *err, size_t errsize)
{
    if (ferror(f) && !failed) {
        failed = 1;
        if (errno == 0)
            errno = EIO;
        smi_image_errno(err, errsize, "cannot write", path);
    }
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        smi_image_errno(err, errsize, "cannot write", path);
    }
    if (failed)
        unlink(path);
    return failed ? -1 : 0;
}

/* ---- Netpbm --------------------------------------------------------------- */

/* Binary PPM (P6, maxval 255) of RGB8 rows. */
static int smi_image_write_ppm(const char *path, uint32_t width, uint32_t height,
                               const uint8_t *rgb, size_t stride, char *err, size_t errsize)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        smi_image_errno(err, errsize, "cannot create", path);
        return -1;
    }
    int failed = 0;
    errno = 0;
    if (fprintf(f, "P6\n%u %u\n255\n", width, height) < 0)
        failed = 1;
    for (uint32_t y = 0; y < height && !failed; y++)
        if (fwrite(rgb + (size_t)y * stride, 3, width, f) != width)
            failed = 1;
    if (failed)
        smi_image_errno(err, errsize, "cannot write", path);
    return smi_image_finish(f, failed, path, err, errsize);
}

/* Netpbm P5 (gray) with maxval 255 (one byte) or 65535 (two bytes, big-endian). */
static int smi_image_write_pgm(const char *path, uint32_t width, uint32_t height,
                               uint32_t bytes_per_sample, const uint8_t *pixels, size_t stride,
                               char *err, size_t errsize)
{
    uint8_t *row = malloc((size_t)width * bytes_per_sample);
    if (row == NULL) {
        snprintf(err, errsize, "out of memory writing %s", path);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        smi_image_errno(err, errsize, "cannot create", path);
        free(row);
        return -1;
    }
    int failed = 0;
    errno = 0;
    if (fprintf(f, "P5\n%u %u\n%u\n", width, height, bytes_per_sample == 2 ? 65535u : 255u) < 0)
        failed = 1;
    for (uint32_t y = 0; y < height && !failed; y++) {
        const uint8_t *src = pixels + (size_t)y * stride;
        if (bytes_per_sample == 2) {
            for (uint32_t x = 0; x < width; x++) {
                row[2 * x] = src[2 * x + 1];
                row[2 * x + 1] = src[2 * x];
            }
        } else {
            memcpy(row, src, width);
        }
        if (fwrite(row, bytes_per_sample, width, f) != width)
            failed = 1;
    }
    free(row);
    if (failed)
        smi_image_errno(err, errsize, "cannot write", path);
    return smi_image_finish(f, failed, path, err, errsize);
}

/* RGBA8 as a PPM: PPM has no alpha, so it is dropped. */
static int smi_image_write_ppm_from_rgba(const char *path, uint32_t width, uint32_t height,
                                         const uint8_t *rgba, size_t stride, char *err,
                                         size_t errsize)
{
    size_t row_bytes = (size_t)width * 3;
    uint8_t *rgb = malloc(row_bytes * height);
    if (rgb == NULL) {
        snprintf(err, errsize, "out of memory writing %s", path);
        return -1;
    }
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++)
            memcpy(rgb + (size_t)y * row_bytes + 3 * (size_t)x,
                   rgba + (size_t)y * stride + 4 * (size_t)x, 3);
    int rc = smi_image_write_ppm(path, width, height, rgb, row_bytes, err, errsize);
    free(rgb);
    return rc;
}

/* ---- PNG (libpng) ----------------------------------------------------------- */

/* What the libpng callbacks report back: the first failure, for the message. */
typedef struct smi_png_io_t {
    FILE *f;
    int write_errno;      /* errno of a failed fwrite/fflush, 0 if none */
    char message[128];    /* libpng's own error message */
} smi_png_io_t;

static void smi_png_on_error(png_structp png, png_const_charp message)
{
    smi_png_io_t *io = png_get_error_ptr(png);
    if (io->message[0] == '\0')
        snprintf(io->message, sizeof io->message, "%s", message);
    png_longjmp(png, 1);
}

static void smi_png_on_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message; /* nothing the user can act on */
}

static void smi_png_write_data(png_structp png, png_bytep data, size_t size)
{
    smi_png_io_t *io = png_get_io_ptr(png);
    errno = 0;
    if (fwrite(data, 1, size, io->f) != size) {
        io->write_errno = errno != 0 ? errno : EIO;
        png_error(png, "write failed");
    }
}

static void smi_png_flush(png_structp png)
{
    smi_png_io_t *io = png_get_io_ptr(png);
    errno = 0;
    if (fflush(io->f) != 0) {
        io->write_errno = errno != 0 ? errno : EIO;
        png_error(png, "write failed");
    }
}

/* The image rows, top first; 16-bit samples little-endian (png_set_swap
   makes them big-endian in the file). */
typedef struct smi_png_image_t {
    uint32_t width, height;
    int color_type, bit_depth;
    const uint8_t *pixels;
    size_t stride;
} smi_png_image_t;

static void smi_png_write_rows(png_structp png, const smi_png_image_t *image)
{
    for (uint32_t y = 0; y < image->height; y++)
        png_write_row(png, image->pixels + (size_t)y * image->stride);
}

/* Everything that may longjmp, in one frame that keeps no state across it.
   Returns 0, or -1 after a libpng error. */
static int smi_png_encode(png_structp png, png_infop info, const smi_png_image_t *image)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_set_IHDR(png, info, image->width, image->height, image->bit_depth, image->color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* Filter None on every row: the image data is the pixels, row by row
       (zlib still compresses it). */
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_write_info(png, info);
    if (image->bit_depth == 16)
        png_set_swap(png); /* the frame is little-endian, PNG big-endian */
    smi_png_write_rows(png, image);
    png_write_end(png, NULL);
    return 0;
}

/* Write `image` as a PNG file at `path`. */
static int smi_image_write_png(const char *path, const smi_png_image_t *image, char *err,
                               size_t errsize)
{
    smi_png_io_t io;
    memset(&io, 0, sizeof io);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, smi_png_on_error,
                                              smi_png_on_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        snprintf(err, errsize, "out of memory writing %s", path);
        return -1;
    }
    io.f = fopen(path, "wb");
    if (io.f == NULL) {
        png_destroy_write_struct(&png, &info);
        smi_image_errno(err, errsize, "cannot create", path);
        return -1;
    }
    png_set_write_fn(png, &io, smi_png_write_data, smi_png_flush);
    int failed = smi_png_encode(png, info, image) != 0;
    png_destroy_write_struct(&png, &info);
    if (failed) {
        if (io.write_errno != 0) {
            errno = io.write_errno;
            smi_image_errno(err, errsize, "cannot write", path);
        } else {
            snprintf(err, errsize, "cannot write %s: libpng: %s", path, io.message);
        }
    }
    errno = 0;
    return smi_image_finish(io.f, failed, path, err, errsize);
}

/* ---- Any format ------------------------------------------------------------- */

static int smi_image_is_png(const char *path)
{
    size_t len = strlen(path);
    return len >= 4 && strcasecmp(path + len - 4, ".png") == 0;
}

/* A frame of `format` as a PNG: its colour type and bit depth. */
static int smi_image_save_png(const char *path, uint32_t format, uint32_t width,
                              uint32_t height, const uint8_t *pixels, size_t stride, char *err,
                              size_t errsize)
{
    smi_png_image_t image = {width, height, 0, 8, pixels, stride};
    switch (format) {
    case IMAGESTREAM_FORMAT_RGB8: image.color_type = PNG_COLOR_TYPE_RGB; break;
    case IMAGESTREAM_FORMAT_RGBA8: image.color_type = PNG_COLOR_TYPE_RGB_ALPHA; break;
    case IMAGESTREAM_FORMAT_GRAY8: image.color_type = PNG_COLOR_TYPE_GRAY; break;
    case IMAGESTREAM_FORMAT_GRAY16:
        image.color_type = PNG_COLOR_TYPE_GRAY;
        image.bit_depth = 16;
        break;
    default: return 1; /* not representable: the caller says so */
    }
    return smi_image_write_png(path, &image, err, errsize);
}

/* A frame of `format` as binary Netpbm. Returns 1 for a format it cannot hold. */
static int smi_image_save_pnm(const char *path, uint32_t format, uint32_t width,
                              uint32_t height, const uint8_t *pixels, size_t stride, char *err,
                              size_t errsize)
{
    switch (format) {
    case IMAGESTREAM_FORMAT_RGB8:
        return smi_image_write_ppm(path, width, height, pixels, stride, err, errsize);
    case IMAGESTREAM_FORMAT_RGBA8:
        return smi_image_write_ppm_from_rgba(path, width, height, pixels, stride, err, errsize);
    case IMAGESTREAM_FORMAT_GRAY8:
        return smi_image_write_pgm(path, width, height, 1, pixels, stride, err, errsize);
    case IMAGESTREAM_FORMAT_GRAY16:
        return smi_image_write_pgm(path, width, height, 2, pixels, stride, err, errsize);
    default: return 1;
    }
}

int smi_image_save(const char *path, uint32_t format, uint32_t width, uint32_t height,
                   const void *pixels, size_t stride, char *err, size_t errsize)
{
    int rc = smi_image_is_png(path)
                 ? smi_image_save_png(path, format, width, height, pixels, stride, err, errsize)
                 : smi_image_save_pnm(path, format, width, height, pixels, stride, err, errsize);
    if (rc > 0) {
        snprintf(err, errsize, "cannot save a %s frame as an image file (%s)",
                 smi_tool_format_name(format), path);
        return -1;
    }
    return rc;
}

/* ---- Reading a PPM ---------------------------------------------------------- */

/* Next header token of a Netpbm file: skips whitespace and '#' comments.
   Returns the unsigned value, or -1 on a malformed header. */
static long smi_ppm_number(FILE *f)
{
    int c = fgetc(f);
    for (;;) {
        while (c != EOF && isspace(c))
            c = fgetc(f);
        if (c != '#')
            break;
        while (c != EOF && c != '\n')
            c = fgetc(f);
    }
    if (c == EOF || !isdigit(c))
        return -1;
    long v = 0;
    while (c != EOF && isdigit(c)) {
        v = v * 10 + (c - '0');
        if (v > 0x7FFFFFFFL)
            return -1;
        c = fgetc(f);
    }
    /* Exactly one whitespace byte ends the token (the last one before pixels). */
    if (c == EOF || !isspace(c))
        return -1;
    return v;
}

int smi_image_read_ppm(const char *path, uint32_t *width, uint32_t *height, uint8_t **rgb,
                       char *err, size_t errsize)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        smi_image_errno(err, errsize, "cannot open", path);
        return -1;
    }
    char magic[2];
    long w = -1, h = -1, maxval = -1;
    if (fread(magic, 1, 2, f) == 2 && magic[0] == 'P' && magic[1] == '6') {
        w = smi_ppm_number(f);
        if (w > 0)
            h = smi_ppm_number(f);
        if (h > 0)
            maxval = smi_ppm_number(f);
    }
    if (w < 1 || h < 1 || maxval != 255 || w > 65536 || h > 65536) {
        snprintf(err, errsize, "%s is not a binary PPM (P6) with maxval 255 and a valid size",
                 path);
        fclose(f);
        return -1;
    }
    size_t size = (size_t)w * (size_t)h * 3;
    uint8_t *pixels = malloc(size);
    if (pixels == NULL) {
        snprintf(err, errsize, "out of memory reading %s", path);
        fclose(f);
        return -1;
    }
    if (fread(pixels, 1, size, f) != size) {
        if (ferror(f))
            smi_image_errno(err, errsize, "cannot read", path);
        else
            snprintf(err, errsize, "%s is truncated (%ldx%ld needs %zu bytes of pixels)", path,
                     w, h, size);
        free(pixels);
        fclose(f);
        return -1;
    }
    fclose(f);
    *width = (uint32_t)w;
    *height = (uint32_t)h;
    *rgb = pixels;
    return 0;
}
