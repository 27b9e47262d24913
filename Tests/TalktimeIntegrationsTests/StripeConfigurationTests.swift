import Testing

@testable import TalktimeIntegrations

@Suite struct StripeConfigurationTests {
    @Test func defaultsPointAtStripe() {
        let configuration = StripeConfiguration()
        #expect(configuration.baseURL == "https://api.stripe.com")
        #expect(configuration.webhookTolerance == .seconds(300))
    }
}
