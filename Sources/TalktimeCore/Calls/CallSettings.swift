import Foundation

/// The knobs of calls and billing, from configuration.
public struct CallSettings: Sendable {
    /// How long a call rings before it is missed.
    public var ringTimeout: Duration = .seconds(30)
    /// How long a room join token may be used to join (reconnects fetch a fresh one).
    public var joinTokenLifetime: Duration = .seconds(300)
    /// How long an empty room lives at the media service.
    public var roomEmptyTimeout: Duration = .seconds(60)
    /// Calls charged per database round trip when many are due at once.
    public var billingBatchSize = 500
    /// How many batches one engine charges at once while full batches keep coming, each in a transaction on a
    /// connection of its own, claimed with `SKIP LOCKED` as separate engines' are. A batch spends much of its time
    /// waiting for the database, so two keep a small server's cores busy: one engine charged 100,000 due calls
    /// about twice as fast with two as with one.
    public var billingConcurrency = 2
    /// The longest the billing engine sleeps between rounds when nothing is due sooner.
    public var billingPollInterval: Duration = .seconds(1)
    /// How long before an increment starts the engine charges it: one poll interval and a second more, so that
    /// with a round at least every poll interval each increment is paid 1 to 2 s (by default) before it begins,
    /// never after.
    public var billingLead: Duration { billingPollInterval + .seconds(1) }
    /// How often an active call's room is checked for participants, to end calls whose room events were lost.
    public var reconcileInterval: Duration = .seconds(60)
    /// How long after a check found a party missing from the room it is looked for again: long enough for an app
    /// to rejoin after a network change, short because nothing is charged meanwhile and the other party waits.
    public var reconcileGrace: Duration = .seconds(20)
    /// How soon a check that failed (the media service did not answer, say) is tried again: a quarter of the
    /// shorter of the interval and the grace (5 s by default), since a held call is charged nothing until it is
    /// looked at, and a party who has gone keeps the other waiting.
    public var reconcileRetry: Duration { min(reconcileInterval, reconcileGrace) / 4 }

    public init() {}
}
