import Foundation

/// Reads the migrations of a folder, in order of version.
///
/// Every `.sql` file must be named `NNNN_verb_noun.sql`: a misnamed file is an error rather than a migration
/// silently skipped.
public enum MigrationDirectory {
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func load(_ directory: String) throws(LoadError) -> [Migration] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw LoadError(description: "cannot read the migrations folder '\(directory)' (set MIGRATIONS_DIRECTORY)")
        }
        var migrations: [Migration] = []
        for file in files.sorted() where file.hasSuffix(".sql") {
            guard let (version, name) = parse(fileName: file) else {
                throw LoadError(description: "'\(file)' is not named NNNN_verb_noun.sql")
            }
            guard let sql = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else {
                throw LoadError(description: "cannot read '\(file)' as UTF-8")
            }
            if let clash = migrations.first(where: { $0.version == version }) {
                throw LoadError(description: "'\(file)' and '\(clash.fileName)' share version \(version)")
            }
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    static func parse(fileName: String) -> (Int, String)? {
        let stem = fileName.dropLast(".sql".count)
        let parts = stem.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0,
            parts[1].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        return (version, String(parts[1]))
    }
}
