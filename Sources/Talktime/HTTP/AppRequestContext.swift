import Hummingbird

/// The request context of every Talktime route.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by `RequestIDMiddleware` before anything else runs.
    var requestID: String = ""

    init(source: Source) {
        coreContext = .init(source: source)
    }
}
