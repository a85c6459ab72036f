import Foundation

/// Which family of kernel variants to run, as asked on the command line (`--kernels`) or in
/// `FASTVLM_KERNELS`: `auto` takes the family the device's type calls for (Ops' KernelPolicy
/// decides); `cpu` and `gpu` force one, so the GPU-class kernels can run on lavapipe too.
public enum KernelChoice: String, CaseIterable, Sendable, Codable {
    case auto, cpu, gpu

    public static let environmentVariable = "FASTVLM_KERNELS"

    /// The option if given, else the environment variable, else `auto`; a bad value in the
    /// environment is an error naming the variable (a bad option is rejected by the parser).
    public static func resolve(_ option: KernelChoice?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KernelChoice {
        if let option { return option }
        guard let raw = environment[environmentVariable], !raw.isEmpty else { return .auto }
        guard let choice = KernelChoice(rawValue: raw.lowercased()) else {
            throw VulkanError.invalidArgument("\(environmentVariable)=\(raw): expected one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return choice
    }
}
