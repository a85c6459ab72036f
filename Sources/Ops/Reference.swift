/// CPU reference implementations of every op, in fp32 and PyTorch layouts (CHW activations,
/// OIHW convolution weights, [out][in] linear weights). They are the yardstick for the GPU
/// kernels and the building blocks of the CPU reference model; each op's reference lives
/// beside its GPU op as `<Op>/<Op>Reference.swift`.
public enum Reference {}
