import Foundation
import NIOHTTP1
import Testing

@testable import TalktimeIntegrations

/// `Retry-After` as outside services send it: seconds, an HTTP date, or something unreadable.
@Suite struct RetryAfterHeaderTests {
    let now = Date(timeIntervalSince1970: 1_764_547_200)  // Mon, 01 Dec 2025 00:00:00 GMT

    @Test func readsSecondsAndHTTPDatesAsAWaitFromNow() {
        #expect(RetryAfterHeader.wait(in: ["Retry-After": "7"], now: now) == .seconds(7))
        #expect(RetryAfterHeader.wait(in: ["Retry-After": " 0 "], now: now) == .seconds(0))
        #expect(RetryAfterHeader.wait(in: ["Retry-After": "Mon, 01 Dec 2025 00:00:30 GMT"], now: now) == .seconds(30))
    }

    @Test func neverWaitsBackwardsAndIgnoresWhatItCannotRead() {
        #expect(RetryAfterHeader.wait(in: ["Retry-After": "-5"], now: now) == .seconds(0))
        #expect(RetryAfterHeader.wait(in: ["Retry-After": "Sun, 30 Nov 2025 23:59:00 GMT"], now: now) == .seconds(0))
        #expect(RetryAfterHeader.wait(in: ["Retry-After": "soon"], now: now) == nil)
        #expect(RetryAfterHeader.wait(in: [:], now: now) == nil)
    }
}
