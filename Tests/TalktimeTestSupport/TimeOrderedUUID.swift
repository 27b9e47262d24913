import Foundation

extension UUID {
    /// The Unix time in milliseconds a version 7 id was made at (its first 48 bits), or nil for another version
    /// or variant.
    public var version7Milliseconds: UInt64? {
        guard uuid.6 >> 4 == 7, uuid.8 >> 6 == 0b10 else { return nil }
        return withUnsafeBytes(of: uuid) { $0.prefix(6).reduce(0) { $0 << 8 | UInt64($1) } }
    }
}
