/// How the database's recorded migrations compare with the files this build carries.
public struct MigrationStatus: Sendable {
    /// Recorded and identical to the file of the same number.
    public var applied: [AppliedMigration]
    /// Files not yet recorded: `talktime migrate` applies them.
    public var pending: [Migration]
    /// Recorded, but the file under that number differs: someone edited a landed migration.
    public var altered: [Migration]
    /// Recorded, but no file has that number: the database is ahead of this build.
    public var unknown: [AppliedMigration]

    public init(files: [Migration], recorded: [AppliedMigration]) {
        let recordedByVersion = Dictionary(uniqueKeysWithValues: recorded.map { ($0.version, $0) })
        let fileVersions = Set(files.map(\.version))
        applied = recorded.filter { row in files.contains { $0.version == row.version && $0.checksum == row.checksum } }
        pending = files.filter { recordedByVersion[$0.version] == nil }
        altered = files.filter { file in recordedByVersion[file.version].map { $0.checksum != file.checksum } ?? false }
        unknown = recorded.filter { !fileVersions.contains($0.version) }
    }

    /// The schema is exactly what this build expects.
    public var isCurrent: Bool { pending.isEmpty && altered.isEmpty && unknown.isEmpty }

    /// One line per problem, each saying what to do about it.
    public var problems: [String] {
        var lines: [String] = []
        if !pending.isEmpty {
            lines.append("pending migrations \(pending.map(\.fileName).joined(separator: ", ")): run `talktime migrate`")
        }
        for migration in altered {
            lines.append(
                "\(migration.fileName) differs from the version applied to this database: restore the file; "
                    + "a landed migration is never edited, add a new one instead")
        }
        for migration in unknown {
            lines.append(
                "migration \(migration.fileName) is recorded in the database but not in this build: "
                    + "deploy the build that carries it, or check MIGRATIONS_DIRECTORY")
        }
        return lines
    }
}

/// The schema does not match this build; the service refuses to start (or to report ready) on it.
public struct SchemaNotCurrentError: Error, CustomStringConvertible {
    public let status: MigrationStatus

    public var description: String {
        "The database schema is not the one this build expects:\n" + status.problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}
