import Foundation

/// A reproducible random number generator (SplitMix64) for randomized tests, which print their seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// The seed to replay from `TALKTIME_TEST_SEED`, or a fresh one.
    public static func seed(named test: String) -> UInt64 {
        let seed = ProcessInfo.processInfo.environment["TALKTIME_TEST_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        print("\(test): seed \(seed) (replay with TALKTIME_TEST_SEED=\(seed))")
        return seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
