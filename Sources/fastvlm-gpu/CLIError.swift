/// A run-time problem with what the user asked for. ArgumentParser prints it as
/// `Error: <message>` and exits with status 1, without the usage text a `ValidationError`
/// thrown from `run()` would add (which names the root command, not the one that failed).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
