import Foundation
import XCTest

/// What a test needs but cannot find (a built binary, generated data): a skip on a developer's
/// machine, a failure under CI (`CI=true`), where everything is prepared and a skip would hide
/// a broken setup.
public struct MissingPrerequisite: Error, CustomStringConvertible {
    public let description: String

    /// The error to throw for a missing `what`: `XCTSkip` outside CI, this failure under CI.
    public static func error(_ what: String) -> Error {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            return MissingPrerequisite(description: "CI=true and \(what)")
        }
        return XCTSkip(what)
    }
}
