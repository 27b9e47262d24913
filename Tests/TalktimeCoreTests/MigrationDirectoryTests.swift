import Foundation
import Testing

@testable import TalktimeCore

let repositoryMigrationsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("db/migrations").path

@Suite struct MigrationDirectoryTests {
    @Test func loadsFilesInVersionOrderWithChecksums() throws {
        let directory = try temporaryDirectory(files: ["0002_add_b.sql": "SELECT 2;", "0001_add_a.sql": "SELECT 1;", "README.md": "not sql"])
        let migrations = try MigrationDirectory.load(directory)
        #expect(migrations.map(\.fileName) == ["0001_add_a.sql", "0002_add_b.sql"])
        #expect(migrations[0].checksum.count == 64)
        #expect(migrations[0].checksum != migrations[1].checksum)
    }

    @Test(arguments: ["1_short.sql", "0001-dash.sql", "0001_Upper.sql", "abcd_name.sql", "0000_zero.sql"])
    func refusesMisnamedFiles(name: String) throws {
        let directory = try temporaryDirectory(files: [name: "SELECT 1;"])
        #expect(throws: MigrationDirectory.LoadError.self) { try MigrationDirectory.load(directory) }
    }

    @Test func refusesTwoFilesWithOneVersion() throws {
        let directory = try temporaryDirectory(files: ["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"])
        #expect(throws: MigrationDirectory.LoadError.self) { try MigrationDirectory.load(directory) }
    }

    @Test func refusesAMissingDirectory() {
        #expect(throws: MigrationDirectory.LoadError.self) { try MigrationDirectory.load("/nonexistent/migrations") }
    }
}

/// A fresh folder holding `files` (name to contents).
func temporaryDirectory(files: [String: String]) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("talktime-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, contents) in files {
        try contents.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return directory.path
}
