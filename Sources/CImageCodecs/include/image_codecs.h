#pragma once
#include <stddef.h>
#include <stdint.h>

// Decoded image: 8 bits per channel, `channels` interleaved (3 = RGB, 4 = RGBA with alpha 255
// where the file has none), rows top to bottom.
typedef struct {
    int width;
    int height;
    int channels;
    int scale_num, scale_denom;   // the DCT scale a JPEG was decoded at (1/1: full size)
    uint8_t *pixels;   // width * height * channels bytes, free with ic_free
} ic_image;

// Return codes.
enum { IC_OK = 0, IC_NOT_IMAGE = 1, IC_CORRUPT = 2, IC_TOO_LARGE = 3, IC_NO_MEMORY = 4 };

// Dimensions from the header alone (no pixel memory). On failure `message` says why.
int ic_png_header(const uint8_t *data, size_t size, int *width, int *height, char *message, size_t message_size);
int ic_jpeg_header(const uint8_t *data, size_t size, int *width, int *height, char *message, size_t message_size);

// Each decoder checks the pixels it will allocate against max_pixels before allocating.
// PNG always decodes to RGBA. JPEG decodes to `channels` (3 or 4) and, when min_long or
// min_short is positive, at the smallest of libjpeg-turbo's DCT scaling factors whose result
// still has a long side >= min_long and a short side >= min_short. Data that ends early or is
// corrupt is an error (IC_CORRUPT), never a partly grey picture.
int ic_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, ic_image *out, char *message, size_t message_size);
int ic_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, int min_long, int min_short, int channels,
                   ic_image *out, char *message, size_t message_size);
void ic_free(ic_image *image);
