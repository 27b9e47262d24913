import Testing

@testable import TalktimeCore

/// The gate background services wait on: everyone waiting, and everyone after, goes through once it opens;
/// a cancelled waiter stops waiting at once.
@Suite struct StartSignalTests {
    @Test func openingReleasesEveryWaiterAndLaterOnesPassAtOnce() async throws {
        let signal = StartSignal()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { try await signal.wait() } }
            try await Task.sleep(for: .milliseconds(20))
            signal.open()
            try await group.waitForAll()
        }
        try await signal.wait()
    }

    @Test func aCancelledWaiterThrowsAndTheSignalStaysUsable() async throws {
        let signal = StartSignal()
        let waiter = Task { try await signal.wait() }
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        let cancelledFirst = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await signal.wait()
        }
        await #expect(throws: CancellationError.self) { try await cancelledFirst.value }
        signal.open()
        try await signal.wait()
    }
}
