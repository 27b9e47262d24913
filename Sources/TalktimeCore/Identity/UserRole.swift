/// The four kinds of account. Platform admins belong to no Licensee; the other three belong to exactly one.
public enum UserRole: String, Sendable, CaseIterable, Codable {
    case platformAdmin = "platform_admin"
    case licenseeAdmin = "licensee_admin"
    case advisor
    case endUser = "end_user"
}
