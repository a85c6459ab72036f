// PNG through libpng's classic API. libpng reports errors by longjmp, so decoding stays in C.
#include "image_codecs.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *message;
    size_t message_size;
} png_source;

static void read_bytes(png_structp png, png_bytep out, png_size_t count) {
    png_source *src = (png_source *)png_get_io_ptr(png);
    if (src->size - src->offset < count) png_error(png, "file ends early (truncated PNG)");
    memcpy(out, src->data + src->offset, count);
    src->offset += count;
}

static void on_error(png_structp png, png_const_charp text) {
    png_source *src = (png_source *)png_get_error_ptr(png);
    snprintf(src->message, src->message_size, "%s", text);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

static uint32_t big_endian(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

int ic_png_header(const uint8_t *data, size_t size, int *width, int *height, char *message, size_t message_size) {
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(message, message_size, "not a PNG file");
        return IC_NOT_IMAGE;
    }
    // The signature is followed by the IHDR chunk: length 13, "IHDR", width, height.
    if (size < 24 || big_endian(data + 8) != 13 || memcmp(data + 12, "IHDR", 4) != 0) {
        snprintf(message, message_size, "no IHDR chunk after the PNG signature");
        return IC_CORRUPT;
    }
    uint32_t w = big_endian(data + 16), h = big_endian(data + 20);
    if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu) {
        snprintf(message, message_size, "invalid image size %ux%u in the PNG header", w, h);
        return IC_CORRUPT;
    }
    *width = (int)w;
    *height = (int)h;
    return IC_OK;
}

int ic_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, ic_image *out, char *message, size_t message_size) {
    memset(out, 0, sizeof(*out));
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(message, message_size, "not a PNG file");
        return IC_NOT_IMAGE;
    }
    png_source src = {data, size, 0, message, message_size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
    if (!png) return IC_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); return IC_NO_MEMORY; }
    // volatile: these change after setjmp and are read after a longjmp.
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile int status = IC_CORRUPT;
    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return status;
    }
    png_set_read_fn(png, &src, read_bytes);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if ((uint64_t)width * height > max_pixels) {
        snprintf(message, message_size, "%ux%u pixels is above the limit of %llu pixels", width, height, (unsigned long long)max_pixels);
        status = IC_TOO_LARGE;
        png_longjmp(png, 1);
    }
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    // Everything to 8-bit RGBA: 16-bit keeps its high byte (as PIL does), palette and gray
    // expand to RGB, transparency chunks become alpha, otherwise alpha is filled with 255.
    if (depth == 16) png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (!(color & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS)) png_set_filler(png, 0xff, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 4) {
        snprintf(message, message_size, "unsupported PNG pixel layout");
        png_longjmp(png, 1);
    }
    status = IC_NO_MEMORY;
    pixels = malloc((size_t)width * height * 4);
    rows = malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) {
        snprintf(message, message_size, "out of memory for %ux%u pixels", width, height);
        png_longjmp(png, 1);
    }
    status = IC_CORRUPT;
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * width * 4;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = (int)width;
    out->height = (int)height;
    out->channels = 4;
    out->scale_num = 1;
    out->scale_denom = 1;
    out->pixels = pixels;
    return IC_OK;
}

void ic_free(ic_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}
