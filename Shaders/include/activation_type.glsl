// Activation storage: fp32, or fp16 with ACT_F16 (needs storageBuffer16BitAccess). Arithmetic
// is always fp32: load with float()/vec4(), store with OUT_T()/ACT_VEC4().
// ACT_T / ACT_VEC*: the storage of X (what a kernel reads); OUT_T: of Y and its residual (what
// it writes). They agree unless a kernel with separate X and Y asks otherwise under ACT_F16:
// IN_F32 keeps X fp32, OUT_F32 keeps Y fp32. That is how the decoder keeps its residual stream
// fp32 beside fp16 rows (the norms and projections reading it, the o_proj / down_proj adding
// into it), and how the LM head writes fp32 logits.
#ifdef ACT_F16
#extension GL_EXT_shader_16bit_storage : require
#endif
#if defined(ACT_F16) && !defined(IN_F32)
#define ACT_T float16_t
#define ACT_VEC2 f16vec2
#define ACT_VEC4 f16vec4
#else
#define ACT_T float
#define ACT_VEC2 vec2
#define ACT_VEC4 vec4
#endif
#if defined(ACT_F16) && !defined(OUT_F32)
#define OUT_T float16_t
#else
#define OUT_T float
#endif
