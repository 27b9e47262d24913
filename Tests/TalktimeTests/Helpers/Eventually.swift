import Testing

/// Waits (in real time, up to `limit`: generous for a busy machine) until `condition` holds, for what the service
/// does on its own: the billing engine, the push sender, notifications between servers.
func eventually(_ what: String, within limit: Duration = .seconds(15), _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting until \(what)")
    throw CancellationError()
}
