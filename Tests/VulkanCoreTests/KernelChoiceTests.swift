import XCTest
@testable import VulkanCore

/// `--kernels` beats FASTVLM_KERNELS beats auto; a bad environment value is a clear error.
final class KernelChoiceTests: XCTestCase {
    func testOptionWinsOverEnvironment() throws {
        XCTAssertEqual(try KernelChoice.resolve(.cpu, environment: ["FASTVLM_KERNELS": "gpu"]), .cpu)
        XCTAssertEqual(try KernelChoice.resolve(.gpu, environment: ["FASTVLM_KERNELS": "nonsense"]), .gpu)
    }

    func testEnvironmentThenAuto() throws {
        XCTAssertEqual(try KernelChoice.resolve(nil, environment: ["FASTVLM_KERNELS": "gpu"]), .gpu)
        XCTAssertEqual(try KernelChoice.resolve(nil, environment: ["FASTVLM_KERNELS": "CPU"]), .cpu)
        XCTAssertEqual(try KernelChoice.resolve(nil, environment: ["FASTVLM_KERNELS": ""]), .auto)
        XCTAssertEqual(try KernelChoice.resolve(nil, environment: [:]), .auto)
    }

    func testBadEnvironmentValueNamesTheVariable() {
        XCTAssertThrowsError(try KernelChoice.resolve(nil, environment: ["FASTVLM_KERNELS": "tensor"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("FASTVLM_KERNELS=tensor"), text)
            XCTAssertTrue(text.contains("auto, cpu, gpu"), text)
        }
    }

    func testDeviceKeepsTheChoice() throws {
        XCTAssertEqual(try Device(validation: false, kernels: .gpu).kernels, .gpu)
        setenv("FASTVLM_KERNELS", "cpu", 1)
        defer { unsetenv("FASTVLM_KERNELS") }
        XCTAssertEqual(try Device(validation: false).kernels, .cpu)
        setenv("FASTVLM_KERNELS", "fast", 1)
        XCTAssertThrowsError(try Device(validation: false))
    }
}
