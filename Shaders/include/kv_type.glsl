// KV-cache storage: fp32, or fp16 with KV_F16 (half the bytes; needs storageBuffer16BitAccess).
// Scores, softmax and accumulators stay fp32: load with vec4(), store with KV_T().
#ifdef KV_F16
#extension GL_EXT_shader_16bit_storage : require
#define KV_T float16_t
#define KV_VEC4 f16vec4
#else
#define KV_T float
#define KV_VEC4 vec4
#endif
