/// Why a verified webhook body could not be read as an event Talktime acts on.
public struct StripeEventDecodingError: Error, CustomStringConvertible {
    public let description: String
}
