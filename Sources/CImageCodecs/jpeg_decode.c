// JPEG through libjpeg-turbo's TurboJPEG API.
#include "image_codecs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

int ic_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, ic_image *out, char *message, size_t message_size) {
    memset(out, 0, sizeof(*out));
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        snprintf(message, message_size, "not a JPEG file");
        return IC_NOT_IMAGE;
    }
    tjhandle tj = tjInitDecompress();
    if (!tj) return IC_NO_MEMORY;
    int width = 0, height = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(tj, data, (unsigned long)size, &width, &height, &subsamp, &colorspace) != 0) {
        snprintf(message, message_size, "%s", tjGetErrorStr2(tj));
        tjDestroy(tj);
        return IC_CORRUPT;
    }
    if (width <= 0 || height <= 0 || (uint64_t)width * (uint64_t)height > max_pixels) {
        snprintf(message, message_size, "%dx%d pixels is above the limit of %llu pixels", width, height, (unsigned long long)max_pixels);
        tjDestroy(tj);
        return IC_TOO_LARGE;
    }
    uint8_t *pixels = malloc((size_t)width * height * 4);
    if (!pixels) { tjDestroy(tj); return IC_NO_MEMORY; }
    // Accurate DCT, no fancy-upsampling shortcuts: closest to what PIL (libjpeg) produces.
    // Warnings count too: a truncated file decodes "successfully" with grey rows otherwise.
    if (tjDecompress2(tj, data, (unsigned long)size, pixels, width, 0, height, TJPF_RGBA, TJFLAG_ACCURATEDCT) != 0) {
        snprintf(message, message_size, "%s", tjGetErrorStr2(tj));
        free(pixels);
        tjDestroy(tj);
        return IC_CORRUPT;
    }
    tjDestroy(tj);
    out->width = width;
    out->height = height;
    out->rgba = pixels;
    return IC_OK;
}
