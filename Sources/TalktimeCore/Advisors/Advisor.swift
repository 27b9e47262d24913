import Foundation

/// An Advisor as End Users see them.
public struct Advisor: Sendable, Equatable {
    public enum Presence: String, Sendable, Codable {
        case available, busy, offline

        /// Listing order: available first, then busy, then offline.
        var rank: Int {
            switch self {
            case .available: 0
            case .busy: 1
            case .offline: 2
            }
        }
    }

    public var id: UUID
    public var displayName: String
    public var bio: String
    public var avatarURL: String?
    public var categories: [String]
    public var languages: [String]
    public var ratePerMinute: Int64
    public var currency: String
    public var presence: Presence
}

/// What an Advisor may change about themselves; nil leaves a field as it is.
public struct AdvisorProfileChange: Sendable, Equatable {
    public var bio: String?
    public var avatarURL: String?
    public var categories: [String]?
    public var languages: [String]?
    public var ratePerMinute: Int64?
    /// `available` or `offline`; `busy` is the service's to set.
    public var presence: Advisor.Presence?

    public init(
        bio: String? = nil, avatarURL: String? = nil, categories: [String]? = nil, languages: [String]? = nil, ratePerMinute: Int64? = nil,
        presence: Advisor.Presence? = nil
    ) {
        self.bio = bio
        self.avatarURL = avatarURL
        self.categories = categories
        self.languages = languages
        self.ratePerMinute = ratePerMinute
        self.presence = presence
    }
}
