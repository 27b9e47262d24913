import Foundation
import TalktimeCore

/// Request and response bodies of the advisor, device and call routes.
enum CallDTO {
    struct StartCall: Decodable {
        let advisorId: UUID
    }

    struct Call: Encodable {
        let id: UUID
        let status: String
        let callerId: UUID
        let advisorId: UUID
        let currency: String
        let ratePerMinute: Int64
        let incrementSeconds: Int
        let incrementPrice: Int64
        let billedIncrements: Int
        let billedAmount: Int64
        let createdAt: Date
        let ringDeadline: Date
        let answeredAt: Date?
        let paidUntil: Date?
        let endedAt: Date?
        let endReason: String?

        init(_ call: TalktimeCore.Call) {
            id = call.id
            status = call.status.rawValue
            callerId = call.callerID
            advisorId = call.advisorID
            currency = call.price.currency
            ratePerMinute = call.price.ratePerMinute
            incrementSeconds = call.price.incrementSeconds
            incrementPrice = call.price.incrementPrice
            billedIncrements = call.billedIncrements
            billedAmount = call.billedAmount
            createdAt = call.createdAt
            ringDeadline = call.ringDeadline
            answeredAt = call.answeredAt
            paidUntil = call.status == .active ? call.paidUntil : nil
            endedAt = call.endedAt
            endReason = call.endReason?.rawValue
        }

        // Absent dates and reasons are written as null, so every call has the same keys.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(status, forKey: .status)
            try container.encode(callerId, forKey: .callerId)
            try container.encode(advisorId, forKey: .advisorId)
            try container.encode(currency, forKey: .currency)
            try container.encode(ratePerMinute, forKey: .ratePerMinute)
            try container.encode(incrementSeconds, forKey: .incrementSeconds)
            try container.encode(incrementPrice, forKey: .incrementPrice)
            try container.encode(billedIncrements, forKey: .billedIncrements)
            try container.encode(billedAmount, forKey: .billedAmount)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(ringDeadline, forKey: .ringDeadline)
            try container.encode(answeredAt, forKey: .answeredAt)
            try container.encode(paidUntil, forKey: .paidUntil)
            try container.encode(endedAt, forKey: .endedAt)
            try container.encode(endReason, forKey: .endReason)
        }

        private enum CodingKeys: String, CodingKey {
            case id, status, callerId, advisorId, currency, ratePerMinute, incrementSeconds, incrementPrice, billedIncrements, billedAmount
            case createdAt, ringDeadline, answeredAt, paidUntil, endedAt, endReason
        }
    }

    struct LiveKit: Encodable {
        let url: String
        let room: String
        let token: String

        init(_ join: RoomJoin) {
            url = join.url
            room = join.room
            token = join.token
        }
    }

    struct CallWithLiveKit: Encodable {
        let call: Call
        let livekit: LiveKit

        init(_ value: CallWithJoin) {
            call = Call(value.call)
            livekit = LiveKit(value.join)
        }
    }

    struct Advisor: Encodable {
        let id: UUID
        let displayName: String
        let bio: String
        let avatarUrl: String?
        let categories: [String]
        let languages: [String]
        let ratePerMinute: Int64
        let currency: String
        let presence: String

        init(_ advisor: TalktimeCore.Advisor) {
            id = advisor.id
            displayName = advisor.displayName
            bio = advisor.bio
            avatarUrl = advisor.avatarURL
            categories = advisor.categories
            languages = advisor.languages
            ratePerMinute = advisor.ratePerMinute
            currency = advisor.currency
            presence = advisor.presence.rawValue
        }

        // A missing avatar is written as null, so every Advisor has the same keys.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(displayName, forKey: .displayName)
            try container.encode(bio, forKey: .bio)
            try container.encode(avatarUrl, forKey: .avatarUrl)
            try container.encode(categories, forKey: .categories)
            try container.encode(languages, forKey: .languages)
            try container.encode(ratePerMinute, forKey: .ratePerMinute)
            try container.encode(currency, forKey: .currency)
            try container.encode(presence, forKey: .presence)
        }

        private enum CodingKeys: String, CodingKey {
            case id, displayName, bio, avatarUrl, categories, languages, ratePerMinute, currency, presence
        }
    }

    struct UpdateAdvisor: Decodable {
        let bio: String?
        let avatarUrl: String?
        let categories: [String]?
        let languages: [String]?
        let ratePerMinute: Int64?
        let presence: TalktimeCore.Advisor.Presence?

        private enum CodingKeys: String, CodingKey {
            case bio, avatarUrl, categories, languages, ratePerMinute, presence
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // A field may be left out (unchanged) but not null, as the schema says: null would read as "unchanged".
            for key in container.allKeys where try container.decodeNil(forKey: key) {
                throw DecodingError.valueNotFound(
                    String.self, .init(codingPath: [key], debugDescription: "A field may be left out, but not null."))
            }
            bio = try container.decodeIfPresent(String.self, forKey: .bio)
            avatarUrl = try container.decodeIfPresent(String.self, forKey: .avatarUrl)
            categories = try container.decodeIfPresent([String].self, forKey: .categories)
            languages = try container.decodeIfPresent([String].self, forKey: .languages)
            ratePerMinute = try container.decodeIfPresent(Int64.self, forKey: .ratePerMinute)
            presence = try container.decodeIfPresent(TalktimeCore.Advisor.Presence.self, forKey: .presence)
        }

        var change: AdvisorProfileChange {
            AdvisorProfileChange(
                bio: bio, avatarURL: avatarUrl, categories: categories, languages: languages, ratePerMinute: ratePerMinute, presence: presence)
        }
    }

    struct SetAdvisorApproval: Decodable {
        let status: AdvisorApprovalStatus
    }

    struct AdvisorApproval: Encodable {
        let id: UUID
        let approvalStatus: String
    }

    /// An Advisor in the admins' list.
    struct AdminAdvisor: Encodable {
        let id: UUID
        let displayName: String
        let email: String
        let approvalStatus: String
        let presence: String
        let joinedAt: Date

        init(_ entry: AdvisorApprovals.Entry) {
            id = entry.id
            displayName = entry.displayName
            email = entry.email
            approvalStatus = entry.approvalStatus.rawValue
            presence = entry.presence.rawValue
            joinedAt = entry.joinedAt
        }
    }

    struct RegisterDevice: Decodable {
        let platform: DevicePlatform
        let token: String
    }

    struct Device: Encodable {
        let id: UUID
        let platform: String
        let createdAt: Date

        init(_ device: DeviceRegistry.Device) {
            id = device.id
            platform = device.platform.rawValue
            createdAt = device.createdAt
        }
    }
}
