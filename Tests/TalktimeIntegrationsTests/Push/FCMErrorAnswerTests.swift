import Foundation
import Testing

@testable import TalktimeIntegrations

/// Which of FCM's error bodies say the registration token is dead: only those about the token itself.
@Suite struct FCMErrorAnswerTests {
    func answer(_ json: String) throws -> FCMErrorAnswer {
        try JSONDecoder().decode(FCMErrorAnswer.self, from: Data(json.utf8))
    }

    @Test func unregisteredIsRead() throws {
        let body = """
            {"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
              "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}
            """
        let error = try answer(body)
        #expect(error.isUnregistered)
        #expect(!error.isInvalidToken)
        #expect(error.summary == "NOT_FOUND UNREGISTERED")
    }

    @Test func aNotFoundWithoutUnregisteredIsNotAboutTheDevice() throws {
        let error = try answer(#"{"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}}"#)
        #expect(!error.isUnregistered)
    }

    @Test func theMessageFCMWritesForAMalformedTokenIsAboutTheToken() throws {
        let body = """
            {"error": {"code": 400, "message": "The registration token is not a valid FCM registration token", "status": "INVALID_ARGUMENT",
              "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"}]}}
            """
        #expect(try answer(body).isInvalidToken)
    }

    @Test func aFieldViolationOnTheTokenIsAboutTheToken() throws {
        let body = """
            {"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT",
              "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}]}]}}
            """
        #expect(try answer(body).isInvalidToken)
    }

    @Test(arguments: ["message.data[0].value", "message.android.ttl", "message.token.extra"])
    func aFieldViolationElsewhereIsNot(field: String) throws {
        let body = """
            {"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT",
              "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "\(field)", "description": "Invalid value"}]}]}}
            """
        #expect(try !answer(body).isInvalidToken)
    }

    @Test func aViolationOnTheTokenAndAnotherFieldIsNotTakenAsADeadDevice() throws {
        let body = """
            {"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT",
              "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "message.token"}, {"field": "message.data"}]}]}}
            """
        #expect(try !answer(body).isInvalidToken)
    }

    @Test func aGenericInvalidArgumentIsNot() throws {
        let body = #"{"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}}"#
        #expect(try !answer(body).isInvalidToken)
    }

    @Test func theSummaryRepeatsOnlyCodesNeverFreeText() throws {
        let body = """
            {"error": {"code": 400, "message": "token fcm-secret-123 is bad", "status": "INVALID_ARGUMENT",
              "details": [{"@type": "x", "errorCode": "fcm-secret-123"}]}}
            """
        #expect(try answer(body).summary == "INVALID_ARGUMENT")
    }
}
