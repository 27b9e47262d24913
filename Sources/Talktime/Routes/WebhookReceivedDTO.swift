/// The acknowledgement of a verified webhook delivery, processed now or before.
struct WebhookReceivedDTO: Encodable {
    let received = true
}
