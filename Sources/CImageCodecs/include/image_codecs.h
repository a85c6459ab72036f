#pragma once
#include <stddef.h>
#include <stdint.h>

// Decoded image: RGBA, 8 bits per channel, rows top to bottom (alpha 255 where the file has none).
typedef struct {
    int width;
    int height;
    uint8_t *rgba;   // width * height * 4 bytes, free with ic_free
} ic_image;

// Return codes.
enum { IC_OK = 0, IC_NOT_IMAGE = 1, IC_CORRUPT = 2, IC_TOO_LARGE = 3, IC_NO_MEMORY = 4 };

// Each decoder checks the header's dimensions against max_pixels before allocating.
// On failure `message` (capacity message_size) says why.
int ic_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, ic_image *out, char *message, size_t message_size);
int ic_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, ic_image *out, char *message, size_t message_size);
void ic_free(ic_image *image);
