import Testing

@testable import TalktimeCore

@Suite struct SQLStatementSplitterTests {
    @Test func splitsOnTopLevelSemicolons() {
        #expect(SQLStatementSplitter.split("SELECT 1; SELECT 2;\nSELECT 3") == ["SELECT 1", "SELECT 2", "SELECT 3"])
    }

    @Test func keepsSemicolonsInsideStringsIdentifiersAndComments() {
        let sql = """
            INSERT INTO t VALUES ('a;b', 'it''s; fine', E'back\\'slash;');
            CREATE TABLE "odd;name" (x int); -- trailing; comment
            /* block; /* nested; */ still comment; */ SELECT 2;
            """
        let statements = SQLStatementSplitter.split(sql)
        #expect(statements.count == 3)
        #expect(statements[0] == "INSERT INTO t VALUES ('a;b', 'it''s; fine', E'back\\'slash;')")
        #expect(statements[1] == "CREATE TABLE \"odd;name\" (x int)")
        #expect(statements[2].hasSuffix("SELECT 2"))
    }

    @Test func keepsDollarQuotedBodiesWhole() {
        let sql = """
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;
            CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $$ SELECT 'x;y' $$;
            PREPARE p AS SELECT $1::int;
            """
        let statements = SQLStatementSplitter.split(sql)
        #expect(statements.count == 3)
        #expect(statements[0].hasSuffix("$body$ BEGIN RETURN 1; END $body$"))
        #expect(statements[1].hasSuffix("$$ SELECT 'x;y' $$"))
        #expect(statements[2] == "PREPARE p AS SELECT $1::int")
    }

    @Test func dropsCommentOnlyAndEmptyStatements() {
        #expect(SQLStatementSplitter.split("-- only a comment\n;;  \n/* and this */") == [])
    }

    @Test func splitsEveryRepositoryMigrationIntoStatements() throws {
        // The real files go through the same splitter on every migrate; none may hide a statement in a comment.
        let migrations = try MigrationDirectory.load(repositoryMigrationsDirectory)
        #expect(!migrations.isEmpty)
        for migration in migrations {
            let statements = SQLStatementSplitter.split(migration.sql)
            #expect(!statements.isEmpty, "\(migration.fileName)")
            #expect(statements.allSatisfy { !$0.hasPrefix("--") || $0.contains("\n") }, "\(migration.fileName)")
        }
    }
}
