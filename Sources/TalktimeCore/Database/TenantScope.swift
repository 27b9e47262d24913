import Foundation

/// Which tenant rows a database transaction may touch.
///
/// Row level security policies read two transaction-local settings: `talktime.licensee_id` and
/// `talktime.platform_scope`. A transaction that sets neither sees no tenant rows at all.
public enum TenantScope: Sendable, Hashable {
    /// One Licensee's rows: everything an End User, Advisor or Licensee admin does.
    case licensee(UUID)
    /// Every tenant's rows: platform admins and background work that spans tenants.
    case platform
}
