// JPEG through libjpeg-turbo's TurboJPEG API.
#include "image_codecs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static int is_jpeg(const uint8_t *data, size_t size) {
    return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

int ic_jpeg_header(const uint8_t *data, size_t size, int *width, int *height, char *message, size_t message_size) {
    if (!is_jpeg(data, size)) {
        snprintf(message, message_size, "not a JPEG file");
        return IC_NOT_IMAGE;
    }
    tjhandle tj = tjInitDecompress();
    if (!tj) return IC_NO_MEMORY;
    int subsamp = 0, colorspace = 0, status = IC_OK;
    if (tjDecompressHeader3(tj, data, (unsigned long)size, width, height, &subsamp, &colorspace) != 0) {
        snprintf(message, message_size, "%s", tjGetErrorStr2(tj));
        status = IC_CORRUPT;
    }
    tjDestroy(tj);
    return status;
}

// The smallest scaling factor (num/denom <= 1) that keeps the long and short sides at or above
// the minimums; 1/1 when none is asked for or none qualifies.
static tjscalingfactor reduced_scale(int width, int height, int min_long, int min_short) {
    tjscalingfactor best = {1, 1};
    if (min_long <= 0 && min_short <= 0) return best;
    int count = 0;
    tjscalingfactor *factors = tjGetScalingFactors(&count);
    for (int i = 0; factors && i < count; i++) {
        tjscalingfactor f = factors[i];
        if (f.num >= f.denom) continue;
        int w = TJSCALED(width, f), h = TJSCALED(height, f);
        int lo = w < h ? w : h, hi = w < h ? h : w;
        if (hi < min_long || lo < min_short) continue;
        if ((int64_t)f.num * best.denom < (int64_t)best.num * f.denom) best = f;
    }
    return best;
}

int ic_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, int min_long, int min_short, int channels,
                   ic_image *out, char *message, size_t message_size) {
    memset(out, 0, sizeof(*out));
    int width = 0, height = 0;
    int status = ic_jpeg_header(data, size, &width, &height, message, message_size);
    if (status != IC_OK) return status;
    if (channels != 3 && channels != 4) {
        snprintf(message, message_size, "unsupported channel count %d", channels);
        return IC_CORRUPT;
    }
    tjscalingfactor scale = reduced_scale(width, height, min_long, min_short);
    int w = TJSCALED(width, scale), h = TJSCALED(height, scale);
    if (w <= 0 || h <= 0 || (uint64_t)w * (uint64_t)h > max_pixels) {
        snprintf(message, message_size, "%dx%d pixels is above the limit of %llu pixels", w, h, (unsigned long long)max_pixels);
        return IC_TOO_LARGE;
    }
    tjhandle tj = tjInitDecompress();
    if (!tj) return IC_NO_MEMORY;
    uint8_t *pixels = malloc((size_t)w * h * channels);
    if (!pixels) { tjDestroy(tj); return IC_NO_MEMORY; }
    // Accurate DCT: closest to what PIL (libjpeg) produces. TurboJPEG returns -1 for warnings
    // too (TJERR_WARNING): a file that ends early decodes "successfully" with grey rows in
    // libjpeg, so a warning is an error here, as in Pillow.
    if (tjDecompress2(tj, data, (unsigned long)size, pixels, w, 0, h, channels == 3 ? TJPF_RGB : TJPF_RGBA, TJFLAG_ACCURATEDCT) != 0) {
        snprintf(message, message_size, "%s%s", tjGetErrorCode(tj) == TJERR_WARNING ? "damaged or truncated data: " : "", tjGetErrorStr2(tj));
        free(pixels);
        tjDestroy(tj);
        return IC_CORRUPT;
    }
    tjDestroy(tj);
    out->width = w;
    out->height = h;
    out->channels = channels;
    out->scale_num = scale.num;
    out->scale_denom = scale.denom;
    out->pixels = pixels;
    return IC_OK;
}
