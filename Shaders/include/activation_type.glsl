// Activation storage: fp32, or fp16 with ACT_F16 (needs storageBuffer16BitAccess). Arithmetic
// is always fp32: load with float()/vec4(), store with ACT_T()/ACT_VEC4().
#ifdef ACT_F16
#extension GL_EXT_shader_16bit_storage : require
#define ACT_T float16_t
#define ACT_VEC2 f16vec2
#define ACT_VEC4 f16vec4
#else
#define ACT_T float
#define ACT_VEC2 vec2
#define ACT_VEC4 vec4
#endif
