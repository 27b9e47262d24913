import Hummingbird

/// The request context of every Talktime route.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by `RequestIDMiddleware` before anything else runs.
    var requestID: String = ""
    /// The TCP peer's address; a proxy's, when one stands in front.
    let peerAddress: String?
    /// The client's address as rate limits count it (see `ClientAddressResolver`); set before the handler runs.
    var clientAddress: String = "unknown"

    init(source: Source) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }
}
