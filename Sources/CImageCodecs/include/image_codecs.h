#pragma once
// Placeholder; the PNG and JPEG decoders are added by the model-files work.
int image_codecs_version(void);
